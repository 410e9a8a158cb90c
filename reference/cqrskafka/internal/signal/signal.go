// Package signal is a broadcast "something changed" notification for
// goroutines that wait on a condition they re-check themselves.
package signal

import "sync"

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
