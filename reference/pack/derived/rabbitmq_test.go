package derived_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/rabbitlocal"
	"github.com/cqrsbench/cqrsbench/reference/pack"
	"github.com/cqrsbench/cqrsbench/reference/pack/derived"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
)

// urlEnv names a RabbitMQ broker for the tests; unset, they start a
// throwaway local node.
const urlEnv = "CQRSBENCH_AMQP_URL"

var queues atomic.Int64

// rabbitConfig returns a config on queues of the test's own, on the broker
// of urlEnv or a throwaway local node; it skips (fails when services are
// required) when neither can be had.
func rabbitConfig(t *testing.T) derived.RabbitMQConfig {
	t.Helper()
	url := os.Getenv(urlEnv)
	if url == "" {
		infratest.SkipShort(t)
		n, err := node.Get(func() (*rabbitlocal.Node, error) {
			return rabbitlocal.Start(context.Background(), rabbitlocal.Options{})
		})
		if errors.Is(err, rabbitlocal.ErrNotInstalled) {
			infratest.Missing(t, "no RabbitMQ broker: %v; or set %s (e.g. amqp://guest:guest@127.0.0.1:5672/)", err, urlEnv)
		}
		if err != nil {
			t.Fatalf("start a RabbitMQ node: %v", err)
		}
		url = n.URL()
	}
	var cfg derived.RabbitMQConfig
	cfg.AMQP.URL = url
	cfg.AMQP.Queue = fmt.Sprintf("test.derived.%d.%d", time.Now().UnixNano(), queues.Add(1))
	cfg.AMQP.DeadLetterExchange, cfg.AMQP.DeadLetterQueue = cfg.AMQP.Queue+".dlx", cfg.AMQP.Queue+".dead"
	cfg.OnError = func(err error) { t.Logf("recovered: %v", err) }
	return cfg
}

// withClear adds to the counter pack the command clear, which deletes a
// group's items: its group_totals row goes away.
func withClear(p *pack.Pack) *pack.Command {
	c := &pack.Command{Name: "clear", Weight: 1,
		Statements: []pack.CommandStatement{{Name: "delete", Statement: pack.Statement{
			Text: "DELETE FROM items WHERE grp = $1 RETURNING grp", Params: []string{"grp"}}}},
		Affects: map[string][]string{"group_totals": {"grp"}}}
	p.Commands = append(p.Commands, c)
	return c
}

