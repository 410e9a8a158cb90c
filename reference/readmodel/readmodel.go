// Package readmodel holds the flat read models that cqrs-sync and cqrs-kafka
// keep beside their write model: order_read_model, one row per order with
// everything the "My orders" screen shows, and daily_sales, the per-day,
// per-status order count and revenue the dashboard shows.
//
// daily_sales is an aggregate maintained by deltas: applying one change twice
// double counts, which makes duplicate delivery visible.
package readmodel

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/domain"
)

// DB is what the read-model functions need: *pgxpool.Pool, *pgx.Conn and
// pgx.Tx satisfy it.
type DB interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// createSQL creates the read-model tables; {{schema}} is the quoted schema.
const createSQL = `
CREATE TABLE {{schema}}.order_read_model (
    order_id        bigint      NOT NULL PRIMARY KEY,
    customer_id     bigint      NOT NULL,
    number          text        NOT NULL,
    created_at      timestamptz NOT NULL,
    status          text        NOT NULL,
    status_label    text        NOT NULL,
    total_cents     bigint      NOT NULL,
    item_count      bigint      NOT NULL,
    first_image_url text        NOT NULL DEFAULT '',
    version         int         NOT NULL,
    applied_at      timestamptz NOT NULL DEFAULT clock_timestamp()
) WITH (fillfactor = 90);
CREATE TABLE {{schema}}.daily_sales (
    day           date   NOT NULL,
    status        text   NOT NULL,
    label         text   NOT NULL,
    orders        bigint NOT NULL,
    revenue_cents bigint NOT NULL,
    PRIMARY KEY (day, status)
);`

// indexSQL is built after the backfill (faster than maintaining it row by row).
const indexSQL = `
CREATE INDEX IF NOT EXISTS order_read_model_customer_idx
    ON {{schema}}.order_read_model (customer_id, created_at DESC, order_id DESC)`

// SummarySQL selects every column of order_read_model (but applied_at), in
// table order, from the write model, for the orders of the relation named by
// the placeholder {{orders}} (aliased o). It is the one definition of what a
// read-model row holds, shared by the backfill, the matview and the checker.
//
// Each product's first image is picked once and joined by hash: 200,000
// orders' summaries took 1.5-1.7 s with a lateral lookup per order, 0.6 s
// this way (product_images' (product_id, position) is unique, so the image
// picked is the same).
const SummarySQL = `
SELECT o.id AS order_id, o.customer_id, o.number, o.created_at, o.status, sl.label AS status_label,
       coalesce(t.total_cents, 0)::bigint AS total_cents, coalesce(t.item_count, 0)::bigint AS item_count,
       coalesce(img.url, '') AS first_image_url, o.version
FROM {{orders}} o
JOIN {{schema}}.status_labels sl ON sl.status = o.status
LEFT JOIN (
    SELECT order_id, sum(quantity::bigint * unit_price_cents) AS total_cents, sum(quantity) AS item_count
    FROM {{schema}}.order_lines GROUP BY order_id
) t ON t.order_id = o.id
LEFT JOIN (
    SELECT ol.order_id, fi.url FROM {{schema}}.order_lines ol
    JOIN (SELECT DISTINCT ON (product_id) product_id, url FROM {{schema}}.product_images
          ORDER BY product_id, position) fi ON fi.product_id = ol.product_id
    WHERE ol.line_no = 1
) img ON img.order_id = o.id`

// DailySalesSQL aggregates daily_sales rows (day, status, label, orders,
// revenue_cents) from the relation {{summaries}} holding order summaries.
const DailySalesSQL = `
SELECT (created_at AT TIME ZONE 'UTC')::date AS day, status, min(status_label) AS label,
       count(*) AS orders, sum(total_cents)::bigint AS revenue_cents
FROM {{summaries}} GROUP BY 1, 2`

// Expand replaces {{schema}} with the quoted schema name.
func Expand(sql, schema string) string {
	return strings.ReplaceAll(sql, "{{schema}}", pgx.Identifier{schema}.Sanitize())
}

// Create creates the read-model tables in schema.
func Create(ctx context.Context, db DB, schema string) error {
	if err := domain.ValidateSchemaName(schema); err != nil {
		return err
	}
	if _, err := db.Exec(ctx, Expand(createSQL, schema)); err != nil {
		return fmt.Errorf("create read models in %s: %w", schema, err)
	}
	return nil
}

// Backfill fills the (empty) read models from the write model, builds the
// query index and analyzes: the state a CQRS system starts from after the
// dataset load.
func Backfill(ctx context.Context, db DB, schema string) error {
	steps := []struct{ what, sql string }{
		{"fill order_read_model", `INSERT INTO {{schema}}.order_read_model
			(order_id, customer_id, number, created_at, status, status_label, total_cents, item_count, first_image_url, version) ` +
			strings.ReplaceAll(SummarySQL, "{{orders}}", "{{schema}}.orders")},
		{"fill daily_sales", `INSERT INTO {{schema}}.daily_sales (day, status, label, orders, revenue_cents) ` +
			strings.ReplaceAll(DailySalesSQL, "{{summaries}}", "{{schema}}.order_read_model")},
		{"index order_read_model", indexSQL},
		{"analyze", `ANALYZE {{schema}}.order_read_model; ANALYZE {{schema}}.daily_sales`},
	}
	for _, s := range steps {
		if _, err := db.Exec(ctx, Expand(s.sql, schema)); err != nil {
			return fmt.Errorf("backfill read models in %s: %s: %w", schema, s.what, err)
		}
	}
	return nil
}

