package apply_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference/datagen"
	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/apply"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/outbox"
	"github.com/cqrsbench/cqrsbench/reference/readmodel"
	"github.com/cqrsbench/cqrsbench/reference/shop"
	"github.com/cqrsbench/cqrsbench/reference/writemodel"
)

// fixture is a loaded write model whose read models were backfilled before
// commands ran, and the events of those commands, read from the outbox: the
// read models reach the write model's state once every event is applied.
type fixture struct {
	pool   *pgxpool.Pool
	schema string
	events []event.OrderEvent // in commit order
}

// newFixture loads orders, backfills the read models, saves them (so that
// reset can restore them), then runs commands with the outbox extension.
func newFixture(t *testing.T, orders, commands int) *fixture {
	t.Helper()
	pool := shared.Pool(t)
	ctx := t.Context()
	f := &fixture{pool: pool, schema: shared.FreshSchema(t, pool, "apply")}
	data := datagen.Config{Orders: orders, Seed: 5, Today: time.Now().UTC()}
	if _, err := datagen.Load(ctx, pool, f.schema, data, nil); err != nil {
		t.Fatalf("load %d orders: %v", orders, err)
	}
	for _, step := range []func() error{
		func() error { return outbox.Create(ctx, pool, f.schema, "") },
		func() error { return apply.CreateInbox(ctx, pool, f.schema) },
		func() error { return readmodel.Create(ctx, pool, f.schema) },
		func() error { return readmodel.Backfill(ctx, pool, f.schema) },
		func() error {
			_, err := pool.Exec(ctx, f.expand(`CREATE TABLE {{schema}}.order_read_model_0 AS TABLE {{schema}}.order_read_model;
				CREATE TABLE {{schema}}.daily_sales_0 AS TABLE {{schema}}.daily_sales`))
			return err
		},
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}

	store, err := writemodel.New(f.schema, outbox.Extension())
	if err != nil {
		t.Fatal(err)
	}
	gen, err := datagen.New(data)
	if err != nil {
		t.Fatal(err)
	}
	cmds := shop.NewCommands(gen, 3, shop.CommandOptions{Random: 0.2})
	kinds := []domain.Kind{domain.KindCreateOrder, domain.KindAddLine, domain.KindAddLine, domain.KindConfirmOrder,
		domain.KindAddLine, domain.KindShipOrder, domain.KindCancelOrder, domain.KindConfirmOrder}
	for i := range commands {
		cmd, err := cmds.Next(kinds[i%len(kinds)])
		if err != nil {
			t.Fatal(err)
		}
		out, err := store.Execute(ctx, pool, cmd)
		switch {
		case err == nil:
			cmds.Applied(cmd, out.OrderID)
		case errors.Is(err, domain.ErrInvalidTransition):
		default:
			t.Fatalf("command %+v: %v", cmd, err)
		}
	}
	rows, err := pool.Query(ctx, f.expand(`SELECT payload FROM {{schema}}.outbox ORDER BY id`))
	if err != nil {
		t.Fatal(err)
	}
	payloads, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
	if err != nil {
		t.Fatal(err)
	}
	f.events = make([]event.OrderEvent, len(payloads))
	for i, p := range payloads {
		if err := event.Decode(p, &f.events[i]); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func (f *fixture) expand(sql string) string { return readmodel.Expand(sql, f.schema) }

// reset restores the read models saved before the commands and empties the
// inbox.
func (f *fixture) reset(t *testing.T) {
	t.Helper()
	_, err := f.pool.Exec(t.Context(), f.expand(`TRUNCATE {{schema}}.order_read_model, {{schema}}.daily_sales, {{schema}}.inbox;
		INSERT INTO {{schema}}.order_read_model SELECT * FROM {{schema}}.order_read_model_0;
		INSERT INTO {{schema}}.daily_sales SELECT * FROM {{schema}}.daily_sales_0`))
	if err != nil {
		t.Fatal(err)
	}
}

// diff counts the rows of each read model that differ from what the write
// model implies (missing, extra or with a field different).
func (f *fixture) diff(t *testing.T) (orders, sales int64) {
	t.Helper()
	expected := strings.ReplaceAll(readmodel.SummarySQL, "{{orders}}", "{{schema}}.orders")
	const cols = "order_id, customer_id, number, created_at, status, status_label, total_cents, item_count, first_image_url, version"
	ordersSQL := `WITH e AS (` + expected + `), a AS (SELECT ` + cols + ` FROM {{schema}}.order_read_model)
		SELECT count(*) FROM ((SELECT * FROM e EXCEPT ALL SELECT * FROM a) UNION ALL (SELECT * FROM a EXCEPT ALL SELECT * FROM e)) d`
	salesSQL := `WITH e AS (` + strings.ReplaceAll(readmodel.DailySalesSQL, "{{summaries}}", "("+expected+") s") + `),
		a AS (SELECT day, status, label, orders, revenue_cents FROM {{schema}}.daily_sales WHERE orders <> 0 OR revenue_cents <> 0)
		SELECT count(*) FROM ((SELECT * FROM e EXCEPT ALL SELECT * FROM a) UNION ALL (SELECT * FROM a EXCEPT ALL SELECT * FROM e)) d`
	for _, q := range []struct {
		sql string
		n   *int64
	}{{ordersSQL, &orders}, {salesSQL, &sales}} {
		if err := f.pool.QueryRow(t.Context(), f.expand(q.sql)).Scan(q.n); err != nil {
			t.Fatalf("compare read models: %v", err)
		}
	}
	return orders, sales
}

// applyConcurrently applies each batch with one of workers goroutines, the
// batches of one goroutine in order, and fails the test on any error.
func applyConcurrently(t *testing.T, a *apply.Applier, pool *pgxpool.Pool, batches [][]event.OrderEvent, workers int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(batches); i += workers {
				if _, err := a.Apply(t.Context(), pool, batches[i]); err != nil {
					errs <- fmt.Errorf("worker %d, batch %d: %w", w, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestConcurrentApplyConverges applies the events of a run of commands
// shuffled, a third of them two or three times, in overlapping batches
// of 1 to 60 events on 12 goroutines at once, as competing consumers on
// one queue would: events of one order, and copies of one event, are
// applied by concurrent transactions in any order. Afterwards the read
// models equal what the write model implies, each event was applied once
// and every extra copy was counted as a duplicate.
func TestConcurrentApplyConverges(t *testing.T) {
	f := newFixture(t, 300, 3000)
	rng := rand.New(rand.NewPCG(1, 2))
	var deliveries []event.OrderEvent
	versions := map[int64]int{}
	for _, e := range f.events {
		versions[e.OrderID]++
		copies := 1
		if rng.IntN(3) == 0 {
			copies += 1 + rng.IntN(2)
		}
		for range copies {
			deliveries = append(deliveries, e)
		}
	}
	multi := 0
	for _, n := range versions {
		if n > 1 {
			multi++
		}
	}
	if multi < 50 {
		t.Fatalf("only %d orders have more than one event: the test would not exercise reordering", multi)
	}
	rng.Shuffle(len(deliveries), func(i, j int) { deliveries[i], deliveries[j] = deliveries[j], deliveries[i] })
	var batches [][]event.OrderEvent
	for rest := deliveries; len(rest) > 0; {
		n := min(1+rng.IntN(60), len(rest))
		batches = append(batches, rest[:n])
		rest = rest[n:]
	}

	// Each transaction holds its locks a little longer before it commits,
	// so that concurrent transactions overlap on a busy machine too.
	hold := func(context.Context, apply.Batch) error { time.Sleep(2 * time.Millisecond); return nil }
	a, err := apply.New(apply.Config{Schema: f.schema, Consumer: "test", Hooks: apply.Hooks{BeforeDBCommit: hold}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.pool.Config().Copy()
	cfg.MaxConns = 12
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	applyConcurrently(t, a, pool, batches, 12)
	c := a.Counters()
	t.Logf("%d events (%d orders with several), %d deliveries in %d batches: %+v", len(f.events), multi, len(deliveries), len(batches), c)
	if orders, sales := f.diff(t); orders != 0 || sales != 0 {
		t.Errorf("read models differ from the write model: %d order_read_model rows, %d daily_sales rows", orders, sales)
	}
	if c.Applied != int64(len(f.events)) || c.Duplicates != int64(len(deliveries)-len(f.events)) {
		t.Errorf("applied %d, duplicates %d; want %d and %d", c.Applied, c.Duplicates, len(f.events), len(deliveries)-len(f.events))
	}
	if c.Batches != int64(len(batches)) || c.DBErrors != 0 || c.Crashes != 0 {
		t.Errorf("counters %+v: want %d batches and no errors", c, len(batches))
	}
	// Rows are locked in one global order: transactions wait for each
	// other but never deadlock (with keys in batch order they do, and are
	// retried).
	if c.Retries != 0 {
		t.Errorf("%d transactions were retried after a deadlock or serialization failure", c.Retries)
	}
}

// TestVersionGuardIsNeeded is the negative control: every order's events
// delivered newest first (as several relays or competing consumers may)
// leave each order with several events at an older version without the
// version guard, and at its newest with it. daily_sales, maintained by
// commuting deltas, is right either way.
func TestVersionGuardIsNeeded(t *testing.T) {
	f := newFixture(t, 200, 1200)
	newestFirst := slices.Clone(f.events)
	slices.SortStableFunc(newestFirst, func(x, y event.OrderEvent) int { return int(y.Version) - int(x.Version) })
	var batches [][]event.OrderEvent
	for rest := newestFirst; len(rest) > 0; {
		n := min(50, len(rest))
		batches = append(batches, rest[:n])
		rest = rest[n:]
	}
	for _, guard := range []bool{true, false} {
		t.Run(fmt.Sprintf("guard=%t", guard), func(t *testing.T) {
			f.reset(t)
			a, err := apply.New(apply.Config{Schema: f.schema, Consumer: "test", DisableVersionGuard: !guard})
			if err != nil {
				t.Fatal(err)
			}
			applyConcurrently(t, a, f.pool, batches, 1) // one goroutine: delivery order as given
			orders, sales := f.diff(t)
			t.Logf("differing rows: order_read_model %d, daily_sales %d", orders, sales)
			if sales != 0 {
				t.Errorf("daily_sales differs in %d rows; deltas should commute", sales)
			}
			switch {
			case guard && orders != 0:
				t.Errorf("with the version guard, %d order_read_model rows differ", orders)
			case !guard && orders == 0:
				t.Error("without the version guard, out-of-order delivery left order_read_model right: the negative control shows nothing")
			}
		})
	}
}

// TestApplyHooks checks that a crash before the commit applies nothing and
// that one after the commit reports the committed batch; both match
// ErrCrash and are counted.
func TestApplyHooks(t *testing.T) {
	f := newFixture(t, 50, 40)
	ctx := context.Background()
	var before, after bool
	a, err := apply.New(apply.Config{Schema: f.schema, Consumer: "test", Hooks: apply.Hooks{
		BeforeDBCommit: func(context.Context, apply.Batch) error {
			if before {
				return nil
			}
			before = true
			return errors.New("boom")
		},
		AfterDBCommit: func(context.Context, apply.Batch) error {
			if after {
				return nil
			}
			after = true
			return apply.ErrCrash
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	n := len(f.events)
	if _, err := a.Apply(ctx, f.pool, f.events); !errors.Is(err, apply.ErrCrash) {
		t.Fatalf("crash before commit: err = %v, want ErrCrash", err)
	}
	if c := a.Counters(); c.Applied != 0 || c.Crashes != 1 {
		t.Fatalf("after a crash before the commit: %+v", c)
	}
	b, err := a.Apply(ctx, f.pool, f.events)
	if !errors.Is(err, apply.ErrCrash) || b.Applied != n || b.Events != n {
		t.Fatalf("crash after commit: %+v, %v; want %d applied and ErrCrash", b, err, n)
	}
	b, err = a.Apply(ctx, f.pool, f.events)
	if err != nil || b.Duplicates != n || b.Applied != 0 {
		t.Fatalf("redelivery after the crash: %+v, %v; want %d duplicates", b, err, n)
	}
	if orders, sales := f.diff(t); orders != 0 || sales != 0 {
		t.Errorf("read models differ: %d, %d rows", orders, sales)
	}
	if c := a.Counters(); c.Applied != int64(n) || c.Duplicates != int64(n) || c.Crashes != 2 || c.Batches != 2 {
		t.Errorf("counters %+v", c)
	}
}
