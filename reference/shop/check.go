package shop

import (
	"context"
	"fmt"
	"strings"

	"github.com/cqrsbench/cqrsbench/reference/readmodel"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// The shop's read models, by the names architectures' descriptors map to
// their tables (workload.ReadModels).
const (
	// OrderSummaries holds one row per order: list_orders' rows.
	OrderSummaries = "order_summaries"
	// DailySales holds orders and revenue per day and current status:
	// sales_dashboard's rows.
	DailySales = "daily_sales"
)

const orderColumns = "order_id, customer_id, number, created_at, status, status_label, total_cents, item_count, first_image_url, version"

// ordersSQL diffs the order read model ({{rm}}) with the summaries the write
// model implies.
const ordersSQL = `
WITH e AS ({{summary}}),
a AS (SELECT ` + orderColumns + ` FROM {{schema}}.{{rm}}),
d AS (
    SELECT coalesce(e.order_id, a.order_id) AS key, e.order_id IS NULL AS extra, a.order_id IS NULL AS missing,
           CASE WHEN e.order_id IS NULL THEN '' ELSE row(e.*)::text END AS expected,
           CASE WHEN a.order_id IS NULL THEN '' ELSE row(a.*)::text END AS actual
    FROM e FULL JOIN a ON a.order_id = e.order_id
    WHERE e.order_id IS NULL OR a.order_id IS NULL OR row(e.*) IS DISTINCT FROM row(a.*)
)
SELECT (SELECT count(*) FROM e), count(*) FILTER (WHERE missing), count(*) FILTER (WHERE extra),
       count(*) FILTER (WHERE NOT missing AND NOT extra),
       coalesce((SELECT array_agg(s ORDER BY k) FROM (
           SELECT key AS k, key::text || ': expected ' || expected || ' actual ' || actual AS s FROM d ORDER BY key LIMIT $1) x), '{}')
FROM d`

// salesSQL diffs the daily sales aggregate ({{sales}}; rows whose counts
// went back to zero are equivalent to absent ones) with the aggregation of
// the expected summaries.
const salesSQL = `
WITH s AS ({{summary}}),
e AS ({{daily}}),
a AS (SELECT day, status, label, orders, revenue_cents FROM {{schema}}.{{sales}} WHERE orders <> 0 OR revenue_cents <> 0),
d AS (
    SELECT coalesce(e.day, a.day)::text || '/' || coalesce(e.status, a.status) AS key,
           e.day IS NULL AS extra, a.day IS NULL AS missing,
           CASE WHEN e.day IS NULL THEN '' ELSE row(e.*)::text END AS expected,
           CASE WHEN a.day IS NULL THEN '' ELSE row(a.*)::text END AS actual
    FROM e FULL JOIN a ON a.day = e.day AND a.status = e.status
    WHERE e.day IS NULL OR a.day IS NULL OR row(e.*) IS DISTINCT FROM row(a.*)
)
SELECT (SELECT count(*) FROM e), count(*) FILTER (WHERE missing), count(*) FILTER (WHERE extra),
       count(*) FILTER (WHERE NOT missing AND NOT extra),
       coalesce((SELECT array_agg(s ORDER BY k) FROM (
           SELECT key AS k, key || ': expected ' || expected || ' actual ' || actual AS s FROM d ORDER BY key LIMIT $1) x), '{}')
FROM d`

// check reconciles the read models rm names in schema, each with the rows
// the write model implies (computed with the same definition the read
// models are built from), inside PostgreSQL: a FULL JOIN of expected and
// actual rows, so a million orders check in seconds and a few differing
// rows come back as samples. A lost event shows as a missing or stale row,
// a duplicate applied twice as a wrong daily_sales count or revenue.
func check(ctx context.Context, db workload.DB, schema string, rm workload.ReadModels) ([]workload.Diff, error) {
	if len(rm) == 0 {
		return nil, nil
	}
	orders, sales := rm[OrderSummaries], rm[DailySales]
	if orders == "" || sales == "" || len(rm) != 2 {
		return nil, fmt.Errorf("shop: read models %v: want %s and %s", rm, OrderSummaries, DailySales)
	}
	summary := strings.ReplaceAll(readmodel.SummarySQL, "{{orders}}", "{{schema}}.orders")
	daily := strings.ReplaceAll(readmodel.DailySalesSQL, "{{summaries}}", "s")
	var diffs []workload.Diff
	for _, q := range []struct{ table, sql string }{
		{orders, strings.NewReplacer("{{summary}}", summary, "{{rm}}", orders).Replace(ordersSQL)},
		{sales, strings.NewReplacer("{{summary}}", summary, "{{daily}}", daily, "{{sales}}", sales).Replace(salesSQL)},
	} {
		d := workload.Diff{Table: q.table}
		if err := db.QueryRow(ctx, readmodel.Expand(q.sql, schema), workload.MaxSamples).Scan(&d.Expected, &d.Missing, &d.Extra, &d.Mismatched, &d.Samples); err != nil {
			return diffs, fmt.Errorf("check %s.%s: %w", schema, q.table, err)
		}
		diffs = append(diffs, d)
	}
	return diffs, nil
}
