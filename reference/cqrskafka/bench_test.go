package cqrskafka_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/cqrskafka"
	"github.com/cqrsbench/cqrsbench/reference/datagen"
	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/outbox"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/relay"
	"github.com/cqrsbench/cqrsbench/reference/readmodel"
	"github.com/cqrsbench/cqrsbench/reference/writemodel"
)

// Environment variables that size the benchmarks.
const (
	benchEventsEnv = "CQRSBENCH_BENCH_EVENTS"
	benchOrdersEnv = "CQRSBENCH_BENCH_ORDERS"
	// benchPollEnv overrides the projector's MaxPollRecords in
	// BenchmarkProjectorCatchUp.
	benchPollEnv = "CQRSBENCH_BENCH_MAX_POLL"
)

// benchOrders is the dataset of the setup and rebuild benchmarks: default
// 200,000 orders.
func benchOrders(b *testing.B) int {
	b.Helper()
	if v := os.Getenv(benchOrdersEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("%s=%q: want a positive number", benchOrdersEnv, v)
		}
		return n
	}
	return 200_000
}

func benchEvents(b *testing.B, def int) int {
	b.Helper()
	if v := os.Getenv(benchEventsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("%s=%q: want a positive number", benchEventsEnv, v)
		}
		return n
	}
	return def
}

// syntheticEvents returns n events of n/4 new orders (created, line added,
// confirmed, shipped), interleaved so that a poll holds mostly distinct
// orders, as under load; ids start after firstID.
func syntheticEvents(n int, firstID int64) []*event.OrderEvent {
	const chunk = 10_000
	orders := max(n/4, 1)
	created := time.Now().UTC()
	out := make([]*event.OrderEvent, 0, n)
	for base := 0; base < orders && len(out) < n; base += chunk {
		end := min(base+chunk, orders)
		for step := range 4 {
			for i := base; i < end && len(out) < n; i++ {
				id := firstID + int64(i)
				e := &event.OrderEvent{
					Type: event.OrderCreated, OrderID: id, Version: int32(step + 1), CustomerID: 1 + id%1000,
					Number: datagen.OrderNumber(id), CreatedAt: created, Status: domain.StatusCart,
					StatusLabel: domain.StatusCart.Label(), TotalCents: 2_999 + id%5_000, ItemCount: 3,
					FirstImageURL: "https://img.example.com/products/" + strconv.FormatInt(1+id%10_000, 10) + "/1.jpg",
					EmittedAt:     created,
				}
				switch step {
				case 1:
					e.Type, e.PrevStatus, e.PrevTotalCents, e.TotalCents, e.ItemCount = event.LineAdded, domain.StatusCart, e.TotalCents, e.TotalCents+1_500, 4
				case 2:
					e.TotalCents += 1_500
					e.Type, e.Status, e.PrevStatus, e.PrevTotalCents, e.ItemCount = event.OrderConfirmed, domain.StatusConfirmed, domain.StatusCart, e.TotalCents, 4
				case 3:
					e.TotalCents += 1_500
					e.Type, e.Status, e.PrevStatus, e.PrevTotalCents, e.ItemCount = event.OrderShipped, domain.StatusShipped, domain.StatusConfirmed, e.TotalCents, 4
				}
				e.StatusLabel = e.Status.Label()
				out = append(out, e)
			}
		}
	}
	return out
}

