// Package cqrssync is CQRS with the read models written in the same
// transaction as the write model: queries read flat tables and are never
// stale, and every command pays for the read-model writes (and for the hot
// daily_sales row every order of the day updates).
package cqrssync

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/readmodel"
	"github.com/cqrsbench/cqrsbench/reference/replica"
	"github.com/cqrsbench/cqrsbench/reference/settings"
	"github.com/cqrsbench/cqrsbench/reference/writemodel"
)

var _ reference.System = (*System)(nil)

// dailySalesUpsert adds the rows of the CTE delta(day, status, label,
// orders, revenue_cents) to daily_sales.
const dailySalesUpsert = `,
ds AS (
    INSERT INTO {{schema}}.daily_sales AS d (day, status, label, orders, revenue_cents)
    SELECT day, status, label, orders, revenue_cents FROM delta
    ON CONFLICT (day, status) DO UPDATE
    SET orders = d.orders + excluded.orders, revenue_cents = d.revenue_cents + excluded.revenue_cents
)`

// Extension writes the read models in the command's statement.
var extension = writemodel.Extension{
	Create: `,
rm AS (
    INSERT INTO {{schema}}.order_read_model
        (order_id, customer_id, number, created_at, status, status_label, total_cents, item_count, first_image_url, version)
    SELECT o.id, o.customer_id, o.number, o.created_at, o.status, sl.label, t.total_cents, t.item_count, coalesce(img.url, ''), o.version
    FROM o
    JOIN {{schema}}.status_labels sl ON sl.status = o.status
    CROSS JOIN (SELECT sum(quantity::bigint * unit_price_cents)::bigint AS total_cents, sum(quantity)::bigint AS item_count FROM l) t
    LEFT JOIN LATERAL (
        SELECT pi.url FROM l JOIN {{schema}}.product_images pi ON pi.product_id = l.product_id
        WHERE l.line_no = 1 ORDER BY pi.position LIMIT 1
    ) img ON true
    RETURNING created_at, status, status_label, total_cents
),
delta AS (
    SELECT (created_at AT TIME ZONE 'UTC')::date AS day, status, status_label AS label, 1::bigint AS orders, total_cents AS revenue_cents FROM rm
)` + dailySalesUpsert,
	AddLine: `,
rm AS (
    UPDATE {{schema}}.order_read_model r
    SET total_cents = r.total_cents + l.quantity::bigint * l.unit_price_cents,
        item_count = r.item_count + l.quantity, version = u.version, applied_at = clock_timestamp()
    FROM u, l WHERE r.order_id = u.id
    RETURNING r.created_at, r.status, r.status_label, l.quantity::bigint * l.unit_price_cents AS added
),
delta AS (
    SELECT (created_at AT TIME ZONE 'UTC')::date AS day, status, status_label AS label, 0::bigint AS orders, added AS revenue_cents FROM rm
)` + dailySalesUpsert,
	Transition: `,
rm AS (
    UPDATE {{schema}}.order_read_model r
    SET status = u.status, status_label = sl.label, version = u.version, applied_at = clock_timestamp()
    FROM u JOIN {{schema}}.status_labels sl ON sl.status = u.status
    WHERE r.order_id = u.id
    RETURNING r.created_at, r.status, r.status_label, r.total_cents, u.prev_status
),
delta AS (
    SELECT (created_at AT TIME ZONE 'UTC')::date AS day, status, status_label AS label, 1::bigint AS orders, total_cents AS revenue_cents FROM rm
    UNION ALL
    SELECT (rm.created_at AT TIME ZONE 'UTC')::date, rm.prev_status, sl.label, -1, -rm.total_cents
    FROM rm JOIN {{schema}}.status_labels sl ON sl.status = rm.prev_status
)` + dailySalesUpsert,
}

// System is the same-transaction CQRS architecture on one schema.
type System struct {
	pool    *pgxpool.Pool
	reads   *pgxpool.Pool // where the screens read: pool, or a streaming replica of it
	schema  string
	store   *writemodel.Store
	queries readmodel.Queries
}

// Name is the architecture's name; DefaultSchema the PostgreSQL schema it
// lives in unless told otherwise.
const (
	Name          = "cqrs-sync"
	DefaultSchema = "cqrs_sync"
)

// New returns the architecture on schema (default "cqrs_sync"), whose write
// model is already loaded.
func New(pool *pgxpool.Pool, schema string) (*System, error) {
	if schema == "" {
		schema = DefaultSchema
	}
	store, err := writemodel.New(schema, extension)
	if err != nil {
		return nil, err
	}
	return &System{pool: pool, reads: pool, schema: schema, store: store, queries: readmodel.NewQueries(schema)}, nil
}

// OnReplica returns the architecture with its commands on primary and its
// screens on replica, a streaming replica of it (options read_from:
// replica): the read models still commit with the command, and reach the
// screens when the replica replays them.
func OnReplica(primary, replica *pgxpool.Pool, schema string) (*System, error) {
	if primary == nil || replica == nil {
		return nil, errors.New("cqrs-sync on a replica needs a primary and a streaming replica of it")
	}
	s, err := New(primary, schema)
	if err != nil {
		return nil, err
	}
	s.reads = replica
	return s, nil
}

// Options are cqrs-sync's scenario options.
type Options struct {
	settings.ReadFrom `yaml:",inline"`
}

// DefaultOptions returns cqrs-sync's options with every default set.
func DefaultOptions() *Options {
	return &Options{ReadFrom: settings.ReadFrom{ReadFrom: settings.ReadPrimary}}
}

// Validate implements settings.Options.
func (o *Options) Validate() []settings.FieldError { return o.ReadFrom.Validate() }

// Name implements reference.System.
func (s *System) Name() string { return Name }

// Setup implements reference.System: creates the flat read models and fills
// them from the write model; on a replica, returns once the replica has
// replayed them.
func (s *System) Setup(ctx context.Context) error {
	if err := readmodel.Create(ctx, s.pool, s.schema); err != nil {
		return err
	}
	if err := readmodel.Backfill(ctx, s.pool, s.schema); err != nil {
		return err
	}
	return s.replayed(ctx)
}

// replayed returns once the screens' replica has replayed every command
// committed before the call; at once when the screens read the primary.
func (s *System) replayed(ctx context.Context) error {
	return replica.WaitIfReplica(ctx, s.pool, s.reads)
}

// Start implements reference.System: no workers.
func (s *System) Start(ctx context.Context) error { return nil }

// Execute implements reference.System.
func (s *System) Execute(ctx context.Context, cmd domain.Command) (reference.Outcome, error) {
	return s.store.Execute(ctx, s.pool, cmd)
}

// ListOrders implements reference.System.
func (s *System) ListOrders(ctx context.Context, customerID int64) ([]reference.OrderSummary, error) {
	return s.queries.ListOrders(ctx, s.reads, customerID)
}

// SalesDashboard implements reference.System.
func (s *System) SalesDashboard(ctx context.Context, day time.Time) ([]reference.StatusSales, error) {
	return s.queries.SalesDashboard(ctx, s.reads, day)
}

// WaitCaughtUp implements reference.System: the read models commit with the
// command; on a replica, it returns once the replica replayed every command
// committed before the call.
func (s *System) WaitCaughtUp(ctx context.Context) error { return s.replayed(ctx) }

// Close implements reference.System.
func (s *System) Close(ctx context.Context) error { return nil }