// Truncate empties the read models (for a rebuild).
func Truncate(ctx context.Context, db DB, schema string) error {
	if _, err := db.Exec(ctx, Expand(`TRUNCATE {{schema}}.order_read_model, {{schema}}.daily_sales`, schema)); err != nil {
		return fmt.Errorf("truncate read models in %s: %w", schema, err)
	}
	return nil
}

// listSQL is list_orders on the flat table: one index range scan.
const listSQL = `
SELECT order_id, number, created_at, status, status_label, total_cents, item_count, first_image_url, version
FROM {{schema}}.order_read_model
WHERE customer_id = $1
ORDER BY created_at DESC, order_id DESC
LIMIT 50`

// dashboardSQL is sales_dashboard on the flat aggregate.
const dashboardSQL = `
SELECT status, label, orders, revenue_cents
FROM {{schema}}.daily_sales
WHERE day = $1 AND orders <> 0`

// Queries holds a schema's read-model query texts, expanded once.
type Queries struct {
	list      SummaryQuery
	dashboard string
}

// NewQueries expands the query texts for schema.
func NewQueries(schema string) Queries {
	return Queries{list: NewSummaryQuery("cqrsbench_list_orders_"+schema, Expand(listSQL, schema)), dashboard: Expand(dashboardSQL, schema)}
}

// ListOrders runs list_orders on the flat read model.
func (q Queries) ListOrders(ctx context.Context, pool *pgxpool.Pool, customerID int64) ([]reference.OrderSummary, error) {
	return q.list.Run(ctx, pool, customerID)
}

// SalesDashboard runs sales_dashboard on the flat aggregate.
func (q Queries) SalesDashboard(ctx context.Context, db DB, day time.Time) ([]reference.StatusSales, error) {
	rows, err := db.Query(ctx, q.dashboard, Day(day))
	if err != nil {
		return nil, fmt.Errorf("sales_dashboard: %w", err)
	}
	return ScanSales(rows)
}

// Day returns the UTC calendar day of t as midnight UTC, the key of
// daily_sales.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// ScanSummaries reads rows of (order_id, number, created_at, status,
// status_label, total_cents, item_count, first_image_url, version).
func ScanSummaries(rows pgx.Rows) ([]reference.OrderSummary, error) {
	return scanSummaries(rows, true)
}

// scanSummaries decodes rows with decodeSummary when allowed and possible,
// with pgx's Scan otherwise.
func scanSummaries(rows pgx.Rows, allowFast bool) ([]reference.OrderSummary, error) {
	defer rows.Close()
	out := make([]reference.OrderSummary, 0, reference.ListOrdersLimit)
	fast := allowFast && fastSummaries(rows)
	for rows.Next() {
		var s reference.OrderSummary
		if fast {
			if err := decodeSummary(rows.RawValues(), &s); err != nil {
				return nil, fmt.Errorf("decode order summary: %w", err)
			}
			out = append(out, s)
			continue
		}
		var status string
		if err := rows.Scan(&s.OrderID, &s.Number, &s.CreatedAt, &status, &s.StatusLabel, &s.TotalCents, &s.ItemCount, &s.FirstImageURL, &s.Version); err != nil {
			return nil, fmt.Errorf("scan order summary: %w", err)
		}
		s.Status = domain.Status(status)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read order summaries: %w", err)
	}
	return out, nil
}

// ScanSales reads rows of (status, label, orders, revenue_cents) and sorts
// them in status order.
func ScanSales(rows pgx.Rows) ([]reference.StatusSales, error) {
	var out []reference.StatusSales
	for rows.Next() {
		var s reference.StatusSales
		var status string
		if err := rows.Scan(&status, &s.Label, &s.Orders, &s.RevenueCents); err != nil {
			return nil, fmt.Errorf("scan sales row: %w", err)
		}
		s.Status = domain.Status(status)
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read sales rows: %w", err)
	}
	slices.SortFunc(out, func(a, b reference.StatusSales) int { return a.Status.Position() - b.Status.Position() })
	return out, nil
}

// ListOrders runs list_orders on schema's flat read model. Hot paths should
// keep a Queries instead, which expands the SQL once.
func ListOrders(ctx context.Context, pool *pgxpool.Pool, schema string, customerID int64) ([]reference.OrderSummary, error) {
	return NewQueries(schema).ListOrders(ctx, pool, customerID)
}

// SalesDashboard runs sales_dashboard on schema's flat aggregate. Hot paths
// should keep a Queries instead.
func SalesDashboard(ctx context.Context, db DB, schema string, day time.Time) ([]reference.StatusSales, error) {
	return NewQueries(schema).SalesDashboard(ctx, db, day)
}
