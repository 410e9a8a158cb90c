// Package shop is the order shop as a workload (reference/workload): five
// commands (create_order, add_line, confirm_order, ship_order,
// cancel_order) and two screens (list_orders, a customer's latest orders;
// sales_dashboard, today's orders and revenue per status), its dataset
// (reference/datagen), the parameters each operation draws, and the
// reconciliation of its two read models. Every reference architecture
// implements Architecture, its executor.
package shop

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/crud"
	"github.com/cqrsbench/cqrsbench/reference/datagen"
	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/workload"
	"github.com/cqrsbench/cqrsbench/reference/writemodel"
)

// Name is the shop's name in scenarios and results.
const Name = "shop"

// The shop's screens; its commands are named by their domain.Kind.
const (
	ListOrders     = "list_orders"
	SalesDashboard = "sales_dashboard"
	// OrderThenList is a customer placing an order and at once opening
	// their order list: the read right after one's own write that
	// read-your-writes policies are for. Not in the default mix.
	OrderThenList = "order_then_list"
)

// randomTargets is the share of commands on an existing order aimed at a
// recent or any order rather than one known to allow them: a real shop's
// share of invalid transitions (CommandOptions.Random).
const randomTargets = 0.02

// Workload is the shop. Its zero value is ready to use.
type Workload struct{}

var _ workload.Workload = Workload{}

// Name implements workload.Workload.
func (Workload) Name() string { return Name }

// Operations implements workload.Workload: the commands, then the screens,
// weighted as the default ("mixed") suite's mix.
func (Workload) Operations() []workload.Operation {
	return []workload.Operation{
		{Name: string(domain.KindCreateOrder), Weight: 15},
		{Name: string(domain.KindAddLine), Weight: 10},
		{Name: string(domain.KindConfirmOrder), Weight: 8},
		{Name: string(domain.KindShipOrder), Weight: 5},
		{Name: string(domain.KindCancelOrder), Weight: 2},
		{Name: ListOrders, Query: true, Weight: 55},
		{Name: SalesDashboard, Query: true, Weight: 5},
		{Name: OrderThenList},
	}
}

// dataConfig maps a workload dataset onto the shop's generator.
func dataConfig(d workload.Dataset) datagen.Config {
	return datagen.Config{Orders: d.Rows, Customers: d.Owners, Seed: d.Seed, Today: d.Today, Skew: d.Skew}
}

// Load implements workload.Workload with datagen.Load.
func (Workload) Load(ctx context.Context, pool *pgxpool.Pool, schema string, data workload.Dataset) error {
	if _, err := datagen.Load(ctx, pool, schema, dataConfig(data), nil); err != nil {
		return fmt.Errorf("load the shop's dataset: %w", err)
	}
	return nil
}

// Committed implements workload.Workload: the sum of the orders' versions
// (a creation is version 1, every later command adds one).
func (Workload) Committed(ctx context.Context, db workload.DB, schema string) (int64, error) {
	var n int64
	err := db.QueryRow(ctx, "SELECT coalesce(sum(version), 0)::bigint FROM "+pgx.Identifier{schema, "orders"}.Sanitize()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count the committed events of %s: %w", schema, err)
	}
	return n, nil
}

// Check implements workload.Workload for the read models OrderSummaries
// and DailySales.
func (Workload) Check(ctx context.Context, db workload.DB, schema string, rm workload.ReadModels) ([]workload.Diff, error) {
	return check(ctx, db, schema, rm)
}

// Rejection implements workload.Workload: invalid transitions, invalid
// commands and missing orders.
func (Workload) Rejection(err error) string {
	switch {
	case errors.Is(err, domain.ErrInvalidTransition):
		return "invalid_transition"
	case errors.Is(err, domain.ErrInvalidCommand):
		return "invalid_command"
	case errors.Is(err, writemodel.ErrNotFound):
		return "not_found"
	}
	return ""
}

// Open implements workload.Workload: sys must implement Architecture.
func (Workload) Open(_ context.Context, sys reference.System, db workload.DB, schema string, data workload.Dataset, seed uint64) (workload.Session, error) {
	arch, ok := sys.(Architecture)
	if !ok {
		return nil, fmt.Errorf("architecture %s does not implement the shop's commands and screens (shop.Architecture)", sys.Name())
	}
	gen, err := datagen.New(dataConfig(data))
	if err != nil {
		return nil, err
	}
	s := newSession(arch, gen, seed)
	if pool, ok := db.(*pgxpool.Pool); ok {
		// The write model, for reads the primary-after-write policy
		// redirects: the CRUD queries on the schema's own tables.
		if s.writeModel, err = crud.New(pool, schema); err != nil {
			return nil, err
		}
	}
	return s, nil
}
