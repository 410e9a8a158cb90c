// Package cqrsmatview is CQRS with PostgreSQL materialized views as the read
// models: commands write only the normalized tables; a refresher runs
// REFRESH MATERIALIZED VIEW CONCURRENTLY every period, so reads are as fast
// as flat tables but stale by up to the period plus the refresh time, and
// every refresh recomputes the whole view.
package cqrsmatview

import (
	"context"
	"errors"
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

// DefaultRefreshPeriod is the time between the end of one refresh and the
// start of the next.
const DefaultRefreshPeriod = time.Second

const setupSQL = `
CREATE MATERIALIZED VIEW {{schema}}.order_list_mv AS {{summary}};
CREATE UNIQUE INDEX order_list_mv_order_id_idx ON {{schema}}.order_list_mv (order_id);
CREATE INDEX order_list_mv_customer_idx ON {{schema}}.order_list_mv (customer_id, created_at DESC, order_id DESC);
CREATE MATERIALIZED VIEW {{schema}}.daily_sales_mv AS {{daily}};
CREATE UNIQUE INDEX daily_sales_mv_day_status_idx ON {{schema}}.daily_sales_mv (day, status);
ANALYZE {{schema}}.order_list_mv;
ANALYZE {{schema}}.daily_sales_mv`

// refreshSQL refreshes the order list first: the dashboard view reads it.
const refreshSQL = `
REFRESH MATERIALIZED VIEW CONCURRENTLY {{schema}}.order_list_mv;
REFRESH MATERIALIZED VIEW CONCURRENTLY {{schema}}.daily_sales_mv`

const listSQL = `
SELECT order_id, number, created_at, status, status_label, total_cents, item_count, first_image_url, version
FROM {{schema}}.order_list_mv
WHERE customer_id = $1
ORDER BY created_at DESC, order_id DESC
LIMIT 50`

const dashboardSQL = `
SELECT status, label, orders, revenue_cents FROM {{schema}}.daily_sales_mv WHERE day = $1`

// System is the materialized-view CQRS architecture on one schema.
type System struct {
	pool   *pgxpool.Pool
	reads  *pgxpool.Pool // where the screens read: pool, or a streaming replica of it
	schema string
	store  *writemodel.Store

	setup, dashboard string
	list             readmodel.SummaryQuery

	// Refresher refreshes the views every period (Start, WaitCaughtUp,
	// RefreshStats, Close).
	*Refresher
}

// Name is the architecture's name; DefaultSchema the PostgreSQL schema it
// lives in unless told otherwise.
const (
	Name          = "cqrs-matview"
	DefaultSchema = "cqrs_matview"
)

// New returns the architecture on schema (default "cqrs_matview"), whose
// write model is already loaded, refreshing every period (0: default).
func New(pool *pgxpool.Pool, schema string, period time.Duration) (*System, error) {
	if schema == "" {
		schema = DefaultSchema
	}
	if period < 0 {
		return nil, fmt.Errorf("cqrs-matview refresh period must be ≥ 0, got %v", period)
	}
	if period == 0 {
		period = DefaultRefreshPeriod
	}
	store, err := writemodel.New(schema, writemodel.Extension{})
	if err != nil {
		return nil, err
	}
	q := pgx.Identifier{schema}.Sanitize()
	summary := strings.ReplaceAll(readmodel.SummarySQL, "{{orders}}", "{{schema}}.orders")
	daily := strings.ReplaceAll(readmodel.DailySalesSQL, "{{summaries}}", "{{schema}}.order_list_mv")
	expand := func(s string) string {
		s = strings.ReplaceAll(s, "{{summary}}", summary)
		s = strings.ReplaceAll(s, "{{daily}}", daily)
		return strings.ReplaceAll(s, "{{schema}}", q)
	}
	return &System{
		pool: pool, reads: pool, schema: schema, store: store,
		setup: expand(setupSQL), list: readmodel.NewSummaryQuery("cqrsbench_matview_list_orders_"+schema, expand(listSQL)), dashboard: expand(dashboardSQL),
		Refresher: NewRefresher(pool, expand(refreshSQL), period),
	}, nil
}

// OnReplica returns the architecture with its commands and refreshes on
// primary and its screens on replica, a streaming replica of it (options
// read_from: replica): the views reach the screens when the replica
// replays their refresh.
func OnReplica(primary, replica *pgxpool.Pool, schema string, period time.Duration) (*System, error) {
	if primary == nil || replica == nil {
		return nil, errors.New("cqrs-matview on a replica needs a primary and a streaming replica of it")
	}
	s, err := New(primary, schema, period)
	if err != nil {
		return nil, err
	}
	s.reads = replica
	return s, nil
}

// WaitCaughtUp implements reference.System: a refresh after the call
// (Refresher.WaitCaughtUp) and, on a replica, its replay.
func (s *System) WaitCaughtUp(ctx context.Context) error {
	if err := s.Refresher.WaitCaughtUp(ctx); err != nil {
		return err
	}
	return s.replayed(ctx)
}

// Name implements reference.System.
func (s *System) Name() string { return Name }

// Setup implements reference.System: creates and fills the views; on a
// replica, returns once the replica has replayed them.
func (s *System) Setup(ctx context.Context) error {
	if _, err := s.pool.Exec(ctx, s.setup); err != nil {
		return fmt.Errorf("create materialized views in %s: %w", s.schema, err)
	}
	return s.replayed(ctx)
}

// replayed returns once the screens' replica has replayed every change
// committed before the call; at once when the screens read the primary.
func (s *System) replayed(ctx context.Context) error {
	return replica.WaitIfReplica(ctx, s.pool, s.reads)
}

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
		return nil, fmt.Errorf("cqrs-matview sales_dashboard: %w", err)
	}
	return readmodel.ScanSales(rows)
}
