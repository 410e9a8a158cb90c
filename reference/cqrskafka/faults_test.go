package cqrskafka_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/cqrskafka"
	"github.com/cqrsbench/cqrsbench/reference/datagen"
	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/apply"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/relay"
	"github.com/cqrsbench/cqrsbench/reference/readmodel"
)

// TestDuplicateDelivery has the relay produce half of the events twice.
// With the inbox the duplicates are counted and not applied; without it
// (the negative control) daily_sales double counts, and the comparison
// with the write model sees it.
func TestDuplicateDelivery(t *testing.T) {
	for _, inbox := range []bool{true, false} {
		t.Run(fmt.Sprintf("inbox=%v", inbox), func(t *testing.T) {
			f := newFixture(t, 500, func(c *cqrskafka.Config) {
				c.Relay.DuplicateFraction = 0.5
				c.Projector.DisableInbox = !inbox
			})
			f.start(t)
			f.runCommands(t, 200, 2, f.execSystem)
			f.waitCaughtUp(t)
			st := f.sys.Stats()
			t.Logf("relay %+v\nprojector %+v", st.Relay, st.Projector)
			if st.Relay.Duplicated == 0 {
				t.Fatal("no duplicates were produced: the fault did not happen")
			}
			if st.Projector.Delivered != st.Relay.Published {
				t.Errorf("delivered %d records, produced %d", st.Projector.Delivered, st.Relay.Published)
			}
			diffs := readModelDiff(t, f.pool, f.schema)
			if inbox {
				if len(diffs) > 0 {
					t.Fatalf("with the inbox, read models differ:\n%s", strings.Join(diffs, "\n"))
				}
				if st.Projector.Duplicates != st.Relay.Duplicated || st.Projector.Applied != st.Relay.Relayed {
					t.Errorf("suppressed %d duplicates and applied %d events; want %d and %d",
						st.Projector.Duplicates, st.Projector.Applied, st.Relay.Duplicated, st.Relay.Relayed)
				}
				f.checkReadModels(t)
				return
			}
			if st.Projector.Duplicates != 0 || st.Projector.Applied != st.Relay.Published {
				t.Errorf("without inbox: suppressed %d, applied %d; want 0 and %d", st.Projector.Duplicates, st.Projector.Applied, st.Relay.Published)
			}
			var sales []string
			for _, d := range diffs {
				if strings.HasPrefix(d, "daily_sales") {
					sales = append(sales, d)
				}
			}
			if len(sales) == 0 {
				t.Fatalf("negative control: without the inbox daily_sales should double count, but it matches the write model (diffs: %v)", diffs)
			}
			t.Logf("negative control detected, as it should be:\n%s", strings.Join(sales, "\n"))
		})
	}
}

