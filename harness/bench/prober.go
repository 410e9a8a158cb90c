package bench

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

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
// Its queries per second are also capped at a share of the offered rate
// (scenarios.Prober.MaxShare), by sampling fewer writes, never by polling
// differently: every query takes a token from a bucket filled at the cap,
// a running probe's polls take theirs even into debt (so the figures keep
// their precision), and a write sampled while the bucket is empty is
// skipped (counted). Over a run the queries stay within the cap; at any
// moment by at most what the probes in flight still poll.
type prober struct {
	session workload.Prober // nil: the workload's sessions cannot be probed
	sample  float64
	poll    time.Duration
	timeout time.Duration
	slots   chan struct{} // a token per probe in flight
	budget  *rate.Limiter // queries per second; nil: no cap

	mu       sync.Mutex
	rng      *rand.Rand
	reg      *hist.Registry
	rec      *hist.Recorder
	timeouts int64
	skipped  int64 // sampled, not probed: maxProbesInFlight polling
	overCap  int64 // sampled, not probed: the query budget spent
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

// newProber returns the prober of session; offered is the run's offered
// rate in operations per second (0: a closed run, no cap).
func newProber(session workload.Session, cfg scenarios.Prober, offered float64, seed uint64) *prober {
	reg := hist.NewRegistry()
	probe, _ := session.(workload.Prober)
	p := &prober{
		session: probe, sample: float64(cfg.Sample), poll: cfg.Poll.Std(), timeout: cfg.Timeout.Std(),
		rng: rand.New(rand.NewPCG(seed, 23)), reg: reg, rec: reg.NewRecorder(),
		slots: make(chan struct{}, maxProbesInFlight),
	}
	if qps := float64(cfg.MaxShare) * offered; qps > 0 {
		// A tenth of a second's budget may be spent at once.
		p.budget = rate.NewLimiter(rate.Limit(qps), max(1, int(qps/10)))
	}
	return p
}

// capQPS returns the prober's query cap per second, 0 when there is none.
func (p *prober) capQPS() float64 {
	if p.budget == nil {
		return 0
	}
	return float64(p.budget.Limit())
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
	if p.budget != nil && !p.budget.Allow() { // the first poll's budget
		<-p.slots
		p.mu.Lock()
		p.overCap++
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
	for first := true; ; first = false {
		if !first && p.budget != nil {
			p.budget.Reserve() // the poll's token, into debt if need be: polls are never delayed
		}
		// The query's snapshot is taken when it starts: a write it shows
		// was visible then, so that is the time recorded.
		seen := time.Now()
		p.queries.Add(1)
		shows, err := p.session.Shows(ctx, w)
		if err == nil && shows {
			p.mu.Lock()
			p.rec.Record("visible", seen.Sub(w.Committed))
			p.mu.Unlock()
			return
		}
		if errors.Is(err, workload.ErrOffScreen) {
			p.mu.Lock()
			p.skipped++
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
	overCap  int64 // sampled writes not probed: the query budget was spent
	queries  int64 // queries the probes ran
	capQPS   float64
}

// result returns the visibility lag histogram and the counts.
func (p *prober) result() proberResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	return proberResult{visible: p.reg.Tick()["visible"], timeouts: p.timeouts, skipped: p.skipped, overCap: p.overCap,
		queries: p.queries.Load(), capQPS: p.capQPS()}
}
