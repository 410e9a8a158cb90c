package shop

import (
	"context"
	"time"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/domain"
)

// Architecture is what an architecture implements to run the shop: its
// commands and its two screens, each its own way (joins on the write model,
// flat read models, views).
type Architecture interface {
	reference.System
	// Execute applies one command in one transaction. Invalid commands and
	// transitions return errors matching domain.ErrInvalidCommand or
	// domain.ErrInvalidTransition; no read model changes then.
	Execute(ctx context.Context, cmd domain.Command) (reference.Outcome, error)
	// ListOrders returns a customer's reference.ListOrdersLimit latest
	// orders, newest first (created_at, then id, descending).
	ListOrders(ctx context.Context, customerID int64) ([]reference.OrderSummary, error)
	// SalesDashboard returns orders created on day (UTC) and their revenue
	// per current status, in status order, omitting statuses with none.
	SalesDashboard(ctx context.Context, day time.Time) ([]reference.StatusSales, error)
}
