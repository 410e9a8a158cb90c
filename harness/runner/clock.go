package runner

import (
	"sync"
	"time"
)

// Clock is the time source of a run: every timestamp the runner takes and
// every wait it makes goes through it, so tests can inject a fake one (see
// package runnertest). The default is the real clock.
type Clock interface {
	// Now returns the current time. Durations are computed with Time.Sub,
	// so the real clock's monotonic reading is used.
	Now() time.Time
	// NewTimer returns a stopped Timer.
	NewTimer() Timer
}

// Timer fires once at a set time. It has the semantics of time.Timer since
// Go 1.23: after Reset or Stop returns, no value from an earlier setting is
// received from C. A Timer is used by one goroutine at a time.
type Timer interface {
	// C returns the channel on which the Timer delivers the time it fired.
	C() <-chan time.Time
	// Reset sets the Timer to fire at at, or at once if at has passed.
	Reset(at time.Time)
	// Stop prevents the Timer from firing.
	Stop()
}

// RealClock returns the clock of the running machine. Its timers fire
// within tens of microseconds of their time: Go's own timers, when the
// process is idle, may fire up to a millisecond late (the runtime's poller
// sleeps in whole milliseconds), which would add that much to every
// latency measured from an intended start. So a timer sleeps with a Go
// timer until shortly before its time and then with nanosleep.
func RealClock() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer() Timer {
	r := &realTimer{c: make(chan time.Time, 1)}
	r.t = time.AfterFunc(time.Hour, r.fire)
	r.t.Stop()
	return r
}

// coarseWindow is how long before its time a realTimer's Go timer wakes it
// for the precise sleep: more than the Go timer's worst lateness.
const coarseWindow = 2 * time.Millisecond

// realTimer is a precise Timer: a Go timer (AfterFunc) until coarseWindow
// before the time, then a nanosleep for the rest.
type realTimer struct {
	c chan time.Time
	t *time.Timer

	mu    sync.Mutex
	gen   uint64 // bumped by every Reset and Stop
	at    time.Time
	armed bool
}

func (r *realTimer) C() <-chan time.Time { return r.c }

func (r *realTimer) Reset(at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gen++
	r.at, r.armed = at, true
	r.drain()
	r.t.Reset(max(time.Until(at)-coarseWindow, 0))
}

func (r *realTimer) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.gen++
	r.armed = false
	r.t.Stop()
	r.drain()
}

// drain empties c so no value of an earlier setting is received.
func (r *realTimer) drain() {
	select {
	case <-r.c:
	default:
	}
}

// fire runs on the AfterFunc goroutine: it sleeps precisely until the time
// and delivers it unless the timer was reset or stopped meanwhile.
func (r *realTimer) fire() {
	r.mu.Lock()
	gen, at, armed := r.gen, r.at, r.armed
	r.mu.Unlock()
	if !armed {
		return
	}
	preciseSleep(time.Until(at))
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.gen != gen || !r.armed {
		return
	}
	r.armed = false
	select {
	case r.c <- time.Now():
	default:
	}
}
