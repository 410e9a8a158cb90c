package cqrsrabbitmq_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"github.com/cqrsbench/cqrsbench/reference/cqrsrabbitmq"
	"github.com/cqrsbench/cqrsbench/reference/readmodel"
	"github.com/cqrsbench/cqrsbench/reference/shop"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// check reconciles the fixture's read models with its write model and
// returns the differing rows' count and the diffs.
func (f *fixture) check(ctx context.Context, t *testing.T) (int64, []workload.Diff) {
	t.Helper()
	diffs, err := shop.Workload{}.Check(ctx, f.pool, f.schema, catalog.MustLookup(cqrsrabbitmq.Name).ReadModels)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, d := range diffs {
		n += d.Violations()
	}
	return n, diffs
}

// checkClean fails the test unless the read models match the write model.
func (f *fixture) checkClean(t *testing.T) {
	t.Helper()
	if n, diffs := f.check(t.Context(), t); n != 0 {
		t.Fatalf("read models differ from the write model: %+v", diffs)
	}
}

// fillOrders is how many orders fill writes events of. fill writes each
// order's versions one after the other, so RabbitMQ's round-robin dispatch
// hands consecutive versions of one order to different workers at once.
const fillOrders = 99

// fill writes versions 1..n of order_confirmed events of fillOrders loaded
// orders straight into the outbox, as commands would (each order's state,
// versions counting up).
func (f *fixture) fill(t testing.TB, n int) {
	t.Helper()
	sql := readmodel.Expand(`
		INSERT INTO {{schema}}.outbox (aggregate_id, type, version, payload)
		SELECT r.order_id, 'order_confirmed', r.version + g, jsonb_build_object(
		    'type', 'order_confirmed', 'order_id', r.order_id, 'version', r.version + g,
		    'customer_id', r.customer_id, 'number', r.number, 'created_at', r.created_at,
		    'status', r.status, 'status_label', r.status_label, 'total_cents', r.total_cents,
		    'item_count', r.item_count, 'first_image_url', r.first_image_url,
		    'prev_status', r.status, 'prev_total_cents', r.total_cents, 'emitted_at', clock_timestamp())
		FROM generate_series(1, $1::int) g, (SELECT * FROM {{schema}}.order_read_model ORDER BY order_id LIMIT $2) r
		ORDER BY r.order_id, g`, f.schema)
	if _, err := f.pool.Exec(t.Context(), sql, n, fillOrders); err != nil {
		t.Fatal(err)
	}
}

// TestBacklogOutOfOrderConvergesAndRebuilds: a backlog drained by 4
// competing workers, each holding its own stretch of 256 messages, applies
// versions of one order out of order; the version guard keeps every row at its newest version, and a
// rebuild from the archive gives the same read models. Without the guard
// (the negative control) the checker finds rows moved back.
func TestBacklogOutOfOrderConvergesAndRebuilds(t *testing.T) {
	for _, guard := range []bool{true, false} {
		t.Run(fmt.Sprintf("version_guard=%v", guard), func(t *testing.T) {
			f := newFixture(t, 500, func(c *cqrsrabbitmq.Config) { c.AMQP.Prefetch, c.AMQP.Workers, c.DisableVersionGuard = 256, 4, !guard })
			ctx := t.Context()
			if err := f.sys.PauseProjector(ctx); err != nil {
				t.Fatal(err)
			}
			const versions = 40
			events := int64(versions * fillOrders)
			f.fill(t, versions)
			// The version of each order moves to the newest filled one in
			// the write model, as the commands would have moved it.
			if _, err := f.pool.Exec(ctx, readmodel.Expand(`UPDATE {{schema}}.orders SET version = version + $1
				WHERE id IN (SELECT order_id FROM {{schema}}.order_read_model ORDER BY order_id LIMIT $2)`, f.schema), versions, fillOrders); err != nil {
				t.Fatal(err)
			}
			if err := f.sys.ResumeProjector(); err != nil {
				t.Fatal(err)
			}
			wctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
			defer cancel()
			if err := f.sys.WaitCaughtUp(wctx); err != nil {
				t.Fatal(err)
			}
			st := f.sys.PipelineStats()
			t.Logf("version guard %v: %+v", guard, st)
			violations, diffs := f.check(ctx, t)
			if !guard {
				if violations == 0 {
					t.Fatal("negative control: no damage without the version guard; the workers did not reorder anything")
				}
				return
			}
			if violations != 0 || st.Applied != events {
				t.Fatalf("with the guard: %d rows differ, %d applied (want 0 and %d): %+v", violations, st.Applied, events, diffs)
			}
			rb, err := f.sys.Rebuild(ctx)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("rebuild: %+v", rb)
			if rb.Events != 500+events {
				t.Errorf("rebuild replayed %d events, want the 500 snapshots and %d events", rb.Events, events)
			}
			f.checkClean(t)
		})
	}
}

// TestCrashAfterCommitIsRedeliveredOnce: a worker that dies after its
// database commit and before its acknowledgement gets the batch again,
// and the inbox applies none of it twice.
func TestCrashAfterCommitIsRedeliveredOnce(t *testing.T) {
	crashed := make(chan struct{})
	f := newFixture(t, 300, func(c *cqrsrabbitmq.Config) {
		c.Hooks.AfterDBCommit = func(_ context.Context, b reference.Batch) error {
			select {
			case <-crashed:
				return nil
			default:
				close(crashed)
				return fmt.Errorf("simulated crash after committing %d events", b.Applied)
			}
		}
	})
	f.fill(t, 10)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := f.sys.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	st := f.sys.PipelineStats()
	t.Logf("%+v", st)
	if st.Duplicates == 0 || st.Applied != 10*fillOrders {
		t.Fatalf("applied %d (want %d), %d duplicates suppressed (want > 0: the crashed batch came again)", st.Applied, 10*fillOrders, st.Duplicates)
	}
}

// TestRebuildInsideACatchUpPause: a rebuild while a catch-up holds the
// workers paused leaves them paused (its backlog keeps building) until the
// catch-up resumes them; a resume without a pause fails.
func TestRebuildInsideACatchUpPause(t *testing.T) {
	f := newFixture(t, 300, nil)
	ctx := t.Context()
	if err := f.sys.PauseProjector(ctx); err != nil { // the catch-up's
		t.Fatal(err)
	}
	rb, err := f.sys.Rebuild(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rb.Events != 300 {
		t.Fatalf("rebuild replayed %d events, want the 300 snapshots", rb.Events)
	}
	if !f.sys.WorkersPaused() {
		t.Fatal("the rebuild's end resumed workers the catch-up holds paused")
	}
	const events = 2 * fillOrders
	f.fill(t, 2)
	f.awaitOutboxEmpty(t)
	if n, _ := f.sys.Backlog(ctx); n != events || f.sys.PipelineStats().Applied != 0 {
		t.Fatalf("while the catch-up's pause holds: backlog %d (want %d), %d applied (want 0)", n, events, f.sys.PipelineStats().Applied)
	}
	if err := f.sys.ResumeProjector(); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := f.sys.WaitCaughtUp(wctx); err != nil {
		t.Fatal(err)
	}
	if st := f.sys.PipelineStats(); st.Applied != events {
		t.Fatalf("applied %d events after the resume, want %d", st.Applied, events)
	}
	if err := f.sys.ResumeProjector(); err == nil {
		t.Fatal("ResumeProjector without a PauseProjector succeeded")
	}
}
