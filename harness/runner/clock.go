package runner

import "time"

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

// RealClock returns the clock of the running machine.
func RealClock() Clock { return realClock{} }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func (realClock) NewTimer() Timer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return realTimer{t}
}

type realTimer struct{ t *time.Timer }

func (r realTimer) C() <-chan time.Time { return r.t.C }
func (r realTimer) Reset(at time.Time)  { r.t.Reset(time.Until(at)) }
func (r realTimer) Stop()               { r.t.Stop() }
