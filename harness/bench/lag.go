package bench

import (
	"slices"
	"sync"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/hist"
	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
)

// stageNames names the lag between consecutive stages, in pipeline order.
var stageNames = [...]string{"committed→claimed", "claimed→confirmed", "confirmed→delivered", "delivered→applied"}

// lagObserver collects the cqrs-kafka pipeline's stage timestamps per event
// (in-process, monotonic clock) and turns them into per-stage and
// end-to-end lag once the run is over.
type lagObserver struct {
	mu      sync.Mutex
	open    map[event.Ref]*[5]time.Time
	samples [][5]time.Time // completed events: one time per stage
	shown   int            // samples already covered by live
}

func newLagObserver() *lagObserver { return &lagObserver{open: map[event.Ref]*[5]time.Time{}} }

// Observe implements event.Observer. Only an event's first pass through a
// stage counts (a redelivered event is already visible).
//
// The commit is stamped when the command's COMMIT returns to the client, so
// a relay woken by the commit's NOTIFY can claim (even produce) the event
// first: those stages open an event too, rather than being dropped — which
// would leave out the fastest claims. Their lag from the commit stamp is
// then negative and counts as 0. Delivered and applied open nothing: a
// replay (rebuild) passes events of earlier runs through them.
func (o *lagObserver) Observe(stage event.Stage, at time.Time, refs []event.Ref) {
	if int(stage) >= 5 {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, ref := range refs {
		ts, ok := o.open[ref]
		if !ok {
			if stage != event.StageCommitted && stage != event.StageClaimed && stage != event.StageConfirmed {
				continue // not a command of this run (or already complete)
			}
			ts = new([5]time.Time)
			o.open[ref] = ts
		}
		if ts[stage].IsZero() {
			ts[stage] = at
		}
		if stage == event.StageApplied {
			if !ts[event.StageCommitted].IsZero() { // else not a command of this run's
				o.samples = append(o.samples, *ts)
			}
			delete(o.open, ref)
		}
	}
}

// live returns, for the progress line, the end-to-end lag p99 of the
// events applied since the previous call (0 if none) and the backlog: the
// events committed but not applied yet.
func (o *lagObserver) live() (p99 time.Duration, backlog int64) {
	o.mu.Lock()
	lags := make([]time.Duration, 0, len(o.samples)-o.shown)
	for _, ts := range o.samples[o.shown:] {
		lags = append(lags, ts[event.StageApplied].Sub(ts[event.StageCommitted]))
	}
	o.shown = len(o.samples)
	backlog = int64(len(o.open))
	o.mu.Unlock()
	if len(lags) == 0 {
		return 0, backlog
	}
	slices.Sort(lags)
	return lags[(len(lags)*99+99)/100-1], backlog
}

// stages returns the lag of the events committed at or after from, per
// stage and end to end.
func (o *lagObserver) stages(from time.Time) ([]results.Stage, error) {
	o.mu.Lock()
	samples := o.samples
	o.mu.Unlock()
	reg := hist.NewRegistry()
	rec := reg.NewRecorder()
	for _, ts := range samples {
		if ts[event.StageCommitted].Before(from) {
			continue
		}
		for i, name := range stageNames {
			if !ts[i].IsZero() && !ts[i+1].IsZero() {
				rec.Record(name, ts[i+1].Sub(ts[i]))
			}
		}
		rec.Record(results.StageEndToEnd, ts[event.StageApplied].Sub(ts[event.StageCommitted]))
	}
	snaps := reg.Tick()
	var out []results.Stage
	for _, name := range append(stageNames[:], results.StageEndToEnd) {
		st, err := results.StatsFrom(snaps[name])
		if err != nil {
			return nil, err
		}
		out = append(out, results.Stage{Name: name, Stats: st})
	}
	return out, nil
}
