package datagen_test

import (
	"context"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference/datagen"
)

// benchOrdersEnv sizes BenchmarkLoad.
const benchOrdersEnv = "CQRSBENCH_BENCH_ORDERS"

// tables are the generated tables, keyed for the per-table content check by
// their primary key columns.
var tableKeys = map[string]string{
	"customers": "id", "addresses": "id", "products": "id", "product_images": "id",
	"orders": "id", "order_lines": "order_id, line_no", "status_labels": "status",
}

func load(t *testing.T, pool *pgxpool.Pool, schema string, cfg datagen.Config) (datagen.Stats, []datagen.Progress) {
	t.Helper()
	var reports []datagen.Progress
	stats, err := datagen.Load(t.Context(), pool, schema, cfg, func(p datagen.Progress) { reports = append(reports, p) })
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	t.Logf("loaded %d orders into %s:\n%s", cfg.Orders, schema, stats)
	return stats, reports
}

func TestLoad(t *testing.T) {
	pool := testPool(t)
	ctx := t.Context()
	cfg := datagen.Config{Orders: 20_000, Seed: 5, Today: day}
	schema := freshSchema(t, pool, "datagen_load")
	stats, reports := load(t, pool, schema, cfg)
	q := func(sql string, args ...any) pgx.Row {
		return pool.QueryRow(ctx, strings.ReplaceAll(sql, "S.", pgx.Identifier{schema}.Sanitize()+"."), args...)
	}

	t.Run("row counts", func(t *testing.T) {
		g, err := datagen.New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, tab := range g.Tables() {
			var n int64
			if err := q(`SELECT count(*) FROM S.` + tab.Name).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != tab.Rows || stats.Rows(tab.Name) != n {
				t.Errorf("%s: %d rows in the table, %d in Stats, %d generated", tab.Name, n, stats.Rows(tab.Name), tab.Rows)
			}
		}
		var lines int64
		if err := q(`SELECT count(*) FROM S.order_lines`).Scan(&lines); err != nil {
			t.Fatal(err)
		}
		if lines < 2*int64(cfg.Orders) || lines > 4*int64(cfg.Orders) {
			t.Errorf("%d lines for %d orders, want about 3 per order", lines, cfg.Orders)
		}
	})

	t.Run("phases and progress", func(t *testing.T) {
		var phases []string
		for _, p := range stats.Phases {
			phases = append(phases, p.Name)
		}
		want := []string{datagen.PhaseCreate, datagen.PhaseCopy, "indexes", "keys", "analyze", "foreign keys", "validate", "sequences"}
		if !slices.Equal(phases, want) {
			t.Errorf("phases = %q, want %q", phases, want)
		}
		var seen []string
		last := datagen.Progress{}
		for _, p := range reports {
			if p.Phase != last.Phase {
				if last.Phase != "" && last.Done != last.Total {
					t.Errorf("phase %s ended at %d of %d", last.Phase, last.Done, last.Total)
				}
				seen = append(seen, p.Phase)
			} else if p.Done < last.Done {
				t.Errorf("phase %s went back from %d to %d", p.Phase, last.Done, p.Done)
			}
			if p.Done > p.Total || p.Total <= 0 {
				t.Errorf("bad progress %+v", p)
			}
			last = p
		}
		if !slices.Equal(seen, want) || last.Done != last.Total {
			t.Errorf("progress phases = %q (last %+v), want %q", seen, last, want)
		}
		if n := len(reports); n > 100 {
			t.Errorf("%d progress reports for %d orders: too chatty", n, cfg.Orders)
		}
	})

	t.Run("constraints and indexes", func(t *testing.T) {
		var fks, validated, pks, indexes int
		if err := q(`SELECT count(*) FILTER (WHERE contype = 'f'), count(*) FILTER (WHERE contype = 'f' AND convalidated),
				count(*) FILTER (WHERE contype = 'p') FROM pg_constraint WHERE connamespace = $1::regnamespace`, schema).Scan(&fks, &validated, &pks); err != nil {
			t.Fatal(err)
		}
		if err := q(`SELECT count(*) FROM pg_indexes WHERE schemaname = $1`, schema).Scan(&indexes); err != nil {
			t.Fatal(err)
		}
		if fks != 7 || validated != 7 || pks != 8 || indexes != 15 {
			t.Errorf("%d foreign keys (%d validated), %d primary keys, %d indexes; want 7 (7), 8, 15", fks, validated, pks, indexes)
		}
		var analyzed, visible bool
		if err := q(`SELECT last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'order_lines'`, schema).Scan(&analyzed); err != nil {
			t.Fatal(err)
		}
		// COPY FREEZE marks the loaded pages all-visible.
		if err := q(`SELECT relallvisible > 0 AND relallvisible = relpages FROM pg_class WHERE oid = $1::regclass`, schema+".orders").Scan(&visible); err != nil {
			t.Fatal(err)
		}
		if !analyzed || !visible {
			t.Errorf("order_lines analyzed: %v; orders all visible: %v", analyzed, visible)
		}
	})

	t.Run("orders per customer are skewed", func(t *testing.T) {
		var median, top, few, customers int
		if err := q(`SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY n), max(n), count(*) FILTER (WHERE n <= 3), count(*)
				FROM (SELECT count(o.id) AS n FROM S.customers c LEFT JOIN S.orders o ON o.customer_id = c.id GROUP BY c.id) per`).Scan(&median, &top, &few, &customers); err != nil {
			t.Fatal(err)
		}
		t.Logf("orders per customer: median %d, max %d, %d of %d customers with at most 3", median, top, few, customers)
		if median > 6 || top < 100 || few < customers/4 {
			t.Errorf("orders per customer: median %d (want ≤ 6), max %d (want ≥ 100), %d of %d with ≤ 3 (want ≥ 1/4)", median, top, few, customers)
		}
	})

	t.Run("status mix and dates", func(t *testing.T) {
		var first, lastDay time.Time
		var oldDone, recentOpen float64
		var statuses int
		if err := q(`SELECT min((created_at AT TIME ZONE 'UTC')::date), max((created_at AT TIME ZONE 'UTC')::date),
				avg((status IN ('shipped', 'cancelled'))::int) FILTER (WHERE created_at < $1::timestamptz - interval '7 days'),
				avg((status IN ('cart', 'confirmed'))::int) FILTER (WHERE created_at >= $1),
				count(DISTINCT status)
				FROM S.orders`, day).Scan(&first, &lastDay, &oldDone, &recentOpen, &statuses); err != nil {
			t.Fatal(err)
		}
		if !first.Equal(day.AddDate(0, 0, -datagen.HistoryDays)) || !lastDay.Equal(day) {
			t.Errorf("orders from %s to %s, want %s to %s", first.Format(time.DateOnly), lastDay.Format(time.DateOnly),
				day.AddDate(0, 0, -datagen.HistoryDays).Format(time.DateOnly), day.Format(time.DateOnly))
		}
		if statuses != 4 || oldDone < 0.9 || recentOpen < 0.5 {
			t.Errorf("%d statuses; %.0f%% of week-old orders shipped or cancelled (want ≥ 90%%), %.0f%% of today's open (want ≥ 50%%)",
				statuses, 100*oldDone, 100*recentOpen)
		}
		var bad int
		if err := q(`SELECT count(*) FROM S.orders o JOIN S.addresses a ON a.id = o.shipping_address_id
				WHERE a.customer_id <> o.customer_id OR o.updated_at < o.created_at
				   OR o.version < CASE o.status WHEN 'cart' THEN 1 WHEN 'confirmed' THEN 2 WHEN 'shipped' THEN 3 ELSE 2 END`).Scan(&bad); err != nil {
			t.Fatal(err)
		}
		if bad != 0 {
			t.Errorf("%d orders ship to another customer's address or have a version below their status", bad)
		}
	})

	t.Run("inserts after load get fresh ids", func(t *testing.T) {
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = tx.Rollback(ctx) }()
		var id int64
		if err := tx.QueryRow(ctx, strings.ReplaceAll(`INSERT INTO S.orders (number, customer_id, shipping_address_id, status, created_at, updated_at, version)
				SELECT 'ORD-NEW', customer_id, id, 'cart', now(), now(), 1 FROM S.addresses WHERE id = 1 RETURNING id`,
			"S.", pgx.Identifier{schema}.Sanitize()+".")).Scan(&id); err != nil {
			t.Fatalf("insert an order without id: %v", err)
		}
		if id != int64(cfg.Orders)+1 {
			t.Errorf("new order id = %d, want %d", id, cfg.Orders+1)
		}
		for _, table := range []string{"customers", "addresses", "products", "product_images"} {
			var next, maxID int64
			if err := tx.QueryRow(ctx, `SELECT nextval(pg_get_serial_sequence($1, 'id'))`, schema+"."+table).Scan(&next); err != nil {
				t.Fatal(err)
			}
			if err := tx.QueryRow(ctx, "SELECT max(id) FROM "+pgx.Identifier{schema, table}.Sanitize()).Scan(&maxID); err != nil {
				t.Fatal(err)
			}
			if next != maxID+1 {
				t.Errorf("%s: next id %d, max id %d", table, next, maxID)
			}
		}
	})

	t.Run("same seed gives the same tables", func(t *testing.T) {
		other := freshSchema(t, pool, "datagen_same")
		same := cfg
		same.Workers = 1 // the number of connections does not change the data
		load(t, pool, other, same)
		for table, key := range tableKeys {
			a, b := tableDigest(t, pool, schema, table, key), tableDigest(t, pool, other, table, key)
			if a != b {
				t.Errorf("%s differs between two loads of the same config", table)
			}
		}
	})

	t.Run("load replaces its own schema and refuses others", func(t *testing.T) {
		small := datagen.Config{Orders: 100, Seed: 6, Today: day}
		_, reports := load(t, pool, schema, small)
		if len(reports) == 0 {
			t.Fatal("no progress reported")
		}
		var n int
		if err := q(`SELECT count(*) FROM S.orders`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 100 {
			t.Errorf("%d orders after reloading 100", n)
		}
		foreign := schema + "_foreign"
		if _, err := pool.Exec(ctx, "CREATE SCHEMA "+foreign+"; CREATE TABLE "+foreign+".precious (x int)"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _, _ = pool.Exec(context.Background(), "DROP SCHEMA "+foreign+" CASCADE") })
		_, err := datagen.Load(ctx, pool, foreign, small, nil)
		if err == nil || !strings.Contains(err.Error(), "not created by cqrsbench") {
			t.Errorf("Load into a foreign schema = %v, want a refusal", err)
		}
	})
}

