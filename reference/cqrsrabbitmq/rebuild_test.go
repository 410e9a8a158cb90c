package cqrsrabbitmq_test

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/check"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"github.com/cqrsbench/cqrsbench/reference/cqrsrabbitmq"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/relay"
	"github.com/cqrsbench/cqrsbench/reference/readmodel"
)

// relayModes are the relay modes the rebuild tests run with.
var relayModes = []relay.Mode{relay.ModeSkipLocked, relay.ModeNaiveCursor}

// useMode sets the relay mode of a fixture's Config.
func useMode(c *cqrsrabbitmq.Config, mode relay.Mode) {
	c.Relay.Mode, c.Relay.Relays = mode, 1
}

// report runs the checker on the fixture's read models.
func (f *fixture) report(t *testing.T) check.Report {
	t.Helper()
	d := catalog.MustLookup(cqrsrabbitmq.Name)
	d.Schema = f.schema
	rep, err := check.Check(t.Context(), f.pool, d)
	if err != nil {
		t.Fatal(err)
	}
	return rep
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
			if _, err := f.sys.Rebuild(ctx); err != nil {
				t.Fatal(err)
			}
			f.waitCaughtUp(t)
			if rebuilt := f.report(t); !reflect.DeepEqual(rebuilt.Diffs, live.Diffs) {
				t.Fatalf("the rebuild changed the damage:\nlive    %+v\nrebuilt %+v", live.Diffs, rebuilt.Diffs)
			}
			var archived bool
			if err := f.pool.QueryRow(ctx, readmodel.Expand(`SELECT EXISTS (SELECT 1 FROM {{schema}}.outbox_archive
				WHERE aggregate_id = $1 AND payload->>'type' = 'order_confirmed')`, f.schema), late).Scan(&archived); err != nil {
				t.Fatal(err)
			}
			if archived != (want == 0) {
				t.Errorf("the late event archived: %v, want %v", archived, want == 0)
			}
			t.Logf("%s: %d rows differ, live and rebuilt", mode, live.Violations())
		})
	}
}
