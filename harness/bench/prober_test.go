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
	p := newProber(sys, scenarios.Prober{Sample: 1, Poll: scenarios.Duration(time.Millisecond), Timeout: scenarios.Duration(time.Second)}, 0, 1)
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

// notYet is a session whose screens never show a write, answering at once.
type notYet struct{ workload.Session }

func (notYet) Shows(context.Context, workload.Write) (bool, error) { return false, nil }

// TestProberCapsItsQueries: a write every 2 ms for a second, every one
// sampled, none visible (each probe polls until its 50 ms timeout): a
// prober capped at 5% of 1,000 ops/s runs about 50 queries a second — at
// most the cap, its burst and what the probes in flight still poll — and
// counts the writes it skipped for the cap; uncapped (a closed run), the
// same writes draw many times more, so the bound is the cap's doing.
func TestProberCapsItsQueries(t *testing.T) {
	cfg := scenarios.Prober{Sample: 1, Poll: scenarios.Duration(time.Millisecond), Timeout: scenarios.Duration(50 * time.Millisecond), MaxShare: 0.05}
	run := func(offered float64) (proberResult, time.Duration) {
		p := newProber(notYet{}, cfg, offered, 1)
		start := time.Now()
		tick := time.NewTicker(2 * time.Millisecond)
		defer tick.Stop()
		for i := range 500 {
			<-tick.C
			p.maybe(workload.Write{Entity: int64(i + 1), Owner: 1, Version: 1, Committed: time.Now()})
		}
		p.wait()
		return p.result(), time.Since(start)
	}
	capped, took := run(1000)
	if capped.capQPS != 50 {
		t.Fatalf("cap %v q/s, want 50 (5%% of 1,000)", capped.capQPS)
	}
	// A probe of a 50 ms timeout polls at most 15 times (every ms to 10 ms,
	// then every tenth of its age).
	const pollsPerProbe = 15
	limit := int64(50*took.Seconds()) + 5 + maxProbesInFlight*pollsPerProbe
	if capped.queries > limit {
		t.Errorf("capped prober ran %d queries in %v, want at most %d", capped.queries, took, limit)
	}
	if capped.overCap == 0 {
		t.Errorf("no write skipped for the cap; skipped %d for probes in flight", capped.skipped)
	}
	uncapped, tookUncapped := run(0)
	t.Logf("capped at 50 q/s: %d queries in %v, %d writes skipped for the cap; uncapped: %d queries in %v", capped.queries, took, capped.overCap, uncapped.queries, tookUncapped)
	if uncapped.capQPS != 0 || uncapped.queries < 4*limit {
		t.Errorf("uncapped prober: cap %v, %d queries in %v; want no cap and over %d", uncapped.capQPS, uncapped.queries, tookUncapped, 4*limit)
	}
}
