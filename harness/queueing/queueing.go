// Package queueing predicts the highest rate a mix of operations sustains
// on a database server from what one run measured, where the utilization
// law alone cannot: a pool of connections in front of a few CPUs, and
// operations whose demands differ a thousandfold (a dashboard of 50 ms
// among lookups of 0.3 ms). A slow operation then holds a connection long
// enough for the pool to fill in bursts while the CPUs are not yet all
// busy, and quick operations wait behind it.
//
// The model is a discrete-event simulation: Poisson arrivals of the mix;
// each operation needs an exponentially distributed CPU demand of its
// type's mean; it waits in FIFO order for one of Connections, then shares
// Cores with the others holding one (processor sharing: each runs at
// min(1, Cores/n) of a core); an arrival that finds Workers operations in
// flight is queued, as the load generator counts it. MaxRate searches the
// highest rate at which every operation's p99 stays within its bound and
// few arrivals are queued: the load generator's own criterion.
package queueing

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// Op is one operation of the mix.
type Op struct {
	// Name names it in results.
	Name string
	// Share is its share of the arrivals; shares need not sum to 1.
	Share float64
	// Demand is its mean CPU time.
	Demand time.Duration
	// MaxP99 bounds its p99 latency, from the arrival; 0: no bound.
	MaxP99 time.Duration
}

// Model is the server and its clients.
type Model struct {
	// Cores is how many CPUs serve the operations (the host's less the
	// work that goes on without load).
	Cores float64
	// Connections is the pool: at most this many operations run at once
	// (and no more than Workers).
	Connections int
	// Workers is the load generator's: an arrival finding this many in
	// flight is queued.
	Workers int
	// Ops is the mix.
	Ops []Op
	// MaxQueued is the share of arrivals that may be queued in a
	// sustained rate.
	MaxQueued float64
}

// Validate checks the model.
func (m Model) Validate() error {
	var errs []error
	if m.Cores <= 0 || m.Connections <= 0 || m.Workers <= 0 {
		errs = append(errs, fmt.Errorf("queueing: cores %v, connections %d and workers %d must be > 0", m.Cores, m.Connections, m.Workers))
	}
	var share float64
	for _, op := range m.Ops {
		if op.Share < 0 || op.Demand <= 0 {
			errs = append(errs, fmt.Errorf("queueing: operation %s: share %v must be >= 0 and demand %v > 0", op.Name, op.Share, op.Demand))
		}
		share += op.Share
	}
	if share <= 0 {
		errs = append(errs, errors.New("queueing: no operation has a share"))
	}
	return errors.Join(errs...)
}

// MeanDemand returns the mix's mean CPU time per operation.
func (m Model) MeanDemand() time.Duration {
	var share, demand float64
	for _, op := range m.Ops {
		share += op.Share
		demand += op.Share * float64(op.Demand)
	}
	return time.Duration(demand / share)
}

// CPUBound returns the rate at which the Cores would be all busy: the
// utilization law's limit, which queueing only lowers.
func (m Model) CPUBound() float64 {
	return m.Cores / m.MeanDemand().Seconds()
}

// Result is what a simulated rate gave.
type Result struct {
	// Rate is the offered rate.
	Rate float64
	// P99 and Mean are each operation's p99 and mean latency, by name.
	P99, Mean map[string]time.Duration
	// Queued is the share of arrivals that found Workers in flight.
	Queued float64
	// Over names the first operation over its bound ("" when none).
	Over string
}

// Sustained reports whether every p99 was within its bound and few
// arrivals were queued.
func (r Result) Sustained(m Model) bool { return r.Over == "" && r.Queued < m.MaxQueued }

// job is one operation in the simulation.
type job struct {
	op      int
	arrived float64 // seconds
	left    float64 // CPU seconds still needed
	counted bool    // arrived after the warmup
}

