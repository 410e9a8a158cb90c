// Package workload generates a deterministic stream of domain commands over
// a generated dataset: the same seed gives the same commands, so every
// architecture can be driven with exactly the same sequence.
//
// Commands mostly target recent orders (the ones still in cart or
// confirmed), and sometimes any order, so a realistic share of transitions
// is invalid (shipping a cancelled order, adding a line to a shipped one):
// those must fail with typed errors in every architecture alike.
package workload

import (
	"fmt"
	"math/rand/v2"

	"github.com/cqrsbench/cqrsbench/reference/datagen"
	"github.com/cqrsbench/cqrsbench/reference/domain"
)

// Commands generates commands. It is not safe for concurrent use: give each
// worker its own (with its own seed) or guard it.
type Commands struct {
	gen       *datagen.Generator
	rng       *rand.Rand
	customers int64
	products  int64
	maxOrder  int64 // highest order id known to exist
	recent    int64 // how many of the latest ids count as recent
}

// New returns a generator over the dataset gen describes, whose orders have
// ids 1..orders.
func New(gen *datagen.Generator, seed uint64) *Commands {
	cfg := gen.Config().WithDefaults()
	return &Commands{
		gen:       gen,
		rng:       rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		customers: int64(cfg.Customers),
		products:  int64(cfg.Products),
		maxOrder:  int64(cfg.Orders),
		recent:    max(int64(cfg.Orders)/50, 20),
	}
}

// Created tells the generator an order with this id now exists.
func (c *Commands) Created(orderID int64) { c.maxOrder = max(c.maxOrder, orderID) }

// Next returns a command of kind.
func (c *Commands) Next(kind domain.Kind) (domain.Command, error) {
	switch kind {
	case domain.KindCreateOrder:
		return c.createOrder(), nil
	case domain.KindAddLine:
		return domain.AddLine{OrderID: c.order(), Line: c.line()}, nil
	case domain.KindConfirmOrder:
		return domain.ConfirmOrder{OrderID: c.order()}, nil
	case domain.KindShipOrder:
		return domain.ShipOrder{OrderID: c.order()}, nil
	case domain.KindCancelOrder:
		return domain.CancelOrder{OrderID: c.order()}, nil
	}
	return nil, fmt.Errorf("workload: unknown command kind %q", kind)
}

// Customer returns a customer id, uniformly.
func (c *Commands) Customer() int64 { return 1 + c.rng.Int64N(c.customers) }

func (c *Commands) createOrder() domain.CreateOrder {
	customer := c.Customer()
	addresses := c.gen.AddressesOf(customer)
	cmd := domain.CreateOrder{CustomerID: customer, ShippingAddressID: addresses[c.rng.IntN(len(addresses))]}
	n := domain.MinCreateLines + c.rng.IntN(domain.MaxCreateLines-domain.MinCreateLines+1)
	for range n {
		cmd.Lines = append(cmd.Lines, c.line())
	}
	return cmd
}

func (c *Commands) line() domain.Line {
	product := 1 + c.rng.Int64N(c.products)
	return domain.Line{ProductID: product, Quantity: 1 + c.rng.Int32N(3), UnitPriceCents: c.gen.ProductPriceCents(product)}
}

// order picks a recent order 85% of the time, any order otherwise.
func (c *Commands) order() int64 {
	if c.rng.IntN(100) < 85 {
		return c.maxOrder - c.rng.Int64N(min(c.recent, c.maxOrder))
	}
	return 1 + c.rng.Int64N(c.maxOrder)
}
