package bench

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/hist"
	"github.com/cqrsbench/cqrsbench/reference/workload"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// prober is the black-box read-your-writes prober: for a sample of writes it
// polls the screen of the write's owner (workload.Session.Shows; the shop:
// list_orders of the customer) until it shows the written version, and
// records commit→visible, visible being the start of the first query that
// showed it.
//
// Its queries are load the workload does not schedule, and an architecture
// that shows writes late would draw more of them, so it is bounded: a probe
// polls every Poll while young, then every tenth of its age (a figure
// exceeds the true lag by at most one poll period: Poll, or 10%); and at
// most maxProbesInFlight probes run at once — a write sampled while that
// many wait is skipped (counted). A refresh-bound view seconds behind thus
// costs a few dozen queries per second instead of one per millisecond per
// outstanding write, which had starved its own workload of connections.
type prober struct {
	session workload.Prober // nil: the workload's sessions cannot be probed
	sample  float64
	poll    time.Duration
	timeout time.Duration
	slots   chan struct{} // a token per probe in flight

	mu       sync.Mutex
	rng      *rand.Rand
	reg      *hist.Registry
	rec      *hist.Recorder
	timeouts int64
	skipped  int64
	queries  atomic.Int64
	wg       sync.WaitGroup
}

// maxProbesInFlight bounds the probes polling at once.
const maxProbesInFlight = 8

// pollEvery returns the wait before a probe's next poll, age after the
// write committed: poll while young, a tenth of age later on.
func pollEvery(poll, age time.Duration) time.Duration {
	return max(poll, age/10)
}

func newProber(session workload.Session, cfg scenarios.Prober, seed uint64) *prober {
	reg := hist.NewRegistry()
	probe, _ := session.(workload.Prober)
	return &prober{
		session: probe, sample: float64(cfg.Sample), poll: cfg.Poll.Std(), timeout: cfg.Timeout.Std(),
		rng: rand.New(rand.NewPCG(seed, 23)), reg: reg, rec: reg.NewRecorder(),
		slots: make(chan struct{}, maxProbesInFlight),
	}
}

// maybe probes w with the sampling probability.
func (p *prober) maybe(w workload.Write) {
	if p.sample <= 0 || p.session == nil {
		return
	}
	p.mu.Lock()
	pick := p.rng.Float64() < p.sample
	p.mu.Unlock()
	if !pick {
		return
	}
	select {
	case p.slots <- struct{}{}:
	default:
		p.mu.Lock()
		p.skipped++
		p.mu.Unlock()
		return
	}
	p.wg.Go(func() {
		defer func() { <-p.slots }()
		p.probe(w)
	})
}

func (p *prober) probe(w workload.Write) {
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for {
		// The query's snapshot is taken when it starts: a write it shows
		// was visible then, so that is the time recorded.
		seen := time.Now()
		p.queries.Add(1)
		if shows, err := p.session.Shows(ctx, w); err == nil && shows {
			p.mu.Lock()
			p.rec.Record("visible", seen.Sub(w.Committed))
			p.mu.Unlock()
			return
		}
		// The next poll is due a period after this one began (as a ticker
		// would), not after it returned.
		timer.Reset(max(0, time.Until(seen.Add(pollEvery(p.poll, seen.Sub(w.Committed))))))
		select {
		case <-ctx.Done():
		case <-timer.C:
		}
		if ctx.Err() != nil {
			p.mu.Lock()
			p.timeouts++
			p.mu.Unlock()
			return
		}
	}
}

// wait waits for running probes.
func (p *prober) wait() { p.wg.Wait() }

// proberResult is what the prober measured and what it cost.
type proberResult struct {
	visible  hist.Snapshot
	timeouts int64
	skipped  int64 // sampled writes not probed: maxProbesInFlight were
	queries  int64 // queries the probes ran
}

// result returns the visibility lag histogram and the counts.
func (p *prober) result() proberResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	return proberResult{visible: p.reg.Tick()["visible"], timeouts: p.timeouts, skipped: p.skipped, queries: p.queries.Load()}
}