// Simulate offers rate for n arrivals (after n/10 not counted, to reach
// the steady state) and returns what they met. seed makes it
// reproducible.
func (m Model) Simulate(rate float64, n int, seed uint64) (Result, error) {
	if err := m.Validate(); err != nil {
		return Result{}, err
	}
	if rate <= 0 || n <= 0 {
		return Result{}, fmt.Errorf("queueing: rate %v and arrivals %d must be > 0", rate, n)
	}
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	var total float64
	cum := make([]float64, len(m.Ops))
	for i, op := range m.Ops {
		total += op.Share
		cum[i] = total
	}
	pick := func() int {
		x := rng.Float64() * total
		i, _ := slices.BinarySearch(cum, x)
		return min(i, len(cum)-1)
	}
	warm := n / 10
	lat := make([][]float64, len(m.Ops))
	var running, waiting []job
	now, next := 0.0, rng.ExpFloat64()/rate
	arrivals, queued, counted := 0, 0, 0
	for arrivals < warm+n || len(running)+len(waiting) > 0 {
		// Each running job progresses at speed per second of CPU.
		speed := 1.0
		if k := float64(len(running)); k > m.Cores {
			speed = m.Cores / k
		}
		done := math.Inf(1)
		first := -1
		for i, j := range running {
			if t := j.left / speed; t < done {
				done, first = t, i
			}
		}
		arriving := arrivals < warm+n
		if arriving && next-now <= done {
			step := next - now
			for i := range running {
				running[i].left -= step * speed
			}
			now = next
			j := job{op: pick(), arrived: now, counted: arrivals >= warm}
			j.left = rng.ExpFloat64() * m.Ops[j.op].Demand.Seconds()
			if j.counted {
				counted++
				if len(running)+len(waiting) >= m.Workers {
					queued++
				}
			}
			arrivals++
			if len(running) < min(m.Connections, m.Workers) {
				running = append(running, j)
			} else {
				waiting = append(waiting, j)
			}
			next = now + rng.ExpFloat64()/rate
			continue
		}
		for i := range running {
			running[i].left -= done * speed
		}
		now += done
		j := running[first]
		running = slices.Delete(running, first, first+1)
		if len(waiting) > 0 {
			running = append(running, waiting[0])
			waiting = waiting[1:]
		}
		if j.counted {
			lat[j.op] = append(lat[j.op], now-j.arrived)
		}
	}
	res := Result{Rate: rate, P99: map[string]time.Duration{}, Mean: map[string]time.Duration{}, Queued: float64(queued) / float64(max(counted, 1))}
	for i, op := range m.Ops {
		if len(lat[i]) == 0 {
			continue
		}
		var sum float64
		for _, l := range lat[i] {
			sum += l
		}
		res.Mean[op.Name] = time.Duration(sum / float64(len(lat[i])) * float64(time.Second))
		slices.Sort(lat[i])
		p99 := time.Duration(lat[i][int(0.99*float64(len(lat[i])-1))] * float64(time.Second))
		res.P99[op.Name] = p99
		if res.Over == "" && op.MaxP99 > 0 && p99 > op.MaxP99 {
			res.Over = op.Name
		}
	}
	return res, nil
}

// Simulated arrivals per rate MaxRate tries, and how often it halves the
// interval it searches.
const (
	searchArrivals   = 40_000
	searchBisections = 12
)

// MaxRate returns the highest rate the model sustains (Result.Sustained),
// found by bisection below CPUBound, and the result at that rate. The
// simulations share one seed, so the answer is reproducible.
func (m Model) MaxRate(seed uint64) (Result, error) {
	if err := m.Validate(); err != nil {
		return Result{}, err
	}
	lo, hi := 0.0, m.CPUBound()
	var best Result
	for range searchBisections {
		mid := (lo + hi) / 2
		r, err := m.Simulate(mid, searchArrivals, seed)
		if err != nil {
			return Result{}, err
		}
		if r.Sustained(m) {
			lo, best = mid, r
		} else {
			hi = mid
		}
	}
	return best, nil
}
