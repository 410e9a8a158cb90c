package shop_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
	"github.com/cqrsbench/cqrsbench/internal/pgtest"
	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"github.com/cqrsbench/cqrsbench/reference/cqrsmatview"
	"github.com/cqrsbench/cqrsbench/reference/cqrssync"
	"github.com/cqrsbench/cqrsbench/reference/datagen"
	"github.com/cqrsbench/cqrsbench/reference/shop"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

var shared = pgtest.NewShared(pglocal.Options{Settings: map[string]string{"shared_buffers": "128MB"}})

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Close()
	os.Exit(code)
}

func setUp(t *testing.T, arch string) *pgxpool.Pool {
	t.Helper()
	pool := shared.Pool(t)
	ctx := t.Context()
	if _, err := datagen.Load(ctx, pool, catalog.MustLookup(arch).Schema, datagen.Config{Orders: 3000, Seed: 5}, nil); err != nil {
		t.Fatal(err)
	}
	var sys reference.System
	var err error
	if arch == "cqrs-sync" {
		sys, err = cqrssync.New(pool, "")
	} else {
		sys, err = cqrsmatview.New(pool, "", time.Hour)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := sys.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	return pool
}

// check reconciles the named architecture's read models in its schema.
func check(ctx context.Context, t *testing.T, pool *pgxpool.Pool, arch string) report {
	t.Helper()
	d := catalog.MustLookup(arch)
	diffs, err := shop.Workload{}.Check(ctx, pool, d.Schema, d.ReadModels)
	if err != nil {
		t.Fatalf("check %s: %v", arch, err)
	}
	return diffs
}

// report is a check's diffs.
type report []workload.Diff

func (r report) Violations() int64 {
	var n int64
	for _, d := range r {
		n += d.Violations()
	}
	return n
}

func mustExec(t *testing.T, pool *pgxpool.Pool, sql string) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// TestCheckCountsEachKindOfDamage starts from a correct read model, checks
// it is clean, then damages it in known ways and checks each is counted.
func TestCheckCountsEachKindOfDamage(t *testing.T) {
	pool := setUp(t, "cqrs-sync")
	ctx := t.Context()
	rep := check(ctx, t, pool, "cqrs-sync")
	if rep.Violations() != 0 || len(rep) != 2 || rep[0].Expected != 3000 || rep[1].Expected == 0 {
		t.Fatalf("fresh read model: %+v", rep)
	}

	mustExec(t, pool, `DELETE FROM cqrs_sync.order_read_model WHERE order_id IN (1, 2)`)                        // lost
	mustExec(t, pool, `UPDATE cqrs_sync.order_read_model SET total_cents = total_cents + 1 WHERE order_id = 3`) // wrong field
	mustExec(t, pool, `INSERT INTO cqrs_sync.order_read_model (order_id, customer_id, number, created_at, status, status_label, total_cents, item_count, version)
		VALUES (999999, 1, 'ORD-X', now(), 'cart', 'In your cart', 0, 0, 1)`) // extra
	mustExec(t, pool, `UPDATE cqrs_sync.daily_sales SET orders = orders + 1 WHERE (day, status) IN (SELECT day, status FROM cqrs_sync.daily_sales LIMIT 1)`) // double count

	rep = check(ctx, t, pool, "cqrs-sync")
	orders, sales := rep[0], rep[1]
	if orders.Missing != 2 || orders.Extra != 1 || orders.Mismatched != 1 {
		t.Errorf("orders diff %+v, want 2 missing, 1 extra, 1 mismatched", orders)
	}
	if sales.Mismatched != 1 || sales.Missing != 0 || sales.Extra != 0 {
		t.Errorf("daily_sales diff %+v, want 1 mismatched", sales)
	}
	if len(orders.Samples) != 4 || !strings.HasPrefix(orders.Samples[0], "1: expected (1,") || !strings.Contains(orders.Samples[3], "999999: expected  actual (999999,") {
		t.Errorf("samples %q", orders.Samples)
	}
	if rep.Violations() != 5 {
		t.Errorf("violations %d, want 5", rep.Violations())
	}
}

// TestCheckMatviewAndCRUD checks the materialized views (stale until
// refreshed) and that crud, with no read model, has nothing to check.
func TestCheckMatviewAndCRUD(t *testing.T) {
	pool := setUp(t, "cqrs-matview")
	ctx := t.Context()
	if rep := check(ctx, t, pool, "cqrs-matview"); rep.Violations() != 0 {
		t.Fatalf("fresh views: %+v", rep)
	}
	mustExec(t, pool, `UPDATE cqrs_matview.orders SET status = 'cancelled', version = version + 1 WHERE id = (SELECT min(id) FROM cqrs_matview.orders WHERE status <> 'cancelled')`)
	rep := check(ctx, t, pool, "cqrs-matview")
	if rep[0].Mismatched != 1 || rep[1].Violations() == 0 {
		t.Errorf("unrefreshed views after a write: %+v, want the order and its day's sales to differ", rep)
	}
	if crud := check(ctx, t, pool, "crud"); len(crud) != 0 {
		t.Errorf("crud: %+v", crud)
	}
}
