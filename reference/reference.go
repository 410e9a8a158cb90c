// Package reference defines what every architecture of the order domain
// offers the harness: the System interface, the query result types, and the
// hooks through which an architecture reports when an event passes each
// stage of its pipeline.
//
// The architectures live in subpackages, each in its own PostgreSQL schema
// so they can sit side by side in one database; reference/catalog is the
// table that lists them.
//
// A System is built on a schema whose write model was loaded by
// reference/datagen, set up (read models filled from the write model),
// started, driven with domain commands and queries (reference/shop), waited
// on until caught up, and closed.
package reference

import (
	"context"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/domain"
)

// OrderSummary is one row of list_orders, the "My orders" screen.
type OrderSummary struct {
	OrderID     int64         `json:"order_id"`
	Number      string        `json:"number"`
	CreatedAt   time.Time     `json:"created_at"`
	Status      domain.Status `json:"status"`
	StatusLabel string        `json:"status_label"`
	// TotalCents is the sum of quantity × unit price over the order's lines.
	TotalCents int64 `json:"total_cents"`
	// ItemCount is the sum of the lines' quantities.
	ItemCount int64 `json:"item_count"`
	// FirstImageURL is the first image (lowest position) of the product on
	// the order's first line; empty when that product has no image.
	FirstImageURL string `json:"first_image_url"`
	// Version is the order's version the row reflects (1 after creation,
	// +1 per command), used to classify reads as fresh or stale.
	Version int32 `json:"version"`
}

// StatusSales is one row of sales_dashboard: orders created on one day with
// a given current status, and their revenue.
type StatusSales struct {
	Status       domain.Status `json:"status"`
	Label        string        `json:"label"`
	Orders       int64         `json:"orders"`
	RevenueCents int64         `json:"revenue_cents"`
}

// Outcome is what a successful command did.
type Outcome struct {
	// OrderID is the order the command created or changed.
	OrderID int64
	// CustomerID is the order's customer.
	CustomerID int64
	// Version is the order's version after the command.
	Version int32
	// Committed is when the command's transaction was known committed, on
	// this process's monotonic clock.
	Committed time.Time
}

// ListOrdersLimit is how many orders list_orders returns.
const ListOrdersLimit = 50

// System is one architecture, as the harness drives it: its lifecycle.
// What it executes is the workload's business: a workload's session asks
// the system for the workload's own executor interface (the order shop's is
// shop.Architecture). Methods other than Setup, Start and Close may be
// called concurrently.
type System interface {
	// Name returns the architecture's name, as in reference/catalog.
	Name() string
	// Setup creates the architecture's own objects on top of the loaded
	// write model in its schema and fills its read models from it.
	Setup(ctx context.Context) error
	// Start starts background workers (relays, projectors, refreshers).
	Start(ctx context.Context) error
	// WaitCaughtUp returns once every command that returned before the call
	// is visible to queries, checked (never slept for).
	WaitCaughtUp(ctx context.Context) error
	// Close stops the workers and releases connections. It does not drop
	// the schema.
	Close(ctx context.Context) error
}
