package runner

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Mode selects how operations are started.
type Mode string

// The modes.
const (
	// ModeOpen starts operations on a schedule, whatever the system's
	// speed (an open model): a slow system makes operations late, not
	// rarer. The default.
	ModeOpen Mode = "open"
	// ModeClosed runs Concurrency workers, each starting its next operation
	// when the previous one ends (a closed model), for capacity search. Its
	// throughput measures the system; its latency hides queueing.
	ModeClosed Mode = "closed"
)

// Arrival selects how the intended starts of an open run are spread.
type Arrival string

// The arrival processes.
const (
	// ArrivalUniform evenly spaces operations: at a constant rate, op i is
	// due at start + i/rate. The default.
	ArrivalUniform Arrival = "uniform"
	// ArrivalPoisson spaces operations by exponential gaps drawn from Seed,
	// with the same mean rate: independent users arriving at random.
	ArrivalPoisson Arrival = "poisson"
)

// PhaseKind is the shape of a Phase's rate.
type PhaseKind string

// The phase kinds.
const (
	// PhaseSteady keeps Rate for the whole phase. The default.
	PhaseSteady PhaseKind = "steady"
	// PhaseRamp changes the rate linearly from Rate to EndRate.
	PhaseRamp PhaseKind = "ramp"
)

// MaxRate is the highest rate, in operations per second, that a run
// should ask of the runner: its own dispatch costs about 1 to 1.5 µs per
// operation on a 2-core machine (BenchmarkOpen: 0.9-1.4 µs with no-op
// operations), so at MaxRate it alone takes 10 to 15% of a core, and a
// higher rate would measure cqrsbench as much as the system. Config does
// not enforce it (benchmarks drive the runner flat out); scenarios refuse
// a rate above it.
const MaxRate = 100_000

// Defaults applied by Config for zero fields.
const (
	// DefaultConcurrency is the default in-flight limit of an open run.
	DefaultConcurrency = 64
	// DefaultLateAfter is the default lateness tolerance.
	DefaultLateAfter = time.Millisecond
	// DefaultGracefulStop is how long operations still running at the end
	// may take to finish by default.
	DefaultGracefulStop = 10 * time.Second
	// DefaultProgressEvery is the default interval between progress
	// reports (and histogram ticks).
	DefaultProgressEvery = time.Second
)

// Phase is a stretch of an open run with its own rate.
type Phase struct {
	// Name labels the phase in progress reports; default the Kind.
	Name string
	// Kind is the shape of the rate; default PhaseSteady.
	Kind PhaseKind
	// Duration is the length of the phase; required.
	Duration time.Duration
	// Rate is the rate in operations per second: for the whole phase if
	// steady, at its start if a ramp. Zero makes a pause.
	Rate float64
	// EndRate is the rate at the end of a ramp; only for PhaseRamp.
	EndRate float64
}

// Steady returns a phase at a constant rate.
func Steady(d time.Duration, rate float64) Phase {
	return Phase{Kind: PhaseSteady, Duration: d, Rate: rate}
}

// Ramp returns a phase whose rate goes linearly from `from` to `to`.
func Ramp(d time.Duration, from, to float64) Phase {
	return Phase{Kind: PhaseRamp, Duration: d, Rate: from, EndRate: to}
}

// Burst returns a steady phase named "burst": a short stretch at a rate
// above the surrounding phases.
func Burst(d time.Duration, rate float64) Phase {
	return Phase{Name: "burst", Kind: PhaseSteady, Duration: d, Rate: rate}
}

// Config describes a run. It is data: build it, call Validate, and pass it
// to New, which applies the defaults documented on each field.
type Config struct {
	// Mode is ModeOpen (default) or ModeClosed; closed must be chosen
	// explicitly.
	Mode Mode

	// Rate is the open run's rate in operations per second, for Duration.
	// Use either Rate and Duration or Phases.
	Rate float64
	// Duration is how long the run is measured, after Warmup. In an open
	// run, use either Rate and Duration or Phases; a closed run needs it.
	Duration time.Duration
	// Phases are the open run's measured phases, run in order.
	Phases []Phase
	// Warmup is run before the measured part; its operations (by intended
	// start) are excluded from the Result. An open run warms up at the
	// starting rate of the first phase (or Rate). Default 0, no warmup.
	Warmup time.Duration

	// Arrival is the arrival process of an open run; default
	// ArrivalUniform.
	Arrival Arrival
	// Seed makes the operation mix and Poisson arrivals reproducible.
	Seed uint64

	// Concurrency is the number of workers: in an open run, the most
	// operations in flight at once (default DefaultConcurrency); in a
	// closed run, the number of back-to-back loops (required).
	Concurrency int

	// LateAfter is the lateness tolerance of an open run: an operation
	// starting more than LateAfter after its intended start is counted as
	// late. Default DefaultLateAfter.
	LateAfter time.Duration
	// DropAfter is how long after its intended start an operation of an
	// open run may wait for a free worker before it is dropped (counted,
	// not run). Default 0: no deadline, an operation waits until the end
	// of the run, as in wrk2. A value below LateAfter (1ns) drops exactly
	// the operations that find no idle worker when due, as k6 does.
	// Operations due but not started when the run ends are always dropped.
	DropAfter time.Duration
	// GracefulStop is how long operations running when the run ends may
	// take to finish; then their context is cancelled and they are counted
	// as interrupted. Default DefaultGracefulStop.
	GracefulStop time.Duration
	// ProgressEvery is the interval between progress reports and histogram
	// ticks. Default DefaultProgressEvery.
	ProgressEvery time.Duration
}

