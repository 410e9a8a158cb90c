package shop

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

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

// checkSQL diffs both read models in one statement, so the summaries the
// write model implies ({{summary}}, the costly part) are computed once, from
// one snapshot: the order read model ({{rm}}) against them row by row, and
// the daily sales aggregate ({{sales}}; rows whose counts went back to zero
// are equivalent to absent ones) against their aggregation ({{daily}}). One
// row per table: expected rows, missing, extra, mismatched, samples.
const checkSQL = `
WITH s AS MATERIALIZED ({{summary}}),
a AS (SELECT ` + orderColumns + ` FROM {{schema}}.{{rm}}),
od AS (
    SELECT coalesce(e.order_id, a.order_id) AS key, e.order_id IS NULL AS extra, a.order_id IS NULL AS missing,
           CASE WHEN e.order_id IS NULL THEN '' ELSE row(e.*)::text END AS expected,
           CASE WHEN a.order_id IS NULL THEN '' ELSE row(a.*)::text END AS actual
    FROM s e FULL JOIN a ON a.order_id = e.order_id
    WHERE e.order_id IS NULL OR a.order_id IS NULL OR row(e.*) IS DISTINCT FROM row(a.*)
),
ed AS ({{daily}}),
ad AS (SELECT day, status, label, orders, revenue_cents FROM {{schema}}.{{sales}} WHERE orders <> 0 OR revenue_cents <> 0),
sd AS (
    SELECT coalesce(e.day, a.day)::text || '/' || coalesce(e.status, a.status) AS key,
           e.day IS NULL AS extra, a.day IS NULL AS missing,
           CASE WHEN e.day IS NULL THEN '' ELSE row(e.*)::text END AS expected,
           CASE WHEN a.day IS NULL THEN '' ELSE row(a.*)::text END AS actual
    FROM ed e FULL JOIN ad a ON a.day = e.day AND a.status = e.status
    WHERE e.day IS NULL OR a.day IS NULL OR row(e.*) IS DISTINCT FROM row(a.*)
)
SELECT 1, (SELECT count(*) FROM s), count(*) FILTER (WHERE missing), count(*) FILTER (WHERE extra),
       count(*) FILTER (WHERE NOT missing AND NOT extra),
       coalesce((SELECT array_agg(x.s ORDER BY x.k) FROM (
           SELECT key AS k, key::text || ': expected ' || expected || ' actual ' || actual AS s FROM od ORDER BY key LIMIT $1) x), '{}')
FROM od
UNION ALL
SELECT 2, (SELECT count(*) FROM ed), count(*) FILTER (WHERE missing), count(*) FILTER (WHERE extra),
       count(*) FILTER (WHERE NOT missing AND NOT extra),
       coalesce((SELECT array_agg(x.s ORDER BY x.k) FROM (
           SELECT key AS k, key || ': expected ' || expected || ' actual ' || actual AS s FROM sd ORDER BY key LIMIT $1) x), '{}')
FROM sd
ORDER BY 1`

// check reconciles the read models rm names in schema, each with the rows
// the write model implies (computed with the same definition the read
// models are built from), inside PostgreSQL: a FULL JOIN of expected and
// actual rows, so a million orders check in seconds and a few differing
// rows come back as samples, in one statement that computes the expected
// rows once. A lost event shows as a missing or stale row,
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
	sql := strings.NewReplacer("{{summary}}", summary, "{{daily}}", daily, "{{rm}}", orders, "{{sales}}", sales).Replace(checkSQL)
	rows, err := db.Query(ctx, readmodel.Expand(sql, schema), workload.MaxSamples)
	if err != nil {
		return nil, fmt.Errorf("check %s.%s and %s.%s: %w", schema, orders, schema, sales, err)
	}
	diffs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (workload.Diff, error) {
		var d workload.Diff
		var table int
		err := row.Scan(&table, &d.Expected, &d.Missing, &d.Extra, &d.Mismatched, &d.Samples)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("check %s.%s and %s.%s: %w", schema, orders, schema, sales, err)
	}
	if len(diffs) != 2 {
		return nil, fmt.Errorf("check %s: %d rows, want 2", schema, len(diffs))
	}
	diffs[0].Table, diffs[1].Table = orders, sales
	return diffs, nil
}