// TestVisibilityGap holds a command's transaction open after it took its
// outbox id while later commands commit and are relayed, then commits it.
// The naive cursor has moved past the id and never publishes the event
// (the negative control); skip-locked publishes it.
func TestVisibilityGap(t *testing.T) {
	for _, mode := range []relay.Mode{relay.ModeSkipLocked, relay.ModeNaiveCursor} {
		t.Run(string(mode), func(t *testing.T) {
			f := newFixture(t, 500, func(c *cqrskafka.Config) { c.Relay.Mode = mode })
			f.start(t)
			ctx := t.Context()
			gen, err := datagen.New(f.data)
			if err != nil {
				t.Fatal(err)
			}
			create := func(customer int64) domain.CreateOrder {
				return domain.CreateOrder{CustomerID: customer, ShippingAddressID: gen.AddressesOf(customer)[0],
					Lines: []domain.Line{{ProductID: 1, Quantity: 2, UnitPriceCents: gen.ProductPriceCents(1)}}}
			}

			store, held := f.holdTx(t)
			slow, err := store.Execute(ctx, held, create(1))
			if err != nil {
				t.Fatal(err)
			}
			for c := int64(2); c <= 21; c++ {
				if _, err := f.sys.Execute(ctx, create(c)); err != nil {
					t.Fatal(err)
				}
			}
			f.waitCaughtUp(t) // the 20 later commands are relayed and applied
			if err := held.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			f.waitCaughtUp(t)

			var left int
			if err := f.pool.QueryRow(ctx, readmodel.Expand(`SELECT count(*) FROM {{schema}}.outbox`, f.schema)).Scan(&left); err != nil {
				t.Fatal(err)
			}
			var seen bool
			if err := f.pool.QueryRow(ctx, readmodel.Expand(`SELECT EXISTS (SELECT 1 FROM {{schema}}.order_read_model WHERE order_id = $1)`, f.schema), slow.OrderID).Scan(&seen); err != nil {
				t.Fatal(err)
			}
			diffs := readModelDiff(t, f.pool, f.schema)
			t.Logf("order %d (held) in read model: %v; outbox rows left: %d; diffs: %v", slow.OrderID, seen, left, diffs)
			if mode == relay.ModeSkipLocked {
				if !seen || left != 0 || len(diffs) != 0 {
					t.Fatalf("skip-locked lost the event of the late commit")
				}
				return
			}
			if seen || left != 1 || len(diffs) == 0 {
				t.Fatalf("negative control: naive-cursor should have skipped the late commit's event")
			}
		})
	}
}

// TestProjectorCrashAfterDBCommit kills the projector after its read-model
// transaction committed and before it committed the offsets. The restarted
// projector (same group, new member) receives the batch again: every event
// of it is counted as a duplicate and none is applied twice.
func TestProjectorCrashAfterDBCommit(t *testing.T) {
	var crashed atomic.Bool
	var crashedBatch atomic.Int64
	f := newFixture(t, 500, func(c *cqrskafka.Config) {
		c.Projector.Hooks.AfterDBCommit = func(_ context.Context, b apply.Batch) error {
			if b.Applied > 0 && crashed.CompareAndSwap(false, true) {
				crashedBatch.Store(int64(b.Applied))
				return apply.ErrCrash
			}
			return nil
		}
	})
	f.start(t)
	f.runCommands(t, 200, 3, f.execSystem)
	f.waitCaughtUp(t)
	st := f.sys.Stats().Projector
	t.Logf("crashed batch: %d events; projector %+v", crashedBatch.Load(), st)
	if !crashed.Load() || st.Crashes != 1 || st.Runs != 2 {
		t.Fatalf("crashes %d, runs %d: the crash did not happen as planned", st.Crashes, st.Runs)
	}
	if st.Duplicates != crashedBatch.Load() {
		t.Errorf("duplicates suppressed = %d, want the %d events of the crashed batch", st.Duplicates, crashedBatch.Load())
	}
	if relayed := f.sys.Stats().Relay.Relayed; st.Applied != relayed {
		t.Errorf("applied %d events, relayed %d", st.Applied, relayed)
	}
	f.checkReadModels(t)
}

// TestRelayCrashAfterConfirm kills a relay after Kafka acknowledged a batch
// and before its deletion committed: the rows are published again, counted
// as a retry, and the inbox suppresses them.
func TestRelayCrashAfterConfirm(t *testing.T) {
	var crashed atomic.Bool
	var crashedBatch atomic.Int64
	f := newFixture(t, 500, func(c *cqrskafka.Config) {
		c.Relay.Hooks.AfterConfirm = func(_ context.Context, ids []int64) error {
			if crashed.CompareAndSwap(false, true) {
				crashedBatch.Store(int64(len(ids)))
				return relay.ErrCrash
			}
			return nil
		}
	})
	f.start(t)
	f.runCommands(t, 100, 4, f.execSystem)
	f.waitCaughtUp(t)
	st := f.sys.Stats()
	t.Logf("crashed batch: %d rows; relay %+v; projector %+v", crashedBatch.Load(), st.Relay, st.Projector)
	if st.Relay.Crashes != 1 || crashedBatch.Load() == 0 {
		t.Fatalf("relay crashes = %d: the crash did not happen", st.Relay.Crashes)
	}
	if st.Projector.Duplicates != crashedBatch.Load() || st.Relay.Published != st.Relay.Relayed+crashedBatch.Load() {
		t.Errorf("duplicates %d, published %d, relayed %d; want %d duplicates", st.Projector.Duplicates, st.Relay.Published, st.Relay.Relayed, crashedBatch.Load())
	}
	if st.Relay.Retries != 1 || st.Relay.RetriedRows != crashedBatch.Load() {
		t.Errorf("relay retries %d of %d rows, want 1 of %d", st.Relay.Retries, st.Relay.RetriedRows, crashedBatch.Load())
	}
	f.checkReadModels(t)
}