// Validate returns every problem with c, or nil if c can be run.
func (c Config) Validate() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch c.Mode {
	case "", ModeOpen:
		errs = append(errs, c.validateOpen()...)
	case ModeClosed:
		if c.Concurrency < 1 {
			add("closed mode: concurrency must be at least 1 (the number of looping workers), got %d", c.Concurrency)
		}
		if c.Duration <= 0 {
			add("closed mode: duration must be positive, got %v", c.Duration)
		}
		if c.Rate != 0 || len(c.Phases) > 0 || c.Arrival != "" || c.DropAfter != 0 || c.LateAfter != 0 {
			add("closed mode has no schedule: unset rate, phases, arrival, late and drop deadlines, or use open mode")
		}
	default:
		add("unknown mode %q: use %q or %q", c.Mode, ModeOpen, ModeClosed)
	}
	if c.Warmup < 0 {
		add("warmup must not be negative, got %v", c.Warmup)
	}
	if c.Concurrency < 0 {
		add("concurrency must not be negative, got %d", c.Concurrency)
	}
	if c.GracefulStop < 0 {
		add("graceful stop must not be negative, got %v", c.GracefulStop)
	}
	if c.ProgressEvery < 0 {
		add("progress interval must not be negative, got %v", c.ProgressEvery)
	}
	return errs
}

func (c Config) validateOpen() []error {
	var errs []error
	add := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	switch c.Arrival {
	case "", ArrivalUniform, ArrivalPoisson:
	default:
		add("unknown arrival %q: use %q or %q", c.Arrival, ArrivalUniform, ArrivalPoisson)
	}
	if c.LateAfter < 0 {
		add("late tolerance must not be negative, got %v", c.LateAfter)
	}
	if c.DropAfter < 0 {
		add("drop deadline must not be negative, got %v (0 means none)", c.DropAfter)
	}
	badRate := func(r float64) bool { return r < 0 || math.IsNaN(r) || math.IsInf(r, 0) }
	if len(c.Phases) == 0 {
		if c.Rate <= 0 || badRate(c.Rate) {
			add("rate must be a positive number of operations per second, got %v", c.Rate)
		}
		if c.Duration <= 0 {
			add("duration must be positive, got %v", c.Duration)
		}
		return errs
	}
	if c.Rate != 0 || c.Duration != 0 {
		add("set either rate and duration or phases, not both")
	}
	var ops float64
	for i, p := range c.Phases {
		where := fmt.Sprintf("phase %d", i+1)
		if p.Name != "" {
			where += fmt.Sprintf(" (%s)", p.Name)
		}
		if p.Duration <= 0 {
			add("%s: duration must be positive, got %v", where, p.Duration)
		}
		if badRate(p.Rate) {
			add("%s: rate must be a non-negative number, got %v", where, p.Rate)
		}
		switch p.Kind {
		case "", PhaseSteady:
			if p.EndRate != 0 {
				add("%s: end rate is only for a ramp; set kind %q", where, PhaseRamp)
			}
			ops += p.Rate * p.Duration.Seconds()
		case PhaseRamp:
			if badRate(p.EndRate) {
				add("%s: end rate must be a non-negative number, got %v", where, p.EndRate)
			}
			ops += (p.Rate + p.EndRate) / 2 * p.Duration.Seconds()
		default:
			add("%s: unknown kind %q: use %q or %q", where, p.Kind, PhaseSteady, PhaseRamp)
		}
	}
	if len(errs) == 0 && !(ops > 0) {
		add("phases schedule no operations: give at least one a positive rate")
	}
	if c.Warmup > 0 && len(c.Phases) > 0 && c.Phases[0].Rate == 0 {
		add("warmup runs at the first phase's starting rate, which is 0: start that phase above 0 or drop the warmup")
	}
	return errs
}

// withDefaults returns c with zero fields set to their defaults.
func (c Config) withDefaults() Config {
	if c.Mode == "" {
		c.Mode = ModeOpen
	}
	if c.Mode == ModeOpen {
		if c.Arrival == "" {
			c.Arrival = ArrivalUniform
		}
		if c.Concurrency == 0 {
			c.Concurrency = DefaultConcurrency
		}
		if c.LateAfter == 0 {
			c.LateAfter = DefaultLateAfter
		}
		if len(c.Phases) == 0 {
			c.Phases = []Phase{Steady(c.Duration, c.Rate)}
		}
		phases := make([]Phase, len(c.Phases))
		for i, p := range c.Phases {
			if p.Kind == "" {
				p.Kind = PhaseSteady
			}
			if p.Name == "" {
				p.Name = string(p.Kind)
			}
			phases[i] = p
		}
		c.Phases = phases
	}
	if c.GracefulStop == 0 {
		c.GracefulStop = DefaultGracefulStop
	}
	if c.ProgressEvery == 0 {
		c.ProgressEvery = DefaultProgressEvery
	}
	return c
}

// measured returns the length of the measured part of the run.
func (c Config) measured() time.Duration {
	if c.Mode == ModeClosed {
		return c.Duration
	}
	var d time.Duration
	for _, p := range c.Phases {
		d += p.Duration
	}
	return d
}

// ErrInvalidConfig is wrapped by New's error for a Config that fails
// Validate.
var ErrInvalidConfig = errors.New("invalid runner config")
