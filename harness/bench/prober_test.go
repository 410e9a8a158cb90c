package bench

import (
	"context"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/workload"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// TestPollEveryBoundsOverestimateAndLoad: a young probe polls every poll
// period; an old one every tenth of its age, so the figure it records
// exceeds the true lag by at most 10% and a write seconds behind costs
// tens of queries, not thousands.
func TestPollEveryBoundsOverestimateAndLoad(t *testing.T) {
	const poll = time.Millisecond
	for _, c := range []struct{ age, want time.Duration }{
		{0, poll}, {5 * time.Millisecond, poll}, {10 * time.Millisecond, poll},
		{50 * time.Millisecond, 5 * time.Millisecond}, {9 * time.Second, 900 * time.Millisecond},
	} {
		if got := pollEvery(poll, c.age); got != c.want {
			t.Errorf("pollEvery(%v, %v) = %v, want %v", poll, c.age, got, c.want)
		}
	}
	// Polls of one probe until a write 9 s behind becomes visible.
	n, age := 0, time.Duration(0)
	for age < 9*time.Second {
		age += pollEvery(poll, age)
		n++
	}
	if n > 100 {
		t.Errorf("%d polls for a write visible after 9s, want under 100 (was 9,000 at one per ms)", n)
	}
}

// neverVisible is a session whose screens never show a write and block
// until the probe gives up.
type neverVisible struct {
	workload.Session
	calls chan struct{}
}

func (n neverVisible) Shows(ctx context.Context, _ workload.Write) (bool, error) {
	n.calls <- struct{}{}
	<-ctx.Done()
	return false, ctx.Err()
}

// TestProberBoundsProbesInFlight: with every write sampled and none ever
// visible, only maxProbesInFlight probes poll; the other writes are
// skipped and counted.
func TestProberBoundsProbesInFlight(t *testing.T) {
	sys := neverVisible{calls: make(chan struct{}, 100)}
	p := newProber(sys, scenarios.Prober{Sample: 1, Poll: scenarios.Duration(time.Millisecond), Timeout: scenarios.Duration(time.Second)}, 1)
	for i := range 20 {
		p.maybe(workload.Write{Entity: int64(i + 1), Owner: 1, Version: 1, Committed: time.Now()})
	}
	for range maxProbesInFlight {
		<-sys.calls // every admitted probe is polling
	}
	p.wait()
	r := p.result()
	if r.skipped != 20-maxProbesInFlight || r.timeouts != maxProbesInFlight || r.queries != maxProbesInFlight {
		t.Errorf("skipped %d, timed out %d, queries %d; want %d, %d, %d", r.skipped, r.timeouts, r.queries, 20-maxProbesInFlight, maxProbesInFlight, maxProbesInFlight)
	}
}
