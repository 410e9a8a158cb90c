package bench

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/hist"
	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// prober is the black-box read-your-writes prober: for a sample of writes it
// polls list_orders of the write's customer until the order shows the
// written version, and records commit→visible, visible being the start of
// the first query that showed it (so the figure exceeds the true lag by up
// to one poll period, half of it on average).
type prober struct {
	sys     reference.System
	sample  float64
	poll    time.Duration
	timeout time.Duration

	mu       sync.Mutex
	rng      *rand.Rand
	reg      *hist.Registry
	rec      *hist.Recorder
	timeouts int64
	wg       sync.WaitGroup
}

func newProber(sys reference.System, cfg scenarios.Prober, seed uint64) *prober {
	reg := hist.NewRegistry()
	return &prober{
		sys: sys, sample: float64(cfg.Sample), poll: cfg.Poll.Std(), timeout: cfg.Timeout.Std(),
		rng: rand.New(rand.NewPCG(seed, 23)), reg: reg, rec: reg.NewRecorder(),
	}
}

// maybe probes out with the sampling probability.
func (p *prober) maybe(out reference.Outcome) {
	if p.sample <= 0 {
		return
	}
	p.mu.Lock()
	pick := p.rng.Float64() < p.sample
	p.mu.Unlock()
	if !pick {
		return
	}
	p.wg.Go(func() { p.probe(out) })
}

func (p *prober) probe(out reference.Outcome) {
	ctx, cancel := context.WithTimeout(context.Background(), p.timeout)
	defer cancel()
	tick := time.NewTicker(p.poll)
	defer tick.Stop()
	for {
		// The query's snapshot is taken when it starts: a write it shows
		// was visible then, so that is the time recorded.
		seen := time.Now()
		rows, err := p.sys.ListOrders(ctx, out.CustomerID)
		if err == nil {
			for _, r := range rows {
				if r.OrderID == out.OrderID && r.Version >= out.Version {
					p.mu.Lock()
					p.rec.Record("visible", seen.Sub(out.Committed))
					p.mu.Unlock()
					return
				}
			}
		}
		select {
		case <-ctx.Done():
			p.mu.Lock()
			p.timeouts++
			p.mu.Unlock()
			return
		case <-tick.C:
		}
	}
}

// wait waits for running probes.
func (p *prober) wait() { p.wg.Wait() }

// result returns the visibility lag histogram and the timeouts.
func (p *prober) result() (hist.Snapshot, int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.reg.Tick()["visible"], p.timeouts
}
