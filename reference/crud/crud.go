// Package crud is the baseline architecture: the normalized write model is
// also what queries read, with joins and aggregation written the way a
// competent engineer would (the 50 orders picked by an index range scan
// first, then their totals and first image by LATERAL joins on primary keys).
package crud

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/readmodel"
	"github.com/cqrsbench/cqrsbench/reference/replica"
	"github.com/cqrsbench/cqrsbench/reference/writemodel"
)

var _ reference.System = (*System)(nil)

// ListOrdersSQL is list_orders over the normalized tables: $1 customer id.
const ListOrdersSQL = `
SELECT o.id, o.number, o.created_at, o.status, sl.label, t.total_cents, t.item_count, coalesce(img.url, ''), o.version
FROM (
    SELECT id, number, created_at, status, version FROM {{schema}}.orders
    WHERE customer_id = $1
    ORDER BY created_at DESC, id DESC
    LIMIT 50
) o
JOIN {{schema}}.status_labels sl ON sl.status = o.status
CROSS JOIN LATERAL (
    SELECT coalesce(sum(ol.quantity::bigint * ol.unit_price_cents), 0)::bigint AS total_cents,
           coalesce(sum(ol.quantity), 0)::bigint AS item_count
    FROM {{schema}}.order_lines ol WHERE ol.order_id = o.id
) t
LEFT JOIN LATERAL (
    SELECT pi.url FROM {{schema}}.order_lines ol
    JOIN {{schema}}.product_images pi ON pi.product_id = ol.product_id
    WHERE ol.order_id = o.id AND ol.line_no = 1
    ORDER BY pi.position LIMIT 1
) img ON true
ORDER BY o.created_at DESC, o.id DESC`

// SalesDashboardSQL is sales_dashboard over the normalized tables: $1 the
// day's midnight UTC.
const SalesDashboardSQL = `
SELECT o.status, sl.label, count(*), coalesce(sum(t.total_cents), 0)::bigint
FROM {{schema}}.orders o
JOIN {{schema}}.status_labels sl ON sl.status = o.status
LEFT JOIN LATERAL (
    SELECT sum(ol.quantity::bigint * ol.unit_price_cents) AS total_cents
    FROM {{schema}}.order_lines ol WHERE ol.order_id = o.id
) t ON true
WHERE o.created_at >= $1 AND o.created_at < $1 + interval '1 day'
GROUP BY o.status, sl.label`

// System is the CRUD architecture on one schema.
type System struct {
	name      string
	pool      *pgxpool.Pool // commands
	reads     *pgxpool.Pool // screens: pool, or a streaming replica of it
	store     *writemodel.Store
	list      readmodel.SummaryQuery
	dashboard string
}

// Name is the architecture's name; DefaultSchema the PostgreSQL schema it
// lives in unless told otherwise. ReplicaName and ReplicaSchema are the
// same for CRUD reading a streaming replica (OnReplica).
const (
	Name          = "crud"
	DefaultSchema = "crud"
	ReplicaName   = "crud-replica"
	ReplicaSchema = "crud_replica"
)

// New returns the CRUD architecture on schema (default "crud"), whose write
// model is already loaded.
func New(pool *pgxpool.Pool, schema string) (*System, error) {
	if schema == "" {
		schema = DefaultSchema
	}
	return newSystem(Name, pool, pool, schema)
}

// OnReplica returns CRUD with a read replica, the alternative to CQRS most
// teams weigh first: commands run on primary, screens on replica, a
// streaming replica of it, so they may miss the latest commands. Its
// schema defaults to ReplicaSchema.
func OnReplica(primary, replica *pgxpool.Pool, schema string) (*System, error) {
	if primary == nil || replica == nil {
		return nil, fmt.Errorf("%s needs a primary and a streaming replica of it", ReplicaName)
	}
	if schema == "" {
		schema = ReplicaSchema
	}
	return newSystem(ReplicaName, primary, replica, schema)
}

func newSystem(name string, pool, reads *pgxpool.Pool, schema string) (*System, error) {
	store, err := writemodel.New(schema, writemodel.Extension{})
	if err != nil {
		return nil, err
	}
	q := pgx.Identifier{schema}.Sanitize()
	return &System{
		name:      name,
		pool:      pool,
		reads:     reads,
		store:     store,
		list:      readmodel.NewSummaryQuery("cqrsbench_crud_list_orders_"+schema, strings.ReplaceAll(ListOrdersSQL, "{{schema}}", q)),
		dashboard: strings.ReplaceAll(SalesDashboardSQL, "{{schema}}", q),
	}, nil
}

// Name implements reference.System.
func (s *System) Name() string { return s.name }

// Setup implements reference.System: CRUD reads the write model, which has
// its indexes already; on a replica, once the replica has replayed the
// load.
func (s *System) Setup(ctx context.Context) error { return s.WaitCaughtUp(ctx) }

// Start implements reference.System: CRUD has no workers.
func (s *System) Start(ctx context.Context) error { return nil }

// Execute implements reference.System.
func (s *System) Execute(ctx context.Context, cmd domain.Command) (reference.Outcome, error) {
	return s.store.Execute(ctx, s.pool, cmd)
}

// ListOrders implements reference.System.
func (s *System) ListOrders(ctx context.Context, customerID int64) ([]reference.OrderSummary, error) {
	return s.list.Run(ctx, s.reads, customerID)
}

// SalesDashboard implements reference.System.
func (s *System) SalesDashboard(ctx context.Context, day time.Time) ([]reference.StatusSales, error) {
	rows, err := s.reads.Query(ctx, s.dashboard, readmodel.Day(day))
	if err != nil {
		return nil, fmt.Errorf("crud sales_dashboard: %w", err)
	}
	return readmodel.ScanSales(rows)
}

// WaitCaughtUp implements reference.System: CRUD on its write model is
// always consistent; on a replica, it returns once the replica has
// replayed every command committed before the call.
func (s *System) WaitCaughtUp(ctx context.Context) error {
	if err := replica.WaitIfReplica(ctx, s.pool, s.reads); err != nil {
		return fmt.Errorf("%s: %w", s.name, err)
	}
	return nil
}

// Close implements reference.System.
func (s *System) Close(ctx context.Context) error { return nil }