// produceEvents writes events to topic and waits for every ack.
func produceEvents(b testing.TB, brokers []string, topic string, events []*event.OrderEvent) {
	b.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	ctx := b.Context()
	errs := make(chan error, 1)
	for _, e := range events {
		rec := &kgo.Record{Topic: topic, Key: event.AppendKey(nil, e.OrderID), Value: e.AppendJSON(nil)}
		cl.Produce(ctx, rec, func(_ *kgo.Record, err error) {
			if err != nil {
				select {
				case errs <- err:
				default:
				}
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	select {
	case err := <-errs:
		b.Fatal(err)
	default:
	}
}

// BenchmarkProjectorCatchUp measures how fast a projector applies a backlog
// from real Kafka: the backlog (CQRSBENCH_BENCH_EVENTS, default 200,000
// events) is produced while the projector is paused; the timer runs from
// its resumption (group join included) until WaitCaughtUp returns. Then the
// read models are rebuilt from the topic (snapshot + backlog), reported as
// rebuild-events/s. CQRSBENCH_BENCH_MAX_POLL sets the projector's
// MaxPollRecords (the batch size).
func BenchmarkProjectorCatchUp(b *testing.B) {
	n := benchEvents(b, 200_000)
	for b.Loop() {
		b.StopTimer()
		f := newFixture(b, 2_000, func(c *cqrskafka.Config) {
			if v := os.Getenv(benchPollEnv); v != "" {
				c.Projector.MaxPollRecords, _ = strconv.Atoi(v)
			}
		})
		f.start(b)
		if err := f.sys.PauseProjector(b.Context()); err != nil {
			b.Fatal(err)
		}
		produceEvents(b, f.cfg.Brokers, f.sys.Config().Topic, syntheticEvents(n, 10_000_000))
		b.StartTimer()
		began := time.Now()
		if err := f.sys.ResumeProjector(); err != nil {
			b.Fatal(err)
		}
		f.waitCaughtUp(b)
		elapsed := time.Since(began)
		b.StopTimer()
		st := f.sys.Stats().Projector
		if st.Applied != int64(n) {
			b.Fatalf("applied %d events, want %d", st.Applied, n)
		}
		b.ReportMetric(float64(n)/elapsed.Seconds(), "events/s")
		b.ReportMetric(float64(n)/float64(st.Batches), "events/batch")
		rb, err := f.sys.Rebuild(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(rb.EventsPerSecond(), "rebuild-events/s")
		b.Logf("catch-up: %d events in %s (%d batches); rebuild: %d events in %s (total %s)",
			n, elapsed.Round(time.Millisecond), st.Batches, rb.Events, rb.Replay.Round(time.Millisecond), rb.Total.Round(time.Millisecond))
		b.StartTimer()
	}
}

// BenchmarkRelay measures relay throughput, a relay catching up on a
// backlog: CQRSBENCH_BENCH_EVENTS (default 100,000) outbox rows, committed
// beforehand in transactions of 100 (one order's worth of events each),
// until every one is acknowledged by Kafka and deleted; the skip-locked
// relay with 1 and 2 workers, the WAL relay (which runs alone) decoding
// them from its slot, created before the rows were written.
func BenchmarkRelay(b *testing.B) {
	n := benchEvents(b, 100_000)
	for _, tc := range []struct {
		mode   relay.Mode
		relays int
	}{{relay.ModeSkipLocked, 1}, {relay.ModeSkipLocked, 2}, {relay.ModeWAL, 1}} {
		b.Run(fmt.Sprintf("%s/relays=%d", tc.mode, tc.relays), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				f := newFixture(b, 100, func(c *cqrskafka.Config) { c.SkipSnapshot = true })
				ctx := b.Context()
				producer, err := kgo.NewClient(kgo.SeedBrokers(f.cfg.Brokers...))
				if err != nil {
					b.Fatal(err)
				}
				pub, err := cqrskafka.NewPublisher(producer, f.sys.Config().Topic, 0)
				if err != nil {
					b.Fatal(err)
				}
				r, err := relay.New(f.pool, pub, relay.Config{Schema: f.schema, Mode: tc.mode, Relays: tc.relays, Channel: outbox.Channel(f.schema)})
				if err != nil {
					b.Fatal(err)
				}
				if err := r.Prepare(ctx); err != nil { // the WAL relay's slot, before the rows
					b.Fatal(err)
				}
				// Events as the commands write them: the payload of each
				// of the 100 loaded orders' current state, repeated, one
				// transaction per repetition.
				fill := readmodel.Expand(`
					DO $$ BEGIN FOR g IN 1..{{n}} LOOP
					INSERT INTO {{schema}}.outbox (aggregate_id, type, version, payload)
					SELECT r.order_id, 'order_confirmed', r.version + g, jsonb_build_object(
					    'type', 'order_confirmed', 'order_id', r.order_id, 'version', r.version + g,
					    'customer_id', r.customer_id, 'number', r.number, 'created_at', r.created_at,
					    'status', r.status, 'status_label', r.status_label, 'total_cents', r.total_cents,
					    'item_count', r.item_count, 'first_image_url', r.first_image_url,
					    'prev_status', 'cart', 'prev_total_cents', r.total_cents, 'emitted_at', clock_timestamp())
					FROM {{schema}}.order_read_model r;
					COMMIT; END LOOP; END $$`, f.schema)
				if _, err := f.pool.Exec(ctx, strings.ReplaceAll(fill, "{{n}}", strconv.Itoa(n/100))); err != nil {
					b.Fatal(err)
				}
				var maxID int64
				if err := f.pool.QueryRow(ctx, readmodel.Expand(`SELECT max(id) FROM {{schema}}.outbox`, f.schema)).Scan(&maxID); err != nil {
					b.Fatal(err)
				}
				rctx, cancel := context.WithCancel(ctx)
				done := make(chan struct{})
				b.StartTimer()
				began := time.Now()
				go func() { defer close(done); _ = r.Run(rctx) }()
				if err := r.WaitPublished(ctx, maxID); err != nil {
					b.Fatal(err)
				}
				elapsed := time.Since(began)
				b.StopTimer()
				cancel()
				<-done
				producer.Close()
				if err := r.Drop(ctx); err != nil {
					b.Fatal(err)
				}
				c := r.Counters()
				if c.Relayed != int64(n/100*100) {
					b.Fatalf("relayed %d rows, want %d", c.Relayed, n/100*100)
				}
				b.ReportMetric(float64(c.Relayed)/elapsed.Seconds(), "rows/s")
				b.ReportMetric(float64(c.Relayed)/float64(c.Batches), "rows/batch")
				b.StartTimer()
			}
		})
	}
}

// lagRecorder measures commit → read-model commit per event.
type lagRecorder struct {
	mu        sync.Mutex
	committed map[event.Ref]time.Time
	lags      []time.Duration
}

func (l *lagRecorder) Observe(stage event.Stage, at time.Time, refs []event.Ref) {
	if stage != event.StageCommitted && stage != event.StageApplied {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range refs {
		if stage == event.StageCommitted {
			l.committed[r] = at
		} else if c, ok := l.committed[r]; ok {
			l.lags = append(l.lags, at.Sub(c))
			delete(l.committed, r)
		}
	}
}

// percentile returns the p-th percentile (0 < p ≤ 100) of the lags.
func (l *lagRecorder) percentile(p float64) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lags) == 0 {
		return 0
	}
	s := slices.Clone(l.lags)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p/100))]
}

