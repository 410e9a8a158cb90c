package pipeline

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/outbox"
	"github.com/cqrsbench/cqrsbench/reference/readmodel"
	"github.com/cqrsbench/cqrsbench/reference/replica"
	"github.com/cqrsbench/cqrsbench/reference/writemodel"
)

// Orders is the half of the shop (shop.Architecture) every outbox
// architecture shares, whatever its transport: a command and its outbox row
// commit in one statement, and the screens read the flat read models the
// projector maintains. An architecture embeds it.
type Orders struct {
	pool     *pgxpool.Pool
	reads    *pgxpool.Pool // where the screens read: pool, or a streaming replica of it
	store    *writemodel.Store
	queries  readmodel.Queries
	observer event.Observer
}

// NewOrders returns the commands and screens of the outbox architecture in
// schema: commands on pool, screens on reads (a streaming replica of
// pool's server; nil: pool); observer (nil: none) sees each command's
// commit.
func NewOrders(pool, reads *pgxpool.Pool, schema string, observer event.Observer) (Orders, error) {
	store, err := writemodel.New(schema, outbox.Extension())
	if err != nil {
		return Orders{}, err
	}
	if reads == nil {
		reads = pool
	}
	return Orders{pool: pool, reads: reads, store: store, queries: readmodel.NewQueries(schema), observer: observer}, nil
}

// WaitReplayed returns once the screens' replica has replayed every
// command committed before the call; at once when the screens read pool.
func (o Orders) WaitReplayed(ctx context.Context) error {
	return replica.WaitIfReplica(ctx, o.pool, o.reads)
}

// Execute implements shop.Architecture: the command and its outbox row
// commit in one statement.
func (o Orders) Execute(ctx context.Context, cmd domain.Command) (reference.Outcome, error) {
	out, err := o.store.Execute(ctx, o.pool, cmd)
	if o.observer != nil && err == nil {
		o.observer.Observe(event.StageCommitted, out.Committed, []event.Ref{{OrderID: out.OrderID, Version: out.Version}})
	}
	return out, err
}

// ExecuteInTx implements reference.TxExecutor: the command and its outbox
// row, in tx, which the caller commits.
func (o Orders) ExecuteInTx(ctx context.Context, tx pgx.Tx, cmd domain.Command) (reference.Outcome, error) {
	return o.store.Execute(ctx, tx, cmd)
}

// ListOrders implements shop.Architecture from the order read model.
func (o Orders) ListOrders(ctx context.Context, customerID int64) ([]reference.OrderSummary, error) {
	return o.queries.ListOrders(ctx, o.reads, customerID)
}

// SalesDashboard implements shop.Architecture from the daily sales read
// model.
func (o Orders) SalesDashboard(ctx context.Context, day time.Time) ([]reference.StatusSales, error) {
	return o.queries.SalesDashboard(ctx, o.reads, day)
}
