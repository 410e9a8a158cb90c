// Package track knows which published events no consumer has handled yet,
// so a System can wait for exactly those in WaitCaughtUp when its
// transport does not report unacknowledged messages (a RabbitMQ quorum
// queue does not).
//
// An event is tracked from just before its first publication — before, so
// a consumer cannot handle it before it is tracked — until a consumer
// applied it (or found it applied: a duplicate). Every operation is O(1)
// per event, whatever the backlog.
//
//	t := track.New()
//	t.Publishing(ids)            // the relay's Publisher, before publishing
//	t.Handled(ids)               // a consumer, after its commit
//	err := t.Wait(ctx, t.Mark(), ready, 100*time.Millisecond)
package track

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/internal/signal"
)

// Tracker tracks the published events not handled yet, by id. It is safe
// for concurrent use.
type Tracker struct {
	mu      sync.Mutex
	seq     int64            // publications so far
	pending map[string]int64 // event id → the publication that tracked it
	left    map[int64]int    // publication → its events still pending
	low     int64            // no publication below it has events pending
	changed signal.Broadcast
}

// New returns a Tracker with nothing pending.
func New() *Tracker {
	return &Tracker{pending: map[string]int64{}, left: map[int64]int{}, low: 1}
}

// Publishing tracks the events of a batch about to be published; events
// already tracked keep their first publication.
func (t *Tracker) Publishing(ids []string) {
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

// Handled forgets events a consumer applied (or found applied), and wakes
// Wait.
func (t *Tracker) Handled(ids []string) {
	t.mu.Lock()
	for _, id := range ids {
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

// Notify wakes Wait, to check its ready condition again.
func (t *Tracker) Notify() { t.changed.Notify() }

// Mark returns the publications so far: an event tracked up to it is one a
// wait begun now must see handled.
func (t *Tracker) Mark() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.seq
}

// HandledUpTo reports whether every event tracked at or before publication
// mark has been handled.
func (t *Tracker) HandledUpTo(mark int64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	for t.low <= t.seq && t.left[t.low] == 0 {
		t.low++ // publications only grow: amortized O(1)
	}
	return t.low > mark
}

// Backlog is the events published and not handled yet.
func (t *Tracker) Backlog() int64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	return int64(len(t.pending))
}

// Wait returns once every event tracked at or before mark has been handled
// and ready (nil: always) reports true; it checks at every Handled and
// Notify, and every recheck for what it is not notified about.
func (t *Tracker) Wait(ctx context.Context, mark int64, ready func() bool, recheck time.Duration) error {
	tick := time.NewTicker(recheck)
	defer tick.Stop()
	for {
		changed := t.changed.C()
		if (ready == nil || ready()) && t.HandledUpTo(mark) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%d events not applied yet: %w", t.Backlog(), ctx.Err())
		case <-changed:
		case <-tick.C:
		}
	}
}
