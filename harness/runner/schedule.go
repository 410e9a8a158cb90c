package runner

import (
	"math"
	"math/rand/v2"
	"time"
)

// Streams of the seeded generators, so the operation mix does not depend on
// the arrival process and workers of a closed run draw independent mixes.
const (
	streamArrivals uint64 = 1
	streamMix      uint64 = 2
	streamWorkers  uint64 = 1 << 32
)

// segment is a stretch of the schedule with a linear rate: a phase, or the
// warmup.
type segment struct {
	name   string
	warmup bool
	start  time.Duration // offset from the run's start
	dur    time.Duration
	rate   float64 // ops/s at start
	slope  float64 // ops/s per second
	lam0   float64 // expected operations before the segment
	lam    float64 // expected operations in the segment
}

// schedule generates the intended starts of an open run, as offsets from
// its start, in order. Arrivals are placed by inverting the cumulative
// expected count Λ(t) = ∫ rate: uniform arrivals put op i at Λ(t) = i
// (at a constant rate, t = i/rate), Poisson arrivals at Λ(t) = Σ Exp(1)
// gaps, which is a Poisson process of the (possibly ramping) rate.
type schedule struct {
	segs    []segment
	end     time.Duration
	poisson *rand.Rand // nil for uniform arrivals
	n       int64      // operations generated
	x       float64    // Λ of the last operation
	cur     int        // segment of the last operation
}

func newSchedule(cfg Config) *schedule {
	s := &schedule{}
	add := func(name string, warmup bool, p Phase) {
		seg := segment{name: name, warmup: warmup, start: s.end, dur: p.Duration, rate: p.Rate}
		secs := p.Duration.Seconds()
		if p.Kind == PhaseRamp {
			seg.slope = (p.EndRate - p.Rate) / secs
		}
		seg.lam = seg.rate*secs + seg.slope*secs*secs/2
		if n := len(s.segs); n > 0 {
			seg.lam0 = s.segs[n-1].lam0 + s.segs[n-1].lam
		}
		s.segs = append(s.segs, seg)
		s.end += p.Duration
	}
	if cfg.Warmup > 0 {
		add("warmup", true, Steady(cfg.Warmup, cfg.Phases[0].Rate))
	}
	for _, p := range cfg.Phases {
		add(p.Name, false, p)
	}
	if cfg.Arrival == ArrivalPoisson {
		s.poisson = rand.New(rand.NewPCG(cfg.Seed, streamArrivals))
	}
	return s
}

// next returns the offset of the next operation and whether it belongs to
// the warmup; ok is false once the schedule has ended.
func (s *schedule) next() (off time.Duration, warmup, ok bool) {
	if s.poisson != nil {
		s.x += s.poisson.ExpFloat64()
	} else {
		s.x = float64(s.n)
	}
	s.n++
	for s.cur < len(s.segs) && s.x >= s.segs[s.cur].lam0+s.segs[s.cur].lam {
		s.cur++
	}
	if s.cur == len(s.segs) {
		return 0, false, false
	}
	seg := &s.segs[s.cur]
	off = seg.start + seg.invert(s.x-seg.lam0)
	if off >= s.end {
		return 0, false, false
	}
	return off, seg.warmup, true
}

// invert returns the time into the segment at which x operations are
// expected: the root of rate*t + slope*t²/2 = x, in a form that stays exact
// for a zero slope and stable for a small one.
func (g *segment) invert(x float64) time.Duration {
	if x <= 0 {
		return 0
	}
	var ns float64
	if g.slope == 0 {
		ns = x * 1e9 / g.rate
	} else {
		ns = 2 * x * 1e9 / (g.rate + math.Sqrt(max(0, g.rate*g.rate+2*g.slope*x)))
	}
	d := time.Duration(math.Round(ns))
	return min(d, g.dur)
}

// at returns the segment running at offset off, or nil past the end.
func (s *schedule) at(off time.Duration) *segment {
	for i := range s.segs {
		if g := &s.segs[i]; off >= g.start && off < g.start+g.dur {
			return g
		}
	}
	return nil
}

// rateAt returns the intended rate at offset off.
func (s *schedule) rateAt(off time.Duration) float64 {
	g := s.at(off)
	if g == nil {
		return 0
	}
	return g.rate + g.slope*(off-g.start).Seconds()
}

// chooser picks operations by weight from a seeded generator.
type chooser struct {
	cum []float64 // cumulative weights
	rng *rand.Rand
}

func newChooser(ops []Op, seed, stream uint64) *chooser {
	c := &chooser{cum: make([]float64, len(ops)), rng: rand.New(rand.NewPCG(seed, stream))}
	var sum float64
	for i, op := range ops {
		sum += op.Weight
		c.cum[i] = sum
	}
	return c
}

// pick returns the index of the next operation.
func (c *chooser) pick() int {
	n := len(c.cum)
	if n == 1 {
		return 0
	}
	x := c.rng.Float64() * c.cum[n-1]
	for i, v := range c.cum[:n-1] {
		if x < v {
			return i
		}
	}
	return n - 1
}
