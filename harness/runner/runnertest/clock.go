// Package runnertest provides a fake runner.Clock for deterministic tests
// of code driven by package runner.
//
// Time only moves when the test moves it. Clock.Drive moves it
// automatically, discrete-event style: inside a testing/synctest bubble, it
// waits until every goroutine is blocked, then advances the clock to the
// earliest pending timer and fires it. An operation "taking 10 ms" sleeps
// on the clock (Clock.Sleep), so a run at 1000 ops/s for a second finishes
// in milliseconds of real time with exact, repeatable timings:
//
//	synctest.Test(t, func(t *testing.T) {
//		clk := runnertest.NewClock(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
//		r, _ := runner.New(cfg, []runner.Op{{Name: "op", Weight: 1,
//			Do: func(ctx context.Context) error { return clk.Sleep(ctx, 10*time.Millisecond) }}},
//			runner.WithClock(clk))
//		var res *runner.Result
//		if err := clk.Drive(func() { res, _ = r.Run(t.Context()) }); err != nil {
//			t.Fatal(err)
//		}
//		// res has exact latencies and counts.
//	})
package runnertest

import (
	"context"
	"errors"
	"sync"
	"testing/synctest"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/runner"
)

// Clock is a fake runner.Clock whose time moves only through Advance,
// AdvanceTo or Drive. It is safe for concurrent use.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	timers map[*timer]struct{} // armed timers
}

var _ runner.Clock = (*Clock)(nil)

// NewClock returns a Clock reading start.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start, timers: make(map[*timer]struct{})}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// NewTimer returns a stopped timer on the clock.
func (c *Clock) NewTimer() runner.Timer {
	return &timer{c: c, ch: make(chan time.Time, 1)}
}

// Sleep blocks until the clock has advanced by d or ctx is done, and
// returns ctx's error in the latter case.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	return c.SleepUntil(ctx, c.Now().Add(d))
}

// SleepUntil blocks until the clock reaches at or ctx is done, and returns
// ctx's error in the latter case.
func (c *Clock) SleepUntil(ctx context.Context, at time.Time) error {
	t := c.NewTimer()
	defer t.Stop()
	t.Reset(at)
	select {
	case <-t.C():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Next returns the time of the earliest pending timer.
func (c *Clock) Next() (time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.earliest()
	if t == nil {
		return time.Time{}, false
	}
	return t.at, true
}

// Advance moves the clock forward by d, firing the timers due on the way in
// order, each with the clock reading its time.
func (c *Clock) Advance(d time.Duration) { c.AdvanceTo(c.Now().Add(d)) }

// AdvanceTo moves the clock to at (never backwards), firing the timers due
// on the way in order, each with the clock reading its time.
func (c *Clock) AdvanceTo(at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		t := c.earliest()
		if t == nil || t.at.After(at) {
			break
		}
		if t.at.After(c.now) {
			c.now = t.at
		}
		t.fire(c.now)
	}
	if at.After(c.now) {
		c.now = at
	}
}

// ErrDeadlock is returned by Drive when every goroutine is blocked and no
// timer is pending: nothing can ever happen.
var ErrDeadlock = errors.New("runnertest: every goroutine is blocked and no timer is pending")

// Drive runs fn on a new goroutine and, whenever every goroutine of the
// synctest bubble is blocked, advances the clock to its earliest pending
// timer, until fn returns. It must be called inside synctest.Test, and
// everything fn waits on must be bubble channels or timers of c: an
// operation that blocks on anything else stalls Drive. It returns
// ErrDeadlock if fn can never finish.
func (c *Clock) Drive(fn func()) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	for {
		synctest.Wait()
		select {
		case <-done:
			return nil
		default:
		}
		at, ok := c.Next()
		if !ok {
			return ErrDeadlock
		}
		c.AdvanceTo(at)
	}
}

// earliest returns the armed timer due first. c.mu is held.
func (c *Clock) earliest() *timer {
	var first *timer
	for t := range c.timers {
		if first == nil || t.at.Before(first.at) {
			first = t
		}
	}
	return first
}

// timer is a fake runner.Timer. Its channel has room for one value, which
// Reset and Stop drain, as time.Timer behaves since Go 1.23.
type timer struct {
	c  *Clock
	ch chan time.Time
	at time.Time // guarded by c.mu
}

func (t *timer) C() <-chan time.Time { return t.ch }

func (t *timer) Reset(at time.Time) {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	t.drain()
	t.at = at
	if at.After(t.c.now) {
		t.c.timers[t] = struct{}{}
		return
	}
	t.fire(t.c.now)
}

func (t *timer) Stop() {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	delete(t.c.timers, t)
	t.drain()
}

// fire delivers now and disarms t. c.mu is held.
func (t *timer) fire(now time.Time) {
	delete(t.c.timers, t)
	select {
	case t.ch <- now:
	default:
	}
}

// drain discards an undelivered value. c.mu is held.
func (t *timer) drain() {
	select {
	case <-t.ch:
	default:
	}
}