func TestLoadRejectsBadInput(t *testing.T) {
	t.Parallel()
	// Both are caught before touching the pool.
	if _, err := datagen.Load(t.Context(), nil, "crud", datagen.Config{Orders: -3}, nil); err == nil || !strings.Contains(err.Error(), "orders must be ≥ 1, got -3") {
		t.Errorf("Load with -3 orders = %v", err)
	}
	if _, err := datagen.Load(t.Context(), nil, "Bad Name", datagen.Config{Orders: 3}, nil); err == nil || !strings.Contains(err.Error(), "schema name") {
		t.Errorf("Load into schema %q = %v", "Bad Name", err)
	}
}

// tableDigest returns the md5 of every row of schema.table in key order.
func tableDigest(t *testing.T, pool *pgxpool.Pool, schema, table, key string) string {
	t.Helper()
	var sum string
	sql := "SELECT md5(string_agg(t::text, E'\\n' ORDER BY " + key + ")) FROM " + pgx.Identifier{schema, table}.Sanitize() + " t"
	if err := pool.QueryRow(t.Context(), sql).Scan(&sum); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return sum
}

// BenchmarkLoad measures a whole load — COPY, indexes, keys, ANALYZE and
// validation — of CQRSBENCH_BENCH_ORDERS orders (default 100,000; about
// 3 lines each) into a fresh schema per iteration:
//
//	CQRSBENCH_BENCH_ORDERS=1000000 go test -run '^$' -bench Load -benchtime 3x -v ./reference/datagen
func BenchmarkLoad(b *testing.B) {
	orders := 100_000
	if v := os.Getenv(benchOrdersEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("%s=%q: want a positive number", benchOrdersEnv, v)
		}
		orders = n
	}
	pool := shared.Pool(b)
	cfg := datagen.Config{Orders: orders, Seed: 1}
	var took time.Duration
	for b.Loop() {
		b.StopTimer()
		schema := shared.FreshSchema(b, pool, "datagen_bench")
		b.StartTimer()
		began := time.Now()
		stats, err := datagen.Load(b.Context(), pool, schema, cfg, nil)
		if err != nil {
			b.Fatalf("Load: %v", err)
		}
		took += time.Since(began)
		b.Logf("loaded %d orders into %s:\n%s", orders, schema, stats)
	}
	b.ReportMetric(float64(orders)*float64(b.N)/took.Seconds(), "orders/s")
}
