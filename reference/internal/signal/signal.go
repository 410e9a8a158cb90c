// Package signal is a broadcast "something changed" notification for
// goroutines that wait on a condition they re-check themselves.
package signal

import (
	"context"
	"sync"
	"time"
)

// Broadcast wakes every waiter at each Notify. The zero value is ready.
type Broadcast struct {
	mu sync.Mutex
	ch chan struct{}
}

// C returns a channel closed at the next Notify. Take it before checking
// the condition, so a change between the check and the wait is not missed.
func (b *Broadcast) C() <-chan struct{} {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch == nil {
		b.ch = make(chan struct{})
	}
	return b.ch
}

// Notify wakes the goroutines waiting on channels taken with C.
func (b *Broadcast) Notify() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ch != nil {
		close(b.ch)
		b.ch = nil
	}
}

// Sleep waits for d or until ctx is done, and reports whether ctx is still
// live: the relays' and the projector's retry and linger pause.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
