package crud_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
	"github.com/cqrsbench/cqrsbench/reference/crud"
	"github.com/cqrsbench/cqrsbench/reference/datagen"
)

// TestQueriesUseIndexes guards against a strawman baseline: the CRUD
// queries must reach one customer's orders and their lines, and one day's
// orders, through indexes, never by scanning orders or order_lines.
func TestQueriesUseIndexes(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	if _, err := pglocal.FindBinDir(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	ctx := t.Context()
	c, err := pglocal.Start(ctx, pglocal.Options{Settings: map[string]string{"shared_buffers": "128MB"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	pool, err := pgxpool.New(ctx, c.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := datagen.Load(ctx, pool, "crud", datagen.Config{Orders: 50_000, Seed: 1}, nil); err != nil {
		t.Fatal(err)
	}
	for _, q := range []struct {
		name, sql string
		arg       any
	}{
		{"list_orders", crud.ListOrdersSQL, int64(42)},
		{"sales_dashboard", crud.SalesDashboardSQL, time.Now().UTC().Truncate(24 * time.Hour)},
	} {
		sql := strings.ReplaceAll(q.sql, "{{schema}}", "crud")
		rows, err := pool.Query(ctx, "EXPLAIN "+sql, q.arg)
		if err != nil {
			t.Fatalf("explain %s: %v", q.name, err)
		}
		var lines []string
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, line)
		}
		plan := strings.Join(lines, "\n")
		for _, table := range []string{"orders", "order_lines"} {
			if strings.Contains(plan, "Seq Scan on "+table+" ") || strings.Contains(plan, "Seq Scan on crud."+table+" ") {
				t.Errorf("%s scans %s sequentially:\n%s", q.name, table, plan)
			}
		}
		if !strings.Contains(plan, "Index") {
			t.Errorf("%s uses no index:\n%s", q.name, plan)
		}
		t.Logf("%s plan:\n%s", q.name, plan)
	}
}
