// Package check reconciles an architecture's read models with what its
// write model implies, row by row and field by field, once the architecture
// has caught up: a lost event shows as a missing or stale row, a duplicate
// applied twice as a wrong daily_sales count or revenue.
//
// The comparison runs inside PostgreSQL (a FULL JOIN of the expected rows,
// computed from the write model with the same definition the read models
// are built from, against the actual ones), so a million orders check in
// seconds, and a few differing rows are returned as samples.
package check

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"github.com/cqrsbench/cqrsbench/reference/readmodel"
)

// DB is what Check needs: *pgxpool.Pool, *pgx.Conn and pgx.Tx satisfy it.
type DB interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// MaxSamples is how many differing rows a Diff shows.
const MaxSamples = 5

// maxSamplesSQL is MaxSamples in SQL text.
const maxSamplesSQL = "5"

// Diff compares one read model with its expected contents.
type Diff struct {
	// Table is the read model compared.
	Table string `json:"table"`
	// Expected is the number of rows the write model implies.
	Expected int64 `json:"expected"`
	// Missing rows are expected but absent, Extra present but not
	// expected, Mismatched present with some field different.
	Missing    int64 `json:"missing"`
	Extra      int64 `json:"extra"`
	Mismatched int64 `json:"mismatched"`
	// Samples show a few differing rows: key, expected and actual values.
	Samples []string `json:"samples,omitempty"`
}

// Violations is the number of rows that differ.
func (d Diff) Violations() int64 { return d.Missing + d.Extra + d.Mismatched }

// Report is the checker's verdict on one architecture.
type Report struct {
	Arch string `json:"arch"`
	// Diffs compare each read model; none for crud, whose queries read the
	// write model itself.
	Diffs []Diff `json:"diffs,omitempty"`
}

// Violations is the number of differing rows over all read models.
func (r Report) Violations() int64 {
	var n int64
	for _, d := range r.Diffs {
		n += d.Violations()
	}
	return n
}

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
           SELECT key AS k, key::text || ': expected ' || expected || ' actual ' || actual AS s FROM d ORDER BY key LIMIT ` + maxSamplesSQL + `) x), '{}')
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
           SELECT key AS k, key || ': expected ' || expected || ' actual ' || actual AS s FROM d ORDER BY key LIMIT ` + maxSamplesSQL + `) x), '{}')
FROM d`

// Check reconciles the read models of architecture d (d.ReadModels) in
// d.Schema. Call it after the architecture has caught up
// (System.WaitCaughtUp) and with no commands in flight.
func Check(ctx context.Context, db DB, d catalog.Descriptor) (Report, error) {
	arch, schema, t := d.Name, d.Schema, d.ReadModels
	rep := Report{Arch: arch}
	if t.Orders == "" {
		return rep, nil
	}
	summary := strings.ReplaceAll(readmodel.SummarySQL, "{{orders}}", "{{schema}}.orders")
	daily := strings.ReplaceAll(readmodel.DailySalesSQL, "{{summaries}}", "s")
	for _, q := range []struct{ table, sql string }{
		{t.Orders, strings.NewReplacer("{{summary}}", summary, "{{rm}}", t.Orders).Replace(ordersSQL)},
		{t.Sales, strings.NewReplacer("{{summary}}", summary, "{{daily}}", daily, "{{sales}}", t.Sales).Replace(salesSQL)},
	} {
		d := Diff{Table: q.table}
		if err := db.QueryRow(ctx, readmodel.Expand(q.sql, schema)).Scan(&d.Expected, &d.Missing, &d.Extra, &d.Mismatched, &d.Samples); err != nil {
			return rep, fmt.Errorf("check %s %s.%s: %w", arch, schema, q.table, err)
		}
		rep.Diffs = append(rep.Diffs, d)
	}
	return rep, nil
}
