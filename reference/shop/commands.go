package shop

import (
	"fmt"
	"math/rand/v2"

	"github.com/cqrsbench/cqrsbench/reference/datagen"
	"github.com/cqrsbench/cqrsbench/reference/domain"
)

// Commands generates a deterministic stream of domain commands over a
// generated dataset: the same seed (and the same outcomes fed back) gives
// the same commands, so every architecture can be driven with exactly the
// same sequence.
//
// Transitions target orders the generator saw created and moved (its carts
// and confirmed orders) when it has some, so most are valid, as in a real
// shop; with probability CommandOptions.Random, or when it has none, they target a
// recent or any order instead, so some are invalid (shipping a cancelled
// order, adding a line to a shipped one): those must fail with typed errors
// in every architecture alike.
//
// It is not safe for concurrent use: give each worker its own (with its own
// seed) or guard it.
type Commands struct {
	gen       *datagen.Generator
	rng       *rand.Rand
	random    float64
	customers int64
	products  int64
	maxOrder  int64 // highest order id known to exist
	recent    int64 // how many of the latest ids count as recent
	carts     pool  // orders this generator saw in cart
	confirmed pool  // orders this generator saw confirmed
}

// CommandOptions tunes a generator.
type CommandOptions struct {
	// Random is the probability that a command on an existing order picks a
	// recent or any order instead of one known to allow it. 1 picks at
	// random always (many invalid transitions); 0 never, when it can.
	Random float64
}

// New returns a generator over the dataset gen describes, whose orders have
// ids 1..orders.
func NewCommands(gen *datagen.Generator, seed uint64, opts CommandOptions) *Commands {
	cfg := gen.Config().WithDefaults()
	return &Commands{
		gen:       gen,
		rng:       rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		random:    opts.Random,
		customers: int64(cfg.Customers),
		products:  int64(cfg.Products),
		maxOrder:  int64(cfg.Orders),
		recent:    max(int64(cfg.Orders)/50, 20),
	}
}

// Applied tells the generator a command succeeded, so it can aim later
// commands at orders that allow them.
func (c *Commands) Applied(cmd domain.Command, orderID int64) {
	c.maxOrder = max(c.maxOrder, orderID)
	switch cmd.Kind() {
	case domain.KindCreateOrder:
		c.carts.add(orderID)
	case domain.KindConfirmOrder:
		c.carts.remove(orderID)
		c.confirmed.add(orderID)
	case domain.KindShipOrder, domain.KindCancelOrder:
		c.carts.remove(orderID)
		c.confirmed.remove(orderID)
	}
}

// Next returns a command of kind.
func (c *Commands) Next(kind domain.Kind) (domain.Command, error) {
	switch kind {
	case domain.KindCreateOrder:
		return c.createOrder(), nil
	case domain.KindAddLine:
		return domain.AddLine{OrderID: c.order(&c.carts), Line: c.line()}, nil
	case domain.KindConfirmOrder:
		return domain.ConfirmOrder{OrderID: c.order(&c.carts)}, nil
	case domain.KindShipOrder:
		return domain.ShipOrder{OrderID: c.order(&c.confirmed)}, nil
	case domain.KindCancelOrder:
		from := &c.carts
		if c.rng.IntN(2) == 0 {
			from = &c.confirmed
		}
		return domain.CancelOrder{OrderID: c.order(from)}, nil
	}
	return nil, fmt.Errorf("shop: unknown command kind %q", kind)
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

// order picks from known, an order that allows the command, unless it is
// empty or the Random draw says otherwise; then a recent order 85% of the
// time, any order otherwise.
func (c *Commands) order(known *pool) int64 {
	if len(known.ids) > 0 && c.rng.Float64() >= c.random {
		return known.ids[c.rng.IntN(len(known.ids))]
	}
	if c.rng.IntN(100) < 85 {
		return c.maxOrder - c.rng.Int64N(min(c.recent, c.maxOrder))
	}
	return 1 + c.rng.Int64N(c.maxOrder)
}

// pool is a set of order ids with O(1) add, remove and random pick.
type pool struct {
	ids []int64
	at  map[int64]int
}

func (p *pool) add(id int64) {
	if p.at == nil {
		p.at = map[int64]int{}
	}
	if _, ok := p.at[id]; ok {
		return
	}
	p.at[id] = len(p.ids)
	p.ids = append(p.ids, id)
}

func (p *pool) remove(id int64) {
	i, ok := p.at[id]
	if !ok {
		return
	}
	last := p.ids[len(p.ids)-1]
	p.ids[i] = last
	p.at[last] = i
	p.ids = p.ids[:len(p.ids)-1]
	delete(p.at, id)
}
