package check_test

import (
	"context"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/check"
	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
	"github.com/cqrsbench/cqrsbench/internal/pgtest"
	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/cqrsmatview"
	"github.com/cqrsbench/cqrsbench/reference/cqrssync"
	"github.com/cqrsbench/cqrsbench/reference/datagen"
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
	rep, err := check.Check(ctx, pool, catalog.MustLookup("cqrs-sync"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Violations() != 0 || len(rep.Diffs) != 2 || rep.Diffs[0].Expected != 3000 || rep.Diffs[1].Expected == 0 {
		t.Fatalf("fresh read model: %+v", rep)
	}

	mustExec(t, pool, `DELETE FROM cqrs_sync.order_read_model WHERE order_id IN (1, 2)`)                        // lost
	mustExec(t, pool, `UPDATE cqrs_sync.order_read_model SET total_cents = total_cents + 1 WHERE order_id = 3`) // wrong field
	mustExec(t, pool, `INSERT INTO cqrs_sync.order_read_model (order_id, customer_id, number, created_at, status, status_label, total_cents, item_count, version)
		VALUES (999999, 1, 'ORD-X', now(), 'cart', 'In your cart', 0, 0, 1)`) // extra
	mustExec(t, pool, `UPDATE cqrs_sync.daily_sales SET orders = orders + 1 WHERE (day, status) IN (SELECT day, status FROM cqrs_sync.daily_sales LIMIT 1)`) // double count

	rep, err = check.Check(ctx, pool, catalog.MustLookup("cqrs-sync"))
	if err != nil {
		t.Fatal(err)
	}
	orders, sales := rep.Diffs[0], rep.Diffs[1]
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
	rep, err := check.Check(ctx, pool, catalog.MustLookup("cqrs-matview"))
	if err != nil || rep.Violations() != 0 {
		t.Fatalf("fresh views: %+v %v", rep, err)
	}
	mustExec(t, pool, `UPDATE cqrs_matview.orders SET status = 'cancelled', version = version + 1 WHERE id = (SELECT min(id) FROM cqrs_matview.orders WHERE status <> 'cancelled')`)
	rep, err = check.Check(ctx, pool, catalog.MustLookup("cqrs-matview"))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Diffs[0].Mismatched != 1 || rep.Diffs[1].Violations() == 0 {
		t.Errorf("unrefreshed views after a write: %+v, want the order and its day's sales to differ", rep)
	}
	crud, err := check.Check(ctx, pool, catalog.MustLookup("crud"))
	if err != nil || len(crud.Diffs) != 0 {
		t.Errorf("crud: %+v %v", crud, err)
	}
}
