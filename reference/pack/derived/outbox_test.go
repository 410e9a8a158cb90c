package derived_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/pack"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
)

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

// outboxArch is an event-carried architecture of a pack, as the tests
// drive it.
type outboxArch interface {
	pack.Executor
	reference.Pipeline
	reference.Pausable
	reference.Poisonable
	// Handle hands the events to the projector as one batch.
	Handle(ctx context.Context, bodies ...[]byte) error
}

// archOpts are what a test sets on an architecture, whatever its
// transport.
type archOpts struct {
	observer event.Observer
	noGuard  bool
	hooks    reference.Hooks
}

// transport builds an event-carried architecture of a pack, named name,
// on schema; it skips the test when its broker cannot be had.
type transport struct {
	name, schema string
	build        func(t *testing.T, pool *pgxpool.Pool, p *pack.Pack, o archOpts) (outboxArch, error)
}

// newOutbox builds and sets up tr's architecture on the counter pack (with
// clear), closed at the end of the test.
func newOutbox(t *testing.T, tr transport, o archOpts) (outboxArch, *pack.Pack, *pgxpool.Pool) {
	t.Helper()
	pool := shared.Pool(t)
	p := counter(t, pool, tr.schema)
	withClear(p)
	sys, err := tr.build(t, pool, p, o)
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
	if n := violations(t, p, pool, tr.schema); n != 0 {
		t.Fatalf("after setup: %d rows differ", n)
	}
	return sys, p, pool
}

// testCommandsCatchUp: concurrent commands adding to, clearing and being
// refused on five groups go through the outbox, the relay, the broker and
// the projector; once caught up every read-model row is
// its projection's, every event was applied or skipped as old, and the
// Observer saw every committed event applied.
func testCommandsCatchUp(t *testing.T, tr transport) {
	var mu sync.Mutex
	seen := map[event.Stage]map[event.Ref]bool{}
	observer := event.ObserverFunc(func(stage event.Stage, _ time.Time, refs []event.Ref) {
		mu.Lock()
		defer mu.Unlock()
		if seen[stage] == nil {
			seen[stage] = map[event.Ref]bool{}
		}
		for _, r := range refs {
			seen[stage][r] = true
		}
	})
	sys, p, pool := newOutbox(t, tr, archOpts{observer: observer})
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
	if n := violations(t, p, pool, tr.schema); n != 0 {
		t.Fatalf("caught up: %d rows differ from the projection", n)
	}
	committed, err := p.Committed(ctx, pool, tr.schema)
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
func outboxEvents(t *testing.T, pool *pgxpool.Pool, schema string) [][]byte {
	t.Helper()
	rows, err := pool.Query(t.Context(), "SELECT payload::text FROM "+pgx.Identifier{schema, "outbox"}.Sanitize()+" ORDER BY id")
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

// testVersionGuard: the events of group 2 (versions 1 to 3: two
// adds, then a clear) are handed to the projector late, twice and out of
// order, in batches of their own and together. With the guard the read
// model ends as the newest version says (no row); without it (the
// negative control) an older event delivered last moves the row back and
// the checker finds it.
func testVersionGuard(t *testing.T, tr transport) {
	for _, noGuard := range []bool{false, true} {
		t.Run(map[bool]string{false: "guard", true: "no guard"}[noGuard], func(t *testing.T) {
			sys, p, pool := newOutbox(t, tr, archOpts{noGuard: noGuard}) // not started: events stay in the outbox
			ctx := t.Context()
			for _, args := range []map[string]any{{"grp": 2, "qty": 3}, {"grp": 2, "qty": 4}} {
				if _, err := sys.Run(ctx, p.Commands[0], args); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := sys.Run(ctx, p.Commands[1], map[string]any{"grp": 2}); err != nil {
				t.Fatal(err)
			}
			ev := outboxEvents(t, pool, tr.schema)
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
			n := violations(t, p, pool, tr.schema)
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

// testPauseAndPoison: while the projector is paused commands go on and
// the read model falls behind; a poison message among the events is
// dead-lettered, not applied and not waited for; once resumed the
// projector catches up.
func testPauseAndPoison(t *testing.T, tr transport) {
	sys, p, pool := newOutbox(t, tr, archOpts{})
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
	if n := violations(t, p, pool, tr.schema); n != 5 {
		t.Fatalf("paused: %d rows differ, want the 5 groups behind", n)
	}
	if err := sys.ResumeProjector(); err != nil {
		t.Fatal(err)
	}
	if err := sys.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	if n := violations(t, p, pool, tr.schema); n != 0 {
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

// testCrashes: the projector crashes once, before or after the commit of
// a batch of the events of five commands (one per group). Before the
// commit the batch is rolled back and delivered again: every event is
// applied once. After it the batch is delivered again and the version
// guard skips it: still every event applied once, the batch's events
// counted as duplicates. Either way the read model ends equal to its
// projection (0 lost). Without the guard (the negative control) the
// batch delivered again after the commit is applied twice.
func testCrashes(t *testing.T, tr transport) {
	for _, tc := range []struct {
		name           string
		after, noGuard bool
	}{{"before commit", false, false}, {"after commit", true, false}, {"after commit, no guard", true, true}} {
		t.Run(tc.name, func(t *testing.T) {
			var crashed atomic.Int64 // the crashed batch's events
			crash := func(_ context.Context, b reference.Batch) error {
				if b.Records == 0 || !crashed.CompareAndSwap(0, int64(b.Records)) {
					return nil
				}
				return errors.New("simulated crash (test)")
			}
			o := archOpts{noGuard: tc.noGuard}
			if tc.after {
				o.hooks.AfterDBCommit = crash
			} else {
				o.hooks.BeforeDBCommit = crash
			}
			sys, p, pool := newOutbox(t, tr, o)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			if err := sys.Start(ctx); err != nil {
				t.Fatal(err)
			}
			for grp := 1; grp <= 5; grp++ {
				if _, err := sys.Run(ctx, p.Commands[0], map[string]any{"grp": grp, "qty": 2}); err != nil {
					t.Fatal(err)
				}
			}
			if err := sys.WaitCaughtUp(ctx); err != nil {
				t.Fatal(err)
			}
			k := crashed.Load()
			if k == 0 {
				t.Fatal("the projector never crashed")
			}
			if n := violations(t, p, pool, tr.schema); n != 0 {
				t.Errorf("caught up after the crash: %d rows differ", n)
			}
			st := sys.PipelineStats()
			t.Logf("crashed batch of %d events; stats %+v", k, st)
			wantApplied, wantSkipped := int64(5), int64(0)
			switch {
			case tc.after && tc.noGuard:
				wantApplied += k
			case tc.after:
				wantSkipped = k
			}
			if st.Applied != wantApplied || st.Duplicates != wantSkipped {
				t.Errorf("applied %d, skipped %d events; want %d, %d", st.Applied, st.Duplicates, wantApplied, wantSkipped)
			}
		})
	}
}