// TestPoisonEventGoesToDeadLetter puts an undecodable record on the topic:
// it is dead-lettered and counted, and the projector goes on.
func TestPoisonEventGoesToDeadLetter(t *testing.T) {
	f := newFixture(t, 500, nil)
	f.start(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(f.cfg.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := t.Context()
	f.runCommands(t, 20, 5, f.execSystem)
	poison := &kgo.Record{Topic: f.sys.Config().Topic, Key: []byte("7"), Value: []byte(`{"type":"order_created","order_id":"seven"`)}
	if err := cl.ProduceSync(ctx, poison).FirstErr(); err != nil {
		t.Fatal(err)
	}
	f.runCommands(t, 20, 6, f.execSystem)
	f.waitCaughtUp(t)
	if st := f.sys.Stats().Projector; st.DeadLettered != 1 {
		t.Errorf("dead-lettered %d records, want 1", st.DeadLettered)
	}
	f.checkReadModels(t)

	dlq, err := kgo.NewClient(kgo.SeedBrokers(f.cfg.Brokers...), kgo.ConsumeTopics(f.sys.Config().DeadLetterTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer dlq.Close()
	pctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	fetches := dlq.PollRecords(pctx, 10)
	if err := pctx.Err(); err != nil {
		t.Fatalf("nothing in the dead-letter topic: %v", err)
	}
	recs := fetches.Records()
	if len(recs) != 1 || string(recs[0].Value) != string(poison.Value) {
		t.Fatalf("dead-letter topic holds %d records: %v", len(recs), recs)
	}
	headers := map[string]string{}
	for _, h := range recs[0].Headers {
		headers[h.Key] = string(h.Value)
	}
	if !strings.Contains(headers["cqrsbench-error"], "undecodable") || !strings.HasPrefix(headers["cqrsbench-source"], f.sys.Config().Topic+"/") {
		t.Errorf("dead letter headers %v", headers)
	}
}

// TestRebuildRequiresSnapshot: without the snapshot, a replay would lose the
// loaded orders, so Rebuild refuses.
func TestRebuildRequiresSnapshot(t *testing.T) {
	f := newFixture(t, 100, func(c *cqrskafka.Config) { c.SkipSnapshot = true })
	f.start(t)
	_, err := f.sys.Rebuild(t.Context())
	if err == nil || !strings.Contains(err.Error(), "SkipSnapshot") {
		t.Fatalf("Rebuild = %v, want a refusal naming SkipSnapshot", err)
	}
	if st := f.sys.Stats(); st.SnapshotEvents != 0 {
		t.Errorf("snapshot events = %d", st.SnapshotEvents)
	}
	if errors.Is(err, context.Canceled) {
		t.Fatal(err)
	}
}

// TestFailedRebuildResumesTheProjector makes a rebuild fail after it paused
// the projector (its TRUNCATE waits for a lock the test holds until the
// rebuild's deadline): the projector must run again and the read models
// must be whole, not truncated.
func TestFailedRebuildResumesTheProjector(t *testing.T) {
	f := newFixture(t, 300, nil)
	f.start(t)
	f.runCommands(t, 50, 3, f.execSystem)
	f.waitCaughtUp(t)
	ctx := t.Context()
	tx, err := f.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	if _, err := tx.Exec(ctx, "LOCK TABLE "+pgx.Identifier{f.schema, "order_read_model"}.Sanitize()+" IN ACCESS SHARE MODE"); err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	_, err = f.sys.Rebuild(rctx)
	cancel()
	if err == nil {
		t.Fatal("Rebuild succeeded although TRUNCATE could not take its lock")
	}
	t.Logf("rebuild failed as arranged: %v", err)
	if err := tx.Rollback(ctx); err != nil {
		t.Fatal(err)
	}
	if !f.sys.ProjectorRunning() {
		t.Fatal("after the failed rebuild the projector is not running")
	}
	if err := f.sys.ResumeProjector(); err == nil || !strings.Contains(err.Error(), "without a PauseProjector") {
		t.Fatalf("after the failed rebuild ResumeProjector = %v, want \"without a PauseProjector\"", err)
	}
	f.runCommands(t, 50, 4, f.execSystem)
	f.waitCaughtUp(t)
	f.checkReadModels(t)
}

// TestRebuildInsideACatchUpPause: a rebuild while a catch-up holds the
// projector paused replays, then leaves the projector paused (the
// catch-up's backlog keeps building) until the catch-up resumes it; and a
// pause taken while paused nests.
func TestRebuildInsideACatchUpPause(t *testing.T) {
	f := newFixture(t, 300, nil)
	f.start(t)
	f.runCommands(t, 50, 5, f.execSystem)
	f.waitCaughtUp(t)
	ctx := t.Context()
	if err := f.sys.PauseProjector(ctx); err != nil { // the catch-up's
		t.Fatal(err)
	}
	rb, err := f.sys.Rebuild(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rb.Applied == 0 {
		t.Fatalf("rebuild inside a pause replayed nothing: %+v", rb)
	}
	if f.sys.ProjectorRunning() {
		t.Fatal("the rebuild's end restarted a projector the catch-up holds paused")
	}
	f.checkReadModels(t)                              // the replay's
	if err := f.sys.PauseProjector(ctx); err != nil { // nested
		t.Fatal(err)
	}
	for i := range 2 {
		if err := f.sys.ResumeProjector(); err != nil {
			t.Fatalf("resume %d: %v", i+1, err)
		}
		if running := f.sys.ProjectorRunning(); running != (i == 1) {
			t.Fatalf("after %d of 2 resumes the projector runs: %v", i+1, running)
		}
	}
	f.runCommands(t, 50, 6, f.execSystem)
	f.waitCaughtUp(t)
	f.checkReadModels(t)
}

// TestLostGroupOffsetsStopTheProjector deletes the projector group's
// committed offsets, as retention does to a group left empty too long. A
// replay from the start would apply the snapshot events again — the inbox
// never saw them — and double count daily_sales; the projector must refuse
// the partitions instead, loudly.
func TestLostGroupOffsetsStopTheProjector(t *testing.T) {
	reports := make(chan error, 1)
	f := newFixture(t, 300, func(c *cqrskafka.Config) {
		c.OnError = func(err error) {
			if !errors.Is(err, context.Canceled) {
				select {
				case reports <- err:
				default:
				}
			}
		}
	})
	f.start(t)
	f.runCommands(t, 50, 5, f.execSystem)
	f.waitCaughtUp(t)
	ctx := t.Context()
	if err := f.sys.PauseProjector(ctx); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(testBrokers(t)...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	cfg := f.sys.Config()
	every := kadm.TopicsSet{}
	for p := range cfg.Partitions {
		every.Add(cfg.Topic, p)
	}
	resp, err := kadm.NewClient(cl).DeleteOffsets(ctx, cfg.Group, every)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		t.Fatalf("delete the group's offsets: %v", err)
	}
	before := f.sys.Stats().Projector
	salesBefore := salesDigest(t, f)
	if err := f.sys.ResumeProjector(); err != nil {
		t.Fatal(err)
	}
	f.runCommands(t, 20, 6, f.execSystem)
	select {
	case err := <-reports:
		t.Logf("reported: %v", err)
	case <-time.After(time.Minute):
		t.Errorf("the projector reported nothing about partitions without committed offsets; stats %+v", f.sys.Stats().Projector)
	}
	after := f.sys.Stats().Projector
	if after.Delivered != before.Delivered {
		t.Errorf("the projector consumed %d records from partitions without committed offsets", after.Delivered-before.Delivered)
	}
	if salesDigest(t, f) != salesBefore {
		t.Error("daily_sales changed: records were replayed")
	}
}

// salesDigest returns an md5 of the fixture's daily_sales rows.
func salesDigest(t *testing.T, f *fixture) string {
	t.Helper()
	var sum string
	q := "SELECT coalesce(md5(string_agg(s::text, ',' ORDER BY day, status)), '') FROM " + pgx.Identifier{f.schema, "daily_sales"}.Sanitize() + " s"
	if err := f.pool.QueryRow(t.Context(), q).Scan(&sum); err != nil {
		t.Fatal(err)
	}
	return sum
}

// TestWaitCaughtUpHoldsDuringRebuild waits for caught-up while a rebuild
// rewinds the group and replays the topic: the wait must not return before
// the replay has restored the read models. The race the rebuild epoch
// closes — a wait trusting committed offsets it read before the rewind —
// has a window this test cannot force; it checks the contract.
func TestWaitCaughtUpHoldsDuringRebuild(t *testing.T) {
	f := newFixture(t, 3000, func(c *cqrskafka.Config) { c.Projector.MaxPollRecords = 50 }) // a replay of many batches
	f.start(t)
	ctx := t.Context()
	if err := f.sys.PauseProjector(ctx); err != nil {
		t.Fatal(err)
	}
	f.runCommands(t, 40, 7, f.execSystem)
	waited := make(chan error, 1)
	go func() { waited <- f.sys.WaitCaughtUp(ctx) }() // blocks: the projector is paused
	rebuilt := make(chan error, 1)
	go func() {
		_, err := f.sys.Rebuild(ctx) // replays whatever pause holds the projector
		if err == nil {
			err = f.sys.ResumeProjector() // the test's pause: the events after the replay's end
		}
		rebuilt <- err
	}()
	select {
	case err := <-waited:
		if err != nil {
			t.Fatal(err)
		}
		if diffs := readModelDiff(t, f.pool, f.schema); len(diffs) > 0 {
			t.Errorf("WaitCaughtUp returned during the rebuild with %d read-model differences, first %s", len(diffs), diffs[0])
		}
	case <-time.After(2 * time.Minute):
		t.Fatal("WaitCaughtUp did not return")
	}
	if err := <-rebuilt; err != nil {
		t.Fatal(err)
	}
	f.checkReadModels(t)
}

// TestOutOfOrderEventsConverge delivers each order's events newest first —
// what two relays can do — within one batch (order A) and one batch per
// event (order B): the version guard keeps the newest row and the deltas,
// which commute, leave daily_sales as the events in order would.
func TestOutOfOrderEventsConverge(t *testing.T) {
	f := newFixture(t, 100, nil)
	f.start(t)
	f.waitCaughtUp(t)
	topic := f.sys.Config().Topic
	sales := func() map[string][2]int64 {
		rows, err := f.pool.Query(t.Context(), "SELECT status, orders, revenue_cents FROM "+
			pgx.Identifier{f.schema, "daily_sales"}.Sanitize()+" WHERE day = (now() AT TIME ZONE 'UTC')::date")
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][2]int64{}
		for rows.Next() {
			var st string
			var n, cents int64
			if err := rows.Scan(&st, &n, &cents); err != nil {
				t.Fatal(err)
			}
			out[st] = [2]int64{n, cents}
		}
		return out
	}
	before := sales()
	a, b := syntheticEvents(4, 9_000_001), syntheticEvents(4, 9_000_101)
	slices.Reverse(a)
	slices.Reverse(b)
	produceEvents(t, f.cfg.Brokers, topic, a)
	for _, e := range b {
		produceEvents(t, f.cfg.Brokers, topic, []*event.OrderEvent{e})
		f.waitCaughtUp(t)
	}
	f.waitCaughtUp(t)
	after := sales()
	var wantShipped [2]int64
	for _, last := range []*event.OrderEvent{a[0], b[0]} {
		got, err := f.sys.ListOrders(t.Context(), last.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		i := slices.IndexFunc(got, func(o reference.OrderSummary) bool { return o.OrderID == last.OrderID })
		if i < 0 || got[i].Version != last.Version || got[i].Status != domain.StatusShipped || got[i].TotalCents != last.TotalCents {
			t.Errorf("order %d after out-of-order delivery: %+v, want version %d shipped with total %d", last.OrderID, got, last.Version, last.TotalCents)
		}
		wantShipped[0]++
		wantShipped[1] += last.TotalCents
	}
	for _, st := range []string{"cart", "confirmed", "shipped"} {
		delta := [2]int64{after[st][0] - before[st][0], after[st][1] - before[st][1]}
		want := [2]int64{}
		if st == "shipped" {
			want = wantShipped
		}
		if delta != want {
			t.Errorf("daily_sales %s moved by %v (orders, cents), want %v", st, delta, want)
		}
	}
}

// TestSurvivesBrokerRestart stops the (local) broker while commands keep
// committing, then restarts it: the relays and the projector recover on
// their own and nothing is lost or applied twice.
func TestSurvivesBrokerRestart(t *testing.T) {
	f := newFixture(t, 500, func(c *cqrskafka.Config) { c.Relay.DeliveryTimeout = 2 * time.Second })
	broker := services.broker
	if broker == nil {
		t.Skipf("needs the local broker (not %s)", brokersEnv)
	}
	f.start(t)
	f.runCommands(t, 50, 8, f.execSystem)
	f.waitCaughtUp(t)
	ctx := t.Context()
	if err := broker.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	restarted := false
	defer func() {
		if !restarted {
			_ = broker.Restart(context.Background())
		}
	}()
	f.runCommands(t, 50, 9, f.execSystem) // the write side does not need Kafka
	if err := broker.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	restarted = true
	f.runCommands(t, 50, 10, f.execSystem)
	f.waitCaughtUp(t)
	st := f.sys.Stats()
	t.Logf("relay %+v\nprojector %+v", st.Relay, st.Projector)
	f.checkReadModels(t)
}

// TestSurvivesPostgresRestart restarts the (local) PostgreSQL under running
// relays and projector: they reconnect on their own, and commands after
// the restart are relayed and applied.
func TestSurvivesPostgresRestart(t *testing.T) {
	f := newFixture(t, 500, nil)
	cluster := services.cluster
	if cluster == nil {
		t.Skipf("needs the local PostgreSQL (not %s)", dsnEnv)
	}
	f.start(t)
	f.runCommands(t, 50, 11, f.execSystem)
	f.waitCaughtUp(t)
	if err := cluster.Restart(t.Context()); err != nil {
		t.Fatal(err)
	}
	// Connections of the pool died with the server; the pool replaces them
	// as they fail. Commands that fail on a dead connection are the load
	// generator's failures, not the architecture's: retry them here.
	retrying := func(ctx context.Context, cmd domain.Command) (int64, error) {
		for attempt := 0; ; attempt++ {
			id, err := f.execSystem(ctx, cmd)
			if err == nil || errors.Is(err, domain.ErrInvalidTransition) || attempt == 20 {
				return id, err
			}
		}
	}
	f.runCommands(t, 50, 12, retrying)
	f.waitCaughtUp(t)
	st := f.sys.Stats()
	t.Logf("relay %+v\nprojector %+v", st.Relay, st.Projector)
	f.checkReadModels(t)
}
