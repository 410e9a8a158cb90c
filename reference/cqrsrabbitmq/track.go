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
type tracker struct {
	mu      sync.Mutex
	seq     int64            // publications so far
	pending map[string]int64 // event id → the publication that tracked it
	changed signal.Broadcast
}

func newTracker() *tracker { return &tracker{pending: map[string]int64{}} }

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
		}
	}
}

// applied forgets events a worker applied.
func (t *tracker) applied(events []event.OrderEvent) {
	t.mu.Lock()
	for i := range events {
		delete(t.pending, eventID(events[i].Ref()))
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
	for _, seq := range t.pending {
		if seq <= mark {
			return false
		}
	}
	return true
}

// backlog is the events published and not yet applied.
func (t *tracker) backlog() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return int64(len(t.pending))
}