// alwaysNotifySQL replaces the outbox trigger's function by one that
// notifies at every insert, the textbook outbox trigger.
const alwaysNotifySQL = `
CREATE OR REPLACE FUNCTION {{schema}}.outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify({{channel}}, '');
    RETURN NULL;
END
$$`

// BenchmarkExecuteCreateOrder measures the write path's cost of the outbox
// and of waking the relays: create_order with 8 concurrent clients (3
// lines each) on the plain write model (what crud does) and with the
// outbox row, without workers; then with relays and projector running and
// each way of waking the relays: polling only (DisableNotify), NOTIFY at
// every command (the textbook trigger), and NOTIFY only while a relay is
// idle (the default, see package relay). The latter report the lag from
// commit to read-model commit.
func BenchmarkExecuteCreateOrder(b *testing.B) {
	for _, v := range []struct {
		name                    string
		outbox, workers, always bool
		disableNotify           bool
	}{
		{name: "write-model-only"},
		{name: "outbox", outbox: true, disableNotify: true},
		{name: "outbox+workers/poll", outbox: true, workers: true, disableNotify: true},
		{name: "outbox+workers/notify-always", outbox: true, workers: true, always: true},
		{name: "outbox+workers/notify-when-idle", outbox: true, workers: true},
	} {
		b.Run(v.name, func(b *testing.B) {
			lag := &lagRecorder{committed: map[event.Ref]time.Time{}}
			f := newFixture(b, 2_000, func(c *cqrskafka.Config) {
				c.SkipSnapshot, c.DisableNotify, c.Observer = true, v.disableNotify, lag
			})
			if v.always {
				sql := strings.ReplaceAll(readmodel.Expand(alwaysNotifySQL, f.schema), "{{channel}}", "'"+outbox.Channel(f.schema)+"'")
				if _, err := f.pool.Exec(b.Context(), sql); err != nil {
					b.Fatal(err)
				}
			}
			if v.workers {
				f.start(b)
			}
			exec := f.sys.Execute
			if !v.outbox {
				store, err := writemodel.New(f.schema, writemodel.Extension{})
				if err != nil {
					b.Fatal(err)
				}
				exec = func(ctx context.Context, cmd domain.Command) (reference.Outcome, error) {
					return store.Execute(ctx, f.pool, cmd)
				}
			}
			gen, err := datagen.New(f.data)
			if err != nil {
				b.Fatal(err)
			}
			customers := int64(f.data.WithDefaults().Customers)
			b.SetParallelism(4) // 8 clients on 2 cores
			b.ResetTimer()
			began := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				c := int64(0)
				for pb.Next() {
					c++
					customer := 1 + c%customers
					cmd := domain.CreateOrder{CustomerID: customer, ShippingAddressID: gen.AddressesOf(customer)[0], Lines: []domain.Line{
						{ProductID: 1 + c%1000, Quantity: 1, UnitPriceCents: gen.ProductPriceCents(1 + c%1000)},
						{ProductID: 2 + c%1000, Quantity: 2, UnitPriceCents: gen.ProductPriceCents(2 + c%1000)},
						{ProductID: 3 + c%1000, Quantity: 1, UnitPriceCents: gen.ProductPriceCents(3 + c%1000)},
					}}
					if _, err := exec(b.Context(), cmd); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(began).Seconds(), "commands/s")
			b.StopTimer()
			if v.workers {
				f.waitCaughtUp(b)
				st := f.sys.Stats().Relay
				b.ReportMetric(float64(lag.percentile(50).Microseconds())/1000, "lag-p50-ms")
				b.ReportMetric(float64(lag.percentile(99).Microseconds())/1000, "lag-p99-ms")
				b.ReportMetric(float64(st.Wakeups)/float64(b.N), "notifies/command")
			}
		})
	}
}