// newRabbitMQ builds and sets up cqrs-rabbitmq on the counter pack, closed
// at the end of the test.
func newRabbitMQ(t *testing.T, cfg derived.RabbitMQConfig) (*derived.RabbitMQ, *pack.Pack, *pgxpool.Pool) {
	t.Helper()
	cfg.Relay.PollInterval = 50 * time.Millisecond
	pool := shared.Pool(t)
	const schema = "cqrs_rabbitmq"
	p := counter(t, pool, schema)
	withClear(p)
	sys, err := derived.NewRabbitMQ(t.Context(), "cqrs-rabbitmq", pool, schema, p, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := sys.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if err := sys.Setup(t.Context()); err != nil {
		t.Fatal(err)
	}
	if n := violations(t, p, pool, schema); n != 0 {
		t.Fatalf("after setup: %d rows differ", n)
	}
	return sys, p, pool
}

// TestRabbitMQCommandsCatchUp: concurrent commands adding to, clearing
// and being refused on five groups go through the outbox, the relay,
// RabbitMQ and competing workers; once caught up every read-model row is
// its projection's, every event was applied or skipped as old, and the
// Observer saw every committed event applied.
func TestRabbitMQCommandsCatchUp(t *testing.T) {
	cfg := rabbitConfig(t)
	cfg.AMQP.Workers, cfg.AMQP.Prefetch = 4, 8 // small batches: workers interleave
	var mu sync.Mutex
	seen := map[event.Stage]map[event.Ref]bool{}
	cfg.Observer = event.ObserverFunc(func(stage event.Stage, _ time.Time, refs []event.Ref) {
		mu.Lock()
		defer mu.Unlock()
		if seen[stage] == nil {
			seen[stage] = map[event.Ref]bool{}
		}
		for _, r := range refs {
			seen[stage][r] = true
		}
	})
	sys, p, pool := newRabbitMQ(t, cfg)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := sys.Start(ctx); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 8)
	var rejected atomic.Int64
	for w := range 8 {
		go func() {
			var err error
			for i := 0; i < 40 && err == nil; i++ {
				grp := 1 + (w+i)%5
				switch {
				case i%13 == 12:
					_, err = sys.Run(ctx, p.Commands[1], map[string]any{"grp": grp})
				default:
					_, err = sys.Run(ctx, p.Commands[0], map[string]any{"grp": grp, "qty": i % 4})
					var rej *pack.Rejected
					if errors.As(err, &rej) {
						rejected.Add(1)
						err = nil
					}
				}
			}
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if err := sys.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	if n := violations(t, p, pool, "cqrs_rabbitmq"); n != 0 {
		t.Fatalf("caught up: %d rows differ from the projection", n)
	}
	committed, err := p.Committed(ctx, pool, "cqrs_rabbitmq")
	if err != nil {
		t.Fatal(err)
	}
	st := sys.PipelineStats()
	t.Logf("committed key versions %d, refused %d, stats %+v", committed, rejected.Load(), st)
	if st.Relayed != committed || st.Applied+st.Duplicates < committed || st.Applied == 0 {
		t.Errorf("%d key versions committed: relayed %d, applied %d, skipped %d", committed, st.Relayed, st.Applied, st.Duplicates)
	}
	if rejected.Load() == 0 {
		t.Error("no command was refused: the test does not exercise refusals")
	}
	mu.Lock()
	defer mu.Unlock()
	if n := int64(len(seen[event.StageCommitted])); n != committed {
		t.Errorf("observed %d events committed, want %d", n, committed)
	}
	for _, stage := range event.Stages()[1:] {
		for r := range seen[event.StageCommitted] {
			if !seen[stage][r] {
				t.Fatalf("event %+v committed, never observed at stage %v", r, stage)
			}
		}
	}
}

// outboxEvents returns the events of the outbox (the relays are not
// running), oldest first.
func outboxEvents(t *testing.T, pool *pgxpool.Pool) [][]byte {
	t.Helper()
	rows, err := pool.Query(t.Context(), "SELECT payload::text FROM cqrs_rabbitmq.outbox ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	evs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]byte, error) {
		var s string
		err := r.Scan(&s)
		return []byte(s), err
	})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// TestRabbitMQVersionGuard: the events of group 2 (versions 1 to 3: two
// adds, then a clear) are handed to the projector late, twice and out of
// order, in batches of their own and together. With the guard the read
// model ends as the newest version says (no row); without it (the
// negative control) an older event delivered last moves the row back and
// the checker finds it.
func TestRabbitMQVersionGuard(t *testing.T) {
	for _, noGuard := range []bool{false, true} {
		t.Run(map[bool]string{false: "guard", true: "no guard"}[noGuard], func(t *testing.T) {
			cfg := rabbitConfig(t)
			cfg.NoVersionGuard = noGuard
			sys, p, pool := newRabbitMQ(t, cfg) // not started: events stay in the outbox
			ctx := t.Context()
			for _, args := range []map[string]any{{"grp": 2, "qty": 3}, {"grp": 2, "qty": 4}} {
				if _, err := sys.Run(ctx, p.Commands[0], args); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := sys.Run(ctx, p.Commands[1], map[string]any{"grp": 2}); err != nil {
				t.Fatal(err)
			}
			ev := outboxEvents(t, pool)
			if len(ev) != 3 {
				t.Fatalf("%d events in the outbox, want 3", len(ev))
			}
			// v3 (no row), v1 again and again, v2 and v3 again together, v1
			// and v2 in one batch, newest first.
			for _, batch := range [][][]byte{{ev[2]}, {ev[0]}, {ev[0]}, {ev[1], ev[2]}, {ev[1], ev[0]}} {
				if err := sys.Handle(ctx, batch...); err != nil {
					t.Fatal(err)
				}
			}
			n := violations(t, p, pool, "cqrs_rabbitmq")
			st := sys.PipelineStats()
			t.Logf("applied %d, skipped %d", st.Applied, st.Duplicates)
			if !noGuard && (n != 0 || st.Applied != 1 || st.Duplicates != 6) {
				t.Errorf("with the guard: %d rows differ, applied %d, skipped %d; want 0, 1, 6", n, st.Applied, st.Duplicates)
			}
			if noGuard && n == 0 {
				t.Error("negative control: without the guard no row is wrong; the test does not exercise reordering")
			}
		})
	}
}

// TestRabbitMQPauseAndPoison: while the workers are paused commands go
// on and the read model falls behind; a poison message among the events
// is dead-lettered, not applied and not waited for; once resumed the
// workers catch up.
func TestRabbitMQPauseAndPoison(t *testing.T) {
	sys, p, pool := newRabbitMQ(t, rabbitConfig(t))
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := sys.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sys.PauseProjector(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sys.InjectPoison(ctx, 1); err != nil {
		t.Fatal(err)
	}
	for grp := 1; grp <= 5; grp++ {
		if _, err := sys.Run(ctx, p.Commands[0], map[string]any{"grp": grp, "qty": 2}); err != nil {
			t.Fatal(err)
		}
	}
	if n := violations(t, p, pool, "cqrs_rabbitmq"); n != 5 {
		t.Fatalf("paused: %d rows differ, want the 5 groups behind", n)
	}
	if err := sys.ResumeProjector(); err != nil {
		t.Fatal(err)
	}
	if err := sys.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	if n := violations(t, p, pool, "cqrs_rabbitmq"); n != 0 {
		t.Fatalf("resumed and caught up: %d rows differ", n)
	}
	tick := time.NewTicker(10 * time.Millisecond) // poll the counter until the deadline
	defer tick.Stop()
	for sys.PipelineStats().DeadLettered != 1 {
		select {
		case <-ctx.Done():
			t.Fatalf("the poison message was not dead-lettered: %+v", sys.PipelineStats())
		case <-tick.C:
		}
	}
	if st := sys.PipelineStats(); st.Applied != 5 {
		t.Errorf("applied %d events, want 5", st.Applied)
	}
}
