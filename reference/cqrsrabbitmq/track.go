package cqrsrabbitmq

import (
	"strconv"
	"sync"

	"github.com/cqrsbench/cqrsbench/reference/internal/signal"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
)

// tracker knows which published events no worker has applied yet, so
// WaitCaughtUp can wait for exactly those (a quorum queue does not report
// its unacknowledged messages). An event is tracked from just before its
// first publication — before, so a worker cannot apply it before it is
// tracked — until a worker applied it (or found it applied: a duplicate).
// Every operation is O(1) per event, whatever the backlog.
type tracker struct {
	mu      sync.Mutex
	seq     int64            // publications so far
	pending map[string]int64 // event id → the publication that tracked it
	left    map[int64]int    // publication → its events still pending
	low     int64            // no publication below it has events pending
	changed signal.Broadcast
}

func newTracker() *tracker {
	return &tracker{pending: map[string]int64{}, left: map[int64]int{}, low: 1}
}

// eventID identifies an event in the tracker and in the message-id.
func eventID(r event.Ref) string {
	b := strconv.AppendInt(make([]byte, 0, 24), r.OrderID, 10)
	b = append(b, '/')
	return string(strconv.AppendInt(b, int64(r.Version), 10))
}

// publishing tracks the events of a batch about to be published; events
// already tracked keep their first publication.
func (t *tracker) publishing(ids []string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.seq++
	for _, id := range ids {
		if _, ok := t.pending[id]; !ok {
			t.pending[id] = t.seq
			t.left[t.seq]++
		}
	}
}

// applied forgets events a worker applied.
func (t *tracker) applied(events []event.OrderEvent) {
	t.mu.Lock()
	for i := range events {
		id := eventID(events[i].Ref())
		seq, ok := t.pending[id]
		if !ok {
			continue
		}
		delete(t.pending, id)
		if t.left[seq]--; t.left[seq] == 0 {
			delete(t.left, seq)
		}
	}
	if len(t.pending) == 0 {
		// Go maps keep their buckets: after a large backlog, start afresh.
		t.pending, t.left = map[string]int64{}, map[int64]int{}
	}
	t.mu.Unlock()
	t.changed.Notify()
}

// mark returns the publications so far: an event tracked up to it is one a
// wait begun now must see applied.
func (t *tracker) mark() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.seq
}

// appliedUpTo reports whether every event tracked at or before publication
// mark has been applied.
func (t *tracker) appliedUpTo(mark int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.low <= t.seq && t.left[t.low] == 0 {
		t.low++ // publications only grow: amortized O(1)
	}
	return t.low > mark
}

// backlog is the events published and not yet applied.
func (t *tracker) backlog() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return int64(len(t.pending))
}