// BenchmarkSetup measures Setup on a loaded write model of
// CQRSBENCH_BENCH_ORDERS orders (default 200,000), with and without the
// snapshot events: the difference is the cost of seeding the topic.
func BenchmarkSetup(b *testing.B) {
	orders := benchOrders(b)
	for _, snapshot := range []bool{false, true} {
		b.Run(fmt.Sprintf("snapshot=%v", snapshot), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				pool := testPool(b)
				brokers := testBrokers(b)
				schema := uniqueName("cqrs_kafka_setup")
				dropSchemaAtEnd(b, pool, schema)
				data := datagen.Config{Orders: orders, Seed: 3}
				if _, err := datagen.Load(b.Context(), pool, schema, data, nil); err != nil {
					b.Fatal(err)
				}
				sys, err := cqrskafka.New(pool, cqrskafka.Config{Schema: schema, Brokers: brokers,
					Topic: "cqrsbench.test." + schema, Group: "cqrsbench.test." + schema, SkipSnapshot: !snapshot})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				began := time.Now()
				if err := sys.Setup(b.Context()); err != nil {
					b.Fatal(err)
				}
				elapsed := time.Since(began)
				b.StopTimer()
				b.ReportMetric(elapsed.Seconds(), "setup-s")
				if snapshot {
					b.ReportMetric(float64(sys.Stats().SnapshotEvents)/elapsed.Seconds(), "orders/s")
				}
				if err := sys.Close(b.Context()); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}

// BenchmarkRebuild measures Rebuild on CQRSBENCH_BENCH_ORDERS loaded orders
// (default 200,000; the topic holds their snapshot events and the events
// of 1,000 commands): truncate, replay, ANALYZE.
func BenchmarkRebuild(b *testing.B) {
	orders := benchOrders(b)
	for b.Loop() {
		b.StopTimer()
		f := newFixture(b, orders, nil)
		f.start(b)
		f.runCommands(b, 1_000, 9, f.execSystem)
		f.waitCaughtUp(b)
		b.StartTimer()
		rb, err := f.sys.Rebuild(b.Context())
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		b.ReportMetric(rb.EventsPerSecond(), "events/s")
		b.ReportMetric(rb.Total.Seconds(), "total-s")
		b.Logf("rebuild of %d orders: %d events replayed in %s, %s in all", orders, rb.Events, rb.Replay.Round(time.Millisecond), rb.Total.Round(time.Millisecond))
		b.StartTimer()
	}
}

// BenchmarkLagAtLowRate measures commit → read-model commit at 50
// commands/s, one at a time (open loop), for each way of waking the
// relays: where NOTIFY pays off.
func BenchmarkLagAtLowRate(b *testing.B) {
	for _, v := range []struct {
		name                  string
		always, disableNotify bool
	}{{"poll", false, true}, {"notify-always", true, false}, {"notify-when-idle", false, false}} {
		b.Run(v.name, func(b *testing.B) {
			lag := &lagRecorder{committed: map[event.Ref]time.Time{}}
			f := newFixture(b, 2_000, func(c *cqrskafka.Config) {
				c.SkipSnapshot, c.DisableNotify, c.Observer = true, v.disableNotify, lag
			})
			if v.always {
				sql := strings.ReplaceAll(readmodel.Expand(alwaysNotifySQL, f.schema), "{{channel}}", "'"+outbox.Channel(f.schema)+"'")
				if _, err := f.pool.Exec(b.Context(), sql); err != nil {
					b.Fatal(err)
				}
			}
			f.start(b)
			gen, err := datagen.New(f.data)
			if err != nil {
				b.Fatal(err)
			}
			// Warm up (connections, the producer's first metadata, the
			// projector's group join), then forget the warm-up's lag.
			warm := domain.CreateOrder{CustomerID: 1, ShippingAddressID: gen.AddressesOf(1)[0],
				Lines: []domain.Line{{ProductID: 1, Quantity: 1, UnitPriceCents: gen.ProductPriceCents(1)}}}
			if _, err := f.sys.Execute(b.Context(), warm); err != nil {
				b.Fatal(err)
			}
			f.waitCaughtUp(b)
			lag.mu.Lock()
			lag.lags = nil
			lag.mu.Unlock()
			wakeups := f.sys.Stats().Relay.Wakeups
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			for i := 0; b.Loop(); i++ {
				<-tick.C
				customer := 1 + int64(i)%int64(f.data.WithDefaults().Customers)
				cmd := domain.CreateOrder{CustomerID: customer, ShippingAddressID: gen.AddressesOf(customer)[0],
					Lines: []domain.Line{{ProductID: 1, Quantity: 1, UnitPriceCents: gen.ProductPriceCents(1)}}}
				if _, err := f.sys.Execute(b.Context(), cmd); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			f.waitCaughtUp(b)
			b.ReportMetric(float64(lag.percentile(50).Microseconds())/1000, "lag-p50-ms")
			b.ReportMetric(float64(lag.percentile(99).Microseconds())/1000, "lag-p99-ms")
			b.ReportMetric(float64(f.sys.Stats().Relay.Wakeups-wakeups)/float64(b.N), "notifies/command")
		})
	}
}
