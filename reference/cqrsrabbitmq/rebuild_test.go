package cqrsrabbitmq_test

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/cqrsrabbitmq"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/relay"
	"github.com/cqrsbench/cqrsbench/reference/readmodel"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// relayModes are the relay modes the rebuild tests run with.
var relayModes = []relay.Mode{relay.ModeSkipLocked, relay.ModeNaiveCursor}

// useMode sets the relay mode of a fixture's Config.
func useMode(c *cqrsrabbitmq.Config, mode relay.Mode) {
	c.Relay.Mode, c.Relay.Relays = mode, 1
}

// checked is what the checker found in the fixture's read models.
type checked struct {
	Diffs      []workload.Diff
	violations int64
}

// Violations is the number of differing rows.
func (c checked) Violations() int64 { return c.violations }

// report runs the checker on the fixture's read models.
func (f *fixture) report(t *testing.T) checked {
	t.Helper()
	n, diffs := f.check(t.Context(), t)
	return checked{Diffs: diffs, violations: n}
}

// bumpVersions moves the write-model version of the orders fill writes
// events of by n, as the commands would have.
func (f *fixture) bumpVersions(t *testing.T, n int) {
	t.Helper()
	if _, err := f.pool.Exec(t.Context(), readmodel.Expand(`UPDATE {{schema}}.orders SET version = version + $1
		WHERE id IN (SELECT order_id FROM {{schema}}.order_read_model ORDER BY order_id LIMIT $2)`, f.schema), n, fillOrders); err != nil {
		t.Fatal(err)
	}
}

// waitCaughtUp waits for the System within a bound only a hang reaches.
func (f *fixture) waitCaughtUp(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := f.sys.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
}

// await polls cond every 5 ms until it holds or a minute passed.
func await(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("waited a minute for %s", what)
		}
		time.Sleep(5 * time.Millisecond) // polling a condition
	}
}

