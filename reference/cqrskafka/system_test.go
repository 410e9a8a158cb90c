package cqrskafka_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference/cqrskafka"
	"github.com/cqrsbench/cqrsbench/reference/datagen"
	"github.com/cqrsbench/cqrsbench/reference/domain"
)

// TestRoundTrip drives commands of every kind through the System and
// checks that, once caught up, the read models are what the write model
// implies; then rebuilds them from the topic and checks again.
func TestRoundTrip(t *testing.T) {
	f := newFixture(t, 2_000, nil)
	f.start(t)
	got := f.runCommands(t, 400, 1, f.execSystem)
	t.Logf("outcomes: %v", got)
	for _, kind := range domain.Kinds() {
		if got[string(kind)+" ok"] == 0 {
			t.Errorf("no successful %s", kind)
		}
	}
	f.waitCaughtUp(t)
	f.checkReadModels(t)
	st := f.sys.Stats()
	t.Logf("stats after commands: %+v", st)
	ok := 0
	for k, n := range got {
		if len(k) > 3 && k[len(k)-3:] == " ok" {
			ok += n
		}
	}
	if st.Relay.Relayed != int64(ok) || st.Projector.Applied != int64(ok) || st.Projector.Duplicates != 0 {
		t.Errorf("relayed %d, applied %d, duplicates %d; want %d, %d, 0", st.Relay.Relayed, st.Projector.Applied, st.Projector.Duplicates, ok, ok)
	}

	rb, err := f.sys.Rebuild(t.Context())
	if err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	t.Logf("rebuild: %+v (%.0f events/s)", rb, rb.EventsPerSecond())
	if want := int64(f.data.Orders) + int64(ok); rb.Events != want || rb.Applied != want {
		t.Errorf("rebuild replayed %d events and applied %d, want %d (snapshots + commands)", rb.Events, rb.Applied, want)
	}
	f.checkReadModels(t)
}

// TestWakesWithoutFallbackPoll turns the idle relays' fallback poll off
// (an hour): every command must then be relayed by the wake protocol
// alone (NOTIFY while armed, active polling while busy), alone, in bursts,
// and with a transaction holding the wake lock open; a lost wake-up would
// hang WaitCaughtUp.
func TestWakesWithoutFallbackPoll(t *testing.T) {
	f := newFixture(t, 300, func(c *cqrskafka.Config) {
		c.Relay.PollInterval = time.Hour
		c.Relay.Relays = 2
	})
	f.start(t)
	gen, err := datagen.New(f.data)
	if err != nil {
		t.Fatal(err)
	}
	customers := int64(f.data.WithDefaults().Customers)
	create := func(n int64) domain.CreateOrder {
		customer := 1 + n%customers
		return domain.CreateOrder{CustomerID: customer, ShippingAddressID: gen.AddressesOf(customer)[0],
			Lines: []domain.Line{{ProductID: 1, Quantity: 1, UnitPriceCents: gen.ProductPriceCents(1)}}}
	}
	ctx := t.Context()
	for i := range int64(20) {
		if _, err := f.sys.Execute(ctx, create(1+i)); err != nil {
			t.Fatal(err)
		}
		f.waitCaughtUp(t)
	}
	for round := range int64(5) {
		var g errgroup
		for i := range int64(8) {
			g.Go(func() error { _, err := f.sys.Execute(ctx, create(1+round*8+i)); return err })
		}
		if err := g.Wait(); err != nil {
			t.Fatal(err)
		}
		f.waitCaughtUp(t)
	}
	// A command transaction left open holds the wake lock shared, so the
	// relays cannot arm; they poll actively meanwhile.
	store, held := f.holdTx(t)
	if _, err := store.Execute(ctx, held, create(100)); err != nil {
		t.Fatal(err)
	}
	for i := range int64(5) {
		if _, err := f.sys.Execute(ctx, create(101+i)); err != nil {
			t.Fatal(err)
		}
		f.waitCaughtUp(t)
	}
	if err := held.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	f.waitCaughtUp(t)
	st := f.sys.Stats().Relay
	t.Logf("relay %+v", st)
	if st.Arms == 0 || st.Wakeups == 0 {
		t.Errorf("arms %d, wake-ups %d: the relays never waited for a notification", st.Arms, st.Wakeups)
	}
	f.checkReadModels(t)
}

// errgroup runs functions concurrently and returns the first error.
type errgroup struct {
	wg   sync.WaitGroup
	once sync.Once
	err  error
}

func (g *errgroup) Go(fn func() error) {
	g.wg.Go(func() {
		if err := fn(); err != nil {
			g.once.Do(func() { g.err = err })
		}
	})
}

func (g *errgroup) Wait() error { g.wg.Wait(); return g.err }

// TestTransitionSeesLineItWaitedFor holds an add_line open while a confirm
// of the same order waits for its lock: the confirm's event must carry the
// total including that line. (A one-statement transition keeps the
// snapshot it took before the wait and sums the lines without it, which
// moves revenue between statuses in daily_sales.)
func TestTransitionSeesLineItWaitedFor(t *testing.T) {
	f := newFixture(t, 200, nil)
	f.start(t)
	ctx := t.Context()
	var order int64
	if err := f.pool.QueryRow(ctx, `SELECT id FROM `+f.schema+`.orders WHERE status = 'cart' ORDER BY id LIMIT 1`).Scan(&order); err != nil {
		t.Fatalf("find a cart: %v", err)
	}
	gen, err := datagen.New(f.data)
	if err != nil {
		t.Fatal(err)
	}
	store, held := f.holdTx(t)
	var heldPID int32
	if err := held.QueryRow(ctx, `SELECT pg_backend_pid()`).Scan(&heldPID); err != nil {
		t.Fatal(err)
	}
	add := domain.AddLine{OrderID: order, Line: domain.Line{ProductID: 2, Quantity: 3, UnitPriceCents: gen.ProductPriceCents(2)}}
	if _, err := store.Execute(ctx, held, add); err != nil {
		t.Fatalf("add_line: %v", err)
	}
	confirmed := make(chan error, 1)
	go func() {
		_, err := f.sys.Execute(ctx, domain.ConfirmOrder{OrderID: order})
		confirmed <- err
	}()
	awaitBlockedBy(t, f.pool, heldPID)
	if err := held.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-confirmed; err != nil {
		t.Fatalf("confirm: %v", err)
	}
	f.waitCaughtUp(t)
	f.checkReadModels(t)
}

// awaitBlockedBy returns once some backend waits for a lock held by the
// backend pid.
func awaitBlockedBy(t testing.TB, pool *pgxpool.Pool, pid int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	for {
		var waiting bool
		err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE $1::int = ANY (pg_blocking_pids(pid)))`, pid).Scan(&waiting)
		if err != nil {
			t.Fatalf("waiting for a backend blocked by %d: %v", pid, err)
		}
		if waiting {
			return
		}
		time.Sleep(time.Millisecond) // re-check pg_stat_activity
	}
}
