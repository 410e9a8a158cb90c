package shop

import (
	"context"
	"fmt"
	"math/bits"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/datagen"
	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// session drives one architecture: commands from a shared generator (it
// aims transitions at orders it saw move, so it sees every outcome), reads
// of a customer drawn without a lock.
type session struct {
	arch       Architecture
	writeModel Architecture // CRUD on the same schema; nil when unknown
	gen        *datagen.Generator
	today      time.Time
	mu         sync.Mutex // guards cmds
	cmds       *Commands
	picks      atomic.Uint64 // reads so far: the i-th read's customer is a hash of i
	pickSeed   uint64
	customers  uint64
	ryw        ownWrites
}

var (
	_ workload.HeldWriter     = (*session)(nil)
	_ workload.Prober         = (*session)(nil)
	_ workload.ReadYourWriter = (*session)(nil)
)

func newSession(arch Architecture, gen *datagen.Generator, seed uint64) *session {
	cfg := gen.Config().WithDefaults()
	return &session{
		arch: arch, gen: gen, today: cfg.Today,
		cmds:     NewCommands(gen, seed, CommandOptions{Random: randomTargets}),
		pickSeed: seed ^ 0x9e3779b97f4a7c15, customers: uint64(cfg.Customers),
	}
}

// Do implements workload.Session.
func (s *session) Do(ctx context.Context, op string) (workload.Effect, error) {
	switch op {
	case ListOrders:
		return s.listOrders(ctx)
	case SalesDashboard:
		_, err := s.arch.SalesDashboard(ctx, s.today)
		return workload.Effect{}, err
	case OrderThenList:
		return s.orderThenList(ctx)
	}
	return s.command(ctx, domain.Kind(op))
}

// customer picks the customer of a read, uniformly, without a lock (reads
// are the hot path of capacity runs): the i-th read's customer is a hash of
// the seed and i, whichever worker runs it.
func (s *session) customer() int64 {
	x := s.pickSeed + s.picks.Add(1)*0x9e3779b97f4a7c15 // splitmix64
	x = (x ^ x>>30) * 0xbf58476d1ce4e5b9
	x = (x ^ x>>27) * 0x94d049bb133111eb
	x ^= x >> 31
	hi, _ := bits.Mul64(x, s.customers)
	return 1 + int64(hi)
}

func (s *session) listOrders(ctx context.Context) (workload.Effect, error) {
	read, err := s.readList(ctx, s.customer())
	return workload.Effect{Read: read}, err
}

// orderThenList places an order for a customer and at once reads their
// list: an own-write read.
func (s *session) orderThenList(ctx context.Context) (workload.Effect, error) {
	eff, err := s.command(ctx, domain.KindCreateOrder)
	if err != nil {
		return eff, err
	}
	eff.Read, err = s.readList(ctx, eff.Write.Owner)
	if eff.Read != nil {
		eff.Read.OwnWrite = true
	}
	return eff, err
}

// readList reads customer's list under the read-your-writes policy.
func (s *session) readList(ctx context.Context, customer int64) (*workload.Read, error) {
	started := time.Now()
	rows, err := s.ryw.list(ctx, s, customer)
	if err != nil {
		return nil, err
	}
	read := &workload.Read{Owner: customer, Started: started, Shown: shown(rows), Newest: reference.ListOrdersLimit}
	if len(rows) >= reference.ListOrdersLimit {
		read.Floor = rows[len(rows)-1].CreatedAt
	}
	return read, nil
}

func shown(rows []reference.OrderSummary) []workload.Shown {
	out := make([]workload.Shown, len(rows))
	for i, r := range rows {
		out[i] = workload.Shown{Entity: r.OrderID, Version: r.Version}
	}
	return out
}

func (s *session) command(ctx context.Context, kind domain.Kind) (workload.Effect, error) {
	s.mu.Lock()
	cmd, err := s.cmds.Next(kind)
	s.mu.Unlock()
	if err != nil {
		return workload.Effect{}, err
	}
	out, err := s.arch.Execute(ctx, cmd)
	if err != nil {
		return workload.Effect{}, err
	}
	s.mu.Lock()
	s.cmds.Applied(cmd, out.OrderID)
	s.mu.Unlock()
	s.ryw.wrote(out, kind == domain.KindCreateOrder)
	return workload.Effect{Write: write(out, kind == domain.KindCreateOrder)}, nil
}

func write(out reference.Outcome, created bool) *workload.Write {
	return &workload.Write{Owner: out.CustomerID, Entity: out.OrderID, Version: out.Version, Created: created, Committed: out.Committed}
}

// Shows implements workload.Prober with list_orders of w's customer.
func (s *session) Shows(ctx context.Context, w workload.Write) (bool, error) {
	rows, err := s.arch.ListOrders(ctx, w.Owner)
	if err != nil {
		return false, err
	}
	for _, r := range rows {
		if r.OrderID == w.Entity && r.Version >= w.Version {
			return true, nil
		}
	}
	if len(rows) >= reference.ListOrdersLimit && w.Committed.Before(rows[len(rows)-1].CreatedAt) {
		return false, fmt.Errorf("order %d: %w", w.Entity, workload.ErrOffScreen)
	}
	return false, nil
}

// WriteInTx implements workload.HeldWriter: a one-line create_order of a
// random customer, in tx, when the architecture offers
// reference.TxExecutor.
func (s *session) WriteInTx(ctx context.Context, tx pgx.Tx) (workload.Write, error) {
	exec, ok := s.arch.(reference.TxExecutor)
	if !ok {
		return workload.Write{}, fmt.Errorf("%s cannot run a command in a held transaction", s.arch.Name())
	}
	customer := s.customer()
	cmd := domain.CreateOrder{CustomerID: customer, ShippingAddressID: s.gen.AddressesOf(customer)[0],
		Lines: []domain.Line{{ProductID: 1, Quantity: 1, UnitPriceCents: s.gen.ProductPriceCents(1)}}}
	out, err := exec.ExecuteInTx(ctx, tx, cmd)
	if err != nil {
		return workload.Write{}, err
	}
	return *write(out, true), nil
}