// TestRebuildWaitsForARelayBatchInFlight holds a relay batch after the
// broker confirmed it and before its transaction commits (the fault hook),
// lets the workers apply and acknowledge it, and rebuilds meanwhile. The
// rebuild must wait for that transaction, so the batch's archived copy is
// replayed: without it the replay misses events the workers will never
// see again, and the checker finds the rows behind. The naive-cursor relay
// must archive the same way (it is a negative control for skipped rows,
// not for this).
func TestRebuildWaitsForARelayBatchInFlight(t *testing.T) {
	for _, mode := range relayModes {
		t.Run(string(mode), func(t *testing.T) {
			var armed atomic.Bool
			held, release := make(chan struct{}), make(chan struct{})
			var once sync.Once
			f := newFixture(t, 300, func(c *cqrsrabbitmq.Config) {
				useMode(c, mode)
				c.Relay.Hooks.AfterConfirm = func(ctx context.Context, _ []int64) error {
					if !armed.Load() {
						return nil
					}
					once.Do(func() { close(held) })
					select {
					case <-release:
					case <-ctx.Done():
					}
					return nil
				}
			})
			ctx := t.Context()
			armed.Store(true)
			f.bumpVersions(t, 1)
			f.fill(t, 1)
			<-held
			await(t, "the workers to apply the held batch", func() bool { return f.sys.PipelineStats().Applied == fillOrders })
			rebuilt := make(chan error, 1)
			go func() {
				_, err := f.sys.Rebuild(ctx)
				rebuilt <- err
			}()
			// The rebuild either waits for the held transaction's lock on
			// the archive or (without the lock) finishes.
			var done bool
			var err error
			await(t, "the rebuild to wait for the held batch or finish", func() bool {
				select {
				case err = <-rebuilt:
					done = true
					return true
				default:
				}
				var waiting bool
				if qerr := f.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks
					WHERE NOT granted AND relation = $1::regclass)`, f.schema+".outbox_archive").Scan(&waiting); qerr != nil {
					t.Fatal(qerr)
				}
				return waiting
			})
			armed.Store(false)
			close(release)
			if !done {
				err = <-rebuilt
			}
			if err != nil {
				t.Fatal(err)
			}
			f.waitCaughtUp(t)
			if rep := f.report(t); rep.Violations() != 0 {
				t.Fatalf("rebuild during a relay batch in flight (waited for it: %v): %d rows differ: %+v", !done, rep.Violations(), rep.Diffs)
			}
		})
	}
}

// TestRebuildKeepsTheRelaysDamage: a command whose transaction commits
// after a later one was relayed is lost by the naive-cursor relay (the
// negative control) and relayed by skip-locked. A rebuild replays exactly
// what was relayed: it reports the same damage as the live read models,
// neither hiding the lost event nor inventing other damage.
func TestRebuildKeepsTheRelaysDamage(t *testing.T) {
	for _, mode := range relayModes {
		t.Run(string(mode), func(t *testing.T) {
			f := newFixture(t, 300, func(c *cqrsrabbitmq.Config) { useMode(c, mode) })
			ctx := t.Context()
			// The late command: the last order moves to its next version
			// in a transaction held open while the others are relayed.
			tx, err := f.pool.Begin(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit a no-op
			var late int64
			if err := tx.QueryRow(ctx, readmodel.Expand(`UPDATE {{schema}}.orders SET version = version + 1
				WHERE id = (SELECT max(id) FROM {{schema}}.orders) RETURNING id`, f.schema)).Scan(&late); err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Exec(ctx, readmodel.Expand(`INSERT INTO {{schema}}.outbox (aggregate_id, type, version, payload)
				SELECT order_id, 'order_confirmed', version + 1, jsonb_build_object(
				    'type', 'order_confirmed', 'order_id', order_id, 'version', version + 1,
				    'customer_id', customer_id, 'number', number, 'created_at', created_at,
				    'status', status, 'status_label', status_label, 'total_cents', total_cents,
				    'item_count', item_count, 'first_image_url', first_image_url,
				    'prev_status', status, 'prev_total_cents', total_cents, 'emitted_at', clock_timestamp())
				FROM {{schema}}.order_read_model WHERE order_id = $1`, f.schema), late); err != nil {
				t.Fatal(err)
			}
			f.bumpVersions(t, 1)
			f.fill(t, 1)
			f.waitCaughtUp(t) // the fill's rows, relayed past the late one
			if err := tx.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			f.waitCaughtUp(t)
			live := f.report(t)
			want := 0
			if mode == relay.ModeNaiveCursor {
				want = 1 // the late order's row stays at its old version
			}
			if live.Violations() != int64(want) {
				t.Fatalf("live read models: %d rows differ, want %d: %+v", live.Violations(), want, live.Diffs)
			}
			for i := range 2 { // the second from the first's checkpoint
				if _, err := f.sys.Rebuild(ctx); err != nil {
					t.Fatal(err)
				}
				f.waitCaughtUp(t)
				if rebuilt := f.report(t); !reflect.DeepEqual(rebuilt.Diffs, live.Diffs) {
					t.Fatalf("rebuild %d changed the damage:\nlive    %+v\nrebuilt %+v", i+1, live.Diffs, rebuilt.Diffs)
				}
			}
			var archived bool
			if err := f.pool.QueryRow(ctx, readmodel.Expand(`SELECT EXISTS (SELECT 1 FROM {{schema}}.outbox_archive
				WHERE aggregate_id = $1 AND version = (SELECT version FROM {{schema}}.orders WHERE id = $1))`, f.schema), late).Scan(&archived); err != nil {
				t.Fatal(err)
			}
			if archived != (want == 0) {
				t.Errorf("the late event archived: %v, want %v", archived, want == 0)
			}
			t.Logf("%s: %d rows differ, live and rebuilt", mode, live.Violations())
		})
	}
}

// TestArchiveHoldsEachRelayedEventOnce: the archive holds the Setup
// snapshot and each relayed event once — a relay crash after the broker's
// confirms and duplicated publishes add no row — so its size is the
// snapshot plus the events since Setup, like the inbox's (see the
// package's Rebuild notes).
func TestArchiveHoldsEachRelayedEventOnce(t *testing.T) {
	var crashed atomic.Bool
	f := newFixture(t, 300, func(c *cqrsrabbitmq.Config) {
		c.Hooks.DuplicateFraction = 0.5
		c.Hooks.AfterConfirm = func(context.Context, []int64) error {
			if crashed.CompareAndSwap(false, true) {
				return relay.ErrCrash
			}
			return nil
		}
	})
	const versions = 3
	f.bumpVersions(t, versions)
	f.fill(t, versions)
	f.waitCaughtUp(t)
	st := f.sys.PipelineStats()
	if !crashed.Load() || st.Published <= st.Relayed {
		t.Fatalf("no relay crash or no duplicate published: %+v", st)
	}
	var rows, distinct int64
	var archiveRow, inboxRow float64
	if err := f.pool.QueryRow(t.Context(), readmodel.Expand(`SELECT
		(SELECT count(*) FROM {{schema}}.outbox_archive),
		(SELECT count(DISTINCT (aggregate_id, version)) FROM {{schema}}.outbox_archive),
		(SELECT avg(pg_column_size(a.*)) FROM {{schema}}.outbox_archive a WHERE payload->>'type' <> 'order_snapshot'),
		(SELECT avg(pg_column_size(i.*)) FROM {{schema}}.inbox i)`, f.schema)).Scan(&rows, &distinct, &archiveRow, &inboxRow); err != nil {
		t.Fatal(err)
	}
	if want := int64(300 + versions*fillOrders); rows != want || distinct != want {
		t.Fatalf("archive holds %d rows, %d distinct events; want the 300 snapshots and %d events once each", rows, distinct, versions*fillOrders)
	}
	t.Logf("an event's row, without page and index overhead: %.0f bytes in the archive, %.0f in the inbox", archiveRow, inboxRow)
	f.checkClean(t)
}

// TestRebuildCheckpoint: each rebuild replays only the archive after the
// previous rebuild's checkpoint, which strips the events before it to their
// keys; restoring it restores the inbox too, so queued copies of events
// replayed before the checkpoint are still recognized, and the read models
// match the write model.
func TestRebuildCheckpoint(t *testing.T) {
	f := newFixture(t, 300, nil)
	ctx := t.Context()
	rebuild := func(wantEvents int64) {
		t.Helper()
		rb, err := f.sys.Rebuild(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if rb.Events != wantEvents {
			t.Fatalf("rebuild replayed %d events, want %d", rb.Events, wantEvents)
		}
	}
	rebuild(300) // the snapshot
	if err := f.sys.PauseProjector(ctx); err != nil {
		t.Fatal(err)
	}
	const events = 2 * fillOrders
	f.bumpVersions(t, 2)
	f.fill(t, 2)
	f.awaitOutboxEmpty(t) // archived, and queued for the paused workers
	rebuild(events)       // after the first checkpoint
	rebuild(0)            // everything is in the checkpoint
	var stripped, kept int64
	if err := f.pool.QueryRow(ctx, readmodel.Expand(`SELECT count(*) FILTER (WHERE payload IS NULL),
		count(*) FILTER (WHERE payload IS NOT NULL) FROM {{schema}}.outbox_archive`, f.schema)).Scan(&stripped, &kept); err != nil {
		t.Fatal(err)
	}
	if stripped != 300+events || kept != 0 {
		t.Fatalf("archive: %d events stripped to their keys, %d whole; want %d and 0", stripped, kept, 300+events)
	}
	f.checkClean(t)
	if err := f.sys.ResumeProjector(); err != nil {
		t.Fatal(err)
	}
	f.waitCaughtUp(t)
	if st := f.sys.PipelineStats(); st.Duplicates != events || st.Applied != 0 {
		t.Fatalf("the workers applied %d queued events and recognized %d (want 0 and %d: the restored inbox has them all)", st.Applied, st.Duplicates, events)
	}
	f.checkClean(t)
}
