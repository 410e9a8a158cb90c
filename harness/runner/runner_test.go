package runner_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/hist"
	"github.com/cqrsbench/cqrsbench/harness/runner"
	"github.com/cqrsbench/cqrsbench/harness/runner/runnertest"
)

// epoch is the fake clock's start, far from synctest's own fake time so a
// stray use of package time would show.
var epoch = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// sleepOp returns an operation that takes d on clk.
func sleepOp(clk *runnertest.Clock, name string, weight float64, d time.Duration) runner.Op {
	return runner.Op{Name: name, Weight: weight, Do: func(ctx context.Context) error {
		return clk.Sleep(ctx, d)
	}}
}

// runFake runs a Runner built from cfg and ops on clk inside the current
// synctest bubble and returns its result and error.
func runFake(t *testing.T, ctx context.Context, clk *runnertest.Clock, cfg runner.Config, ops []runner.Op, opts ...runner.Opt) (*runner.Result, error) {
	t.Helper()
	r, err := runner.New(cfg, ops, append([]runner.Opt{runner.WithClock(clk)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	var (
		res    *runner.Result
		runErr error
	)
	if err := clk.Drive(func() { res, runErr = r.Run(ctx) }); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, res)
	return res, runErr
}

// checkInvariants checks the relations between counts that hold for every
// run.
func checkInvariants(t *testing.T, res *runner.Result) {
	t.Helper()
	var sum runner.Counts
	for _, op := range res.Ops {
		c := op.Counts
		sum = sum.Add(c)
		if c.Scheduled != c.Issued+c.Dropped || c.Issued != c.Completed+c.Interrupted || c.Late > c.Issued || c.Errors > c.Completed {
			t.Errorf("%s: inconsistent counts %+v", op.Name, c)
		}
		if got, want := op.Latency.Count+op.ErrLatency.Count, c.Completed; got != want {
			t.Errorf("%s: %d latencies recorded for %d completed", op.Name, got, want)
		}
		if op.Service.Count != op.Latency.Count {
			t.Errorf("%s: %d service times for %d latencies", op.Name, op.Service.Count, op.Latency.Count)
		}
		var kinds int64
		for _, n := range op.ErrorKinds {
			kinds += n
		}
		if kinds != c.Errors || op.ErrLatency.Count != c.Errors {
			t.Errorf("%s: %d errors, %d by kind, %d error latencies", op.Name, c.Errors, kinds, op.ErrLatency.Count)
		}
	}
	if sum != res.Counts {
		t.Errorf("result counts %+v, ops sum to %+v", res.Counts, sum)
	}
}

// near reports whether got is want up to HdrHistogram's 0.1% precision.
func near(got, want time.Duration) bool {
	return math.Abs(float64(got-want)) <= float64(want)/1000+float64(time.Microsecond)
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  runner.Config
		want []string // substrings of the errors, in order; none for a valid config
	}{
		{"rate and duration", runner.Config{Rate: 10, Duration: time.Second}, nil},
		{"phases", runner.Config{Phases: []runner.Phase{runner.Ramp(time.Second, 0, 10), runner.Burst(time.Second, 100)}, Warmup: 0}, nil},
		{"closed", runner.Config{Mode: runner.ModeClosed, Concurrency: 4, Duration: time.Second, Warmup: time.Second}, nil},
		{"poisson with drop deadline", runner.Config{Rate: 1, Duration: time.Second, Arrival: runner.ArrivalPoisson, DropAfter: time.Millisecond}, nil},
		{"empty", runner.Config{}, []string{"rate must be a positive", "duration must be positive"}},
		{"unknown mode", runner.Config{Mode: "half-open"}, []string{`unknown mode "half-open"`}},
		{"unknown arrival", runner.Config{Rate: 1, Duration: time.Second, Arrival: "bursty"}, []string{`unknown arrival "bursty"`}},
		{"NaN rate", runner.Config{Rate: math.NaN(), Duration: time.Second}, []string{"rate must be a positive"}},
		{"both rate and phases", runner.Config{Rate: 1, Phases: []runner.Phase{runner.Steady(time.Second, 1)}}, []string{"either rate and duration or phases"}},
		{"bad phase", runner.Config{Phases: []runner.Phase{{Name: "x", Kind: "zigzag", Rate: -1}}}, []string{"phase 1 (x): duration", "phase 1 (x): rate", `phase 1 (x): unknown kind "zigzag"`}},
		{"end rate on steady", runner.Config{Phases: []runner.Phase{{Duration: time.Second, Rate: 1, EndRate: 2}}}, []string{"end rate is only for a ramp"}},
		{"all pauses", runner.Config{Phases: []runner.Phase{runner.Steady(time.Second, 0)}}, []string{"schedule no operations"}},
		{"warmup at zero", runner.Config{Warmup: time.Second, Phases: []runner.Phase{runner.Ramp(time.Second, 0, 5)}}, []string{"warmup runs at the first phase's starting rate"}},
		{"negatives", runner.Config{Rate: 1, Duration: time.Second, Warmup: -1, LateAfter: -1, DropAfter: -1, Concurrency: -1, GracefulStop: -1, ProgressEvery: -1},
			[]string{"late tolerance", "drop deadline", "warmup", "concurrency", "graceful stop", "progress interval"}},
		{"closed needs workers", runner.Config{Mode: runner.ModeClosed, Duration: time.Second}, []string{"concurrency must be at least 1"}},
		{"closed has no schedule", runner.Config{Mode: runner.ModeClosed, Concurrency: 1, Duration: time.Second, Rate: 5}, []string{"closed mode has no schedule"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			errs := tt.cfg.Validate()
			if len(errs) != len(tt.want) {
				t.Fatalf("errors %q, want %d matching %q", errs, len(tt.want), tt.want)
			}
			for i, err := range errs {
				if !strings.Contains(err.Error(), tt.want[i]) {
					t.Errorf("error %d %q, want it to contain %q", i, err, tt.want[i])
				}
			}
		})
	}
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	nop := func(context.Context) error { return nil }
	good := runner.Config{Rate: 1, Duration: time.Second}
	tests := []struct {
		name string
		cfg  runner.Config
		ops  []runner.Op
		want string
	}{
		{"no ops", good, nil, "no operations"},
		{"bad config", runner.Config{}, []runner.Op{{Name: "a", Weight: 1, Do: nop}}, "rate must be"},
		{"empty name", good, []runner.Op{{Weight: 1, Do: nop}}, "operation 1: name is empty"},
		{"duplicate", good, []runner.Op{{Name: "a", Weight: 1, Do: nop}, {Name: "a", Weight: 1, Do: nop}}, `operation 2 ("a"): name used twice`},
		{"reserved suffix", good, []runner.Op{{Name: "a/ERR", Weight: 1, Do: nop}}, "must not end in"},
		{"zero weight", good, []runner.Op{{Name: "a", Do: nop}}, "weight must be a positive number"},
		{"nil Do", good, []runner.Op{{Name: "a", Weight: 1}}, "Do is nil"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := runner.New(tt.cfg, tt.ops)
			if !errors.Is(err, runner.ErrInvalidConfig) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New: %v, want ErrInvalidConfig containing %q", err, tt.want)
			}
		})
	}
	r, err := runner.New(good, []runner.Op{{Name: "a", Weight: 1, Do: nop}})
	if err != nil {
		t.Fatal(err)
	}
	if c := r.Config(); c.Mode != runner.ModeOpen || c.Arrival != runner.ArrivalUniform || c.Concurrency != runner.DefaultConcurrency ||
		c.LateAfter != runner.DefaultLateAfter || c.GracefulStop != runner.DefaultGracefulStop || c.ProgressEvery != runner.DefaultProgressEvery ||
		len(c.Phases) != 1 || c.Phases[0].Name != "steady" {
		t.Errorf("defaults not applied: %+v", c)
	}
}

// TestIntendedStart runs an operation taking 10 ms at 1000/s on one
// worker: the system can do 100/s. Latency from the intended start grows by
// 9 ms per operation while service time stays 10 ms, and what cannot start
// is late or dropped, exactly.
func TestIntendedStart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		dropAfter time.Duration
		// latency from intended start of the k-th started operation
		latency func(k int) time.Duration
	}{
		{
			// Op k starts at 10k ms, intended at k ms. Op 100 would start at
			// the end: it and the 899 after it are dropped.
			name:    "no drop deadline",
			latency: func(k int) time.Duration { return time.Duration(9*k+10) * time.Millisecond },
		},
		{
			// An op waits 25.5 ms at most. The worker frees every 10 ms;
			// from the fourth start on it takes the op due 25 ms before, so
			// latency settles at 35 ms, and all others are dropped.
			name:      "drop deadline",
			dropAfter: 25500 * time.Microsecond,
			latency: func(k int) time.Duration {
				return []time.Duration{10, 19, 28, 35}[min(k, 3)] * time.Millisecond
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				clk := runnertest.NewClock(epoch)
				cfg := runner.Config{Rate: 1000, Duration: time.Second, Concurrency: 1, DropAfter: tt.dropAfter}
				res, err := runFake(t, context.Background(), clk, cfg, []runner.Op{sleepOp(clk, "slow", 1, 10*time.Millisecond)})
				if err != nil {
					t.Fatal(err)
				}
				// Every late op had found the one worker busy: queued.
				want := runner.Counts{Scheduled: 1000, Issued: 100, Completed: 100, Late: 99, Queued: 99, Dropped: 900}
				if res.Counts != want {
					t.Errorf("counts %+v\nwant   %+v", res.Counts, want)
				}
				op := res.Ops[0]
				var lats []time.Duration
				for k := range 100 {
					lats = append(lats, tt.latency(k))
				}
				checks := []struct {
					what      string
					got, want time.Duration
				}{
					{"latency min", op.Latency.Min, lats[0]},
					{"latency p50", op.Latency.P50, lats[49]},
					{"latency p90", op.Latency.P90, lats[89]},
					{"latency max", op.Latency.Max, lats[99]},
					{"service min", op.Service.Min, 10 * time.Millisecond},
					{"service max", op.Service.Max, 10 * time.Millisecond},
				}
				for _, c := range checks {
					if !near(c.got, c.want) {
						t.Errorf("%s = %v, want %v", c.what, c.got, c.want)
					}
				}
				if res.Duration != time.Second || res.OfferedRate != 1000 || res.AchievedRate != 100 {
					t.Errorf("duration %v offered %v achieved %v, want 1s, 1000/s, 100/s", res.Duration, res.OfferedRate, res.AchievedRate)
				}
			})
		})
	}
}

// TestDropImmediately sets a drop deadline below the lateness tolerance:
// as in k6, an operation finding no idle worker when due is dropped, and one
// finding one is neither late nor queued.
func TestDropImmediately(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		clk := runnertest.NewClock(epoch)
		cfg := runner.Config{Rate: 1000, Duration: time.Second, Concurrency: 1, DropAfter: time.Nanosecond}
		res, err := runFake(t, context.Background(), clk, cfg, []runner.Op{sleepOp(clk, "op", 1, 9500*time.Microsecond)})
		if err != nil {
			t.Fatal(err)
		}
		// The worker is idle at every 10th due time only.
		want := runner.Counts{Scheduled: 1000, Issued: 100, Completed: 100, Dropped: 900}
		if res.Counts != want {
			t.Errorf("counts %+v, want %+v", res.Counts, want)
		}
		if l := res.Ops[0].Latency; !near(l.Max, 9500*time.Microsecond) || !near(l.Min, 9500*time.Microsecond) {
			t.Errorf("latency %v..%v, want 9.5ms", l.Min, l.Max)
		}
	})
}

// TestKeepsUp checks that a system fast enough sees no late or dropped
// operation, and latency equal to service time.
func TestKeepsUp(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		arrival runner.Arrival
		workers int
		op      time.Duration
	}{
		{"uniform, one worker", runner.ArrivalUniform, 1, 5 * time.Millisecond},
		{"uniform, in flight", runner.ArrivalUniform, 8, 30 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				clk := runnertest.NewClock(epoch)
				cfg := runner.Config{Rate: 100, Duration: 2 * time.Second, Concurrency: tt.workers, Arrival: tt.arrival}
				res, err := runFake(t, context.Background(), clk, cfg, []runner.Op{sleepOp(clk, "op", 1, tt.op)})
				if err != nil {
					t.Fatal(err)
				}
				want := runner.Counts{Scheduled: 200, Issued: 200, Completed: 200}
				if res.Counts != want {
					t.Errorf("counts %+v, want %+v", res.Counts, want)
				}
				l, s := res.Ops[0].Latency, res.Ops[0].Service
				if !near(l.Max, tt.op) || !near(l.Min, tt.op) || l.Max != s.Max {
					t.Errorf("latency %v..%v, service max %v; want all %v", l.Min, l.Max, s.Max, tt.op)
				}
			})
		})
	}
}

func TestPoissonRun(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		clk := runnertest.NewClock(epoch)
		// Poisson arrivals cluster: with one worker busy 2 ms, some of
		// 200/s arrive while it is busy and start late, but none is dropped.
		cfg := runner.Config{Rate: 200, Duration: 10 * time.Second, Concurrency: 1, Arrival: runner.ArrivalPoisson, Seed: 3}
		res, err := runFake(t, context.Background(), clk, cfg, []runner.Op{sleepOp(clk, "op", 1, 2*time.Millisecond)})
		if err != nil {
			t.Fatal(err)
		}
		c := res.Counts
		if math.Abs(float64(c.Scheduled)-2000) > 4*math.Sqrt(2000) {
			t.Errorf("scheduled %d, want about 2000", c.Scheduled)
		}
		if c.Late == 0 || c.Dropped != 0 || c.Completed != c.Scheduled {
			t.Errorf("counts %+v: want some late, none dropped", c)
		}
		if l := res.Ops[0].Latency; l.Max <= 2*time.Millisecond || !near(l.Min, 2*time.Millisecond) {
			t.Errorf("latency %v..%v: want queueing above the 2ms service time", l.Min, l.Max)
		}
	})
}

func TestWarmupExcluded(t *testing.T) {
	t.Parallel()
	for _, mode := range []runner.Mode{runner.ModeOpen, runner.ModeClosed} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				clk := runnertest.NewClock(epoch)
				warmEnd := epoch.Add(time.Second)
				// Cold: 50 ms during the warmup, 1 ms after.
				var toldWarm, toldMeasured atomic.Int64 // what InWarmup said
				op := runner.Op{Name: "op", Weight: 1, Do: func(ctx context.Context) error {
					if runner.InWarmup(ctx) {
						toldWarm.Add(1)
					} else {
						toldMeasured.Add(1)
					}
					if clk.Now().Before(warmEnd) {
						return clk.Sleep(ctx, 50*time.Millisecond)
					}
					return clk.Sleep(ctx, time.Millisecond)
				}}
				cfg := runner.Config{Rate: 100, Duration: time.Second, Warmup: time.Second, Concurrency: 8}
				if mode == runner.ModeClosed {
					cfg = runner.Config{Mode: mode, Duration: time.Second, Warmup: time.Second, Concurrency: 2}
				}
				res, err := runFake(t, context.Background(), clk, cfg, []runner.Op{op})
				if err != nil {
					t.Fatal(err)
				}
				want, warm := runner.Counts{Scheduled: 100, Issued: 100, Completed: 100}, runner.Counts{Scheduled: 100, Issued: 100, Completed: 100}
				if mode == runner.ModeClosed {
					// 2 workers: 20 ops of 50 ms each in the warmup, 1000 of 1 ms after.
					want, warm = runner.Counts{Scheduled: 2000, Issued: 2000, Completed: 2000}, runner.Counts{Scheduled: 40, Issued: 40, Completed: 40}
				}
				if res.Counts != want || res.Warmup != warm {
					t.Errorf("counts %+v warmup %+v\nwant   %+v warmup %+v", res.Counts, res.Warmup, want, warm)
				}
				if l := res.Ops[0].Latency; !near(l.Max, time.Millisecond) || l.Count != want.Completed {
					t.Errorf("latency max %v over %d: want 1ms over %d, warmup excluded", l.Max, l.Count, want.Completed)
				}
				if !res.Start.Equal(warmEnd) || res.Duration != time.Second {
					t.Errorf("measured from %v for %v, want %v for 1s", res.Start, res.Duration, warmEnd)
				}
				if toldWarm.Load() != warm.Issued || toldMeasured.Load() != want.Issued {
					t.Errorf("InWarmup was true for %d and false for %d operations, want %d and %d",
						toldWarm.Load(), toldMeasured.Load(), warm.Issued, want.Issued)
				}
			})
		})
	}
}

func TestMix(t *testing.T) {
	t.Parallel()
	run := func(seed uint64) []runner.OpResult {
		var ops []runner.OpResult
		synctest.Test(t, func(t *testing.T) {
			clk := runnertest.NewClock(epoch)
			cfg := runner.Config{Rate: 2000, Duration: 10 * time.Second, Concurrency: 4, Seed: seed}
			res, err := runFake(t, context.Background(), clk, cfg, []runner.Op{
				sleepOp(clk, "list_orders", 7, time.Millisecond),
				sleepOp(clk, "create_order", 2, time.Millisecond),
				sleepOp(clk, "ship_order", 1, time.Millisecond),
			})
			if err != nil {
				t.Fatal(err)
			}
			ops = res.Ops
		})
		return ops
	}
	a := run(11)
	for i, want := range []float64{0.7, 0.2, 0.1} {
		got := float64(a[i].Counts.Scheduled) / 20000
		if math.Abs(got-want) > 0.01 {
			t.Errorf("%s: share %.3f, want %.1f", a[i].Name, got, want)
		}
	}
	b, c := run(11), run(12)
	same := func(x, y []runner.OpResult) bool {
		for i := range x {
			if x[i].Counts != y[i].Counts {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Error("the same seed gave different mixes")
	}
	if same(a, c) {
		t.Error("different seeds gave the same mix")
	}
}

func TestClosedLoop(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		clk := runnertest.NewClock(epoch)
		var (
			mu     sync.Mutex
			active int
			starts []time.Time
		)
		op := runner.Op{Name: "op", Weight: 1, Do: func(ctx context.Context) error {
			mu.Lock()
			active++
			if active > 2 {
				t.Errorf("%d operations in flight with 2 workers", active)
			}
			starts = append(starts, clk.Now())
			mu.Unlock()
			defer func() { mu.Lock(); active--; mu.Unlock() }()
			return clk.Sleep(ctx, 10*time.Millisecond)
		}}
		cfg := runner.Config{Mode: runner.ModeClosed, Duration: time.Second, Concurrency: 2}
		res, err := runFake(t, context.Background(), clk, cfg, []runner.Op{op})
		if err != nil {
			t.Fatal(err)
		}
		// Back to back: each worker starts one every 10 ms, with no gap.
		want := runner.Counts{Scheduled: 200, Issued: 200, Completed: 200}
		if res.Counts != want {
			t.Errorf("counts %+v, want %+v", res.Counts, want)
		}
		for i, st := range starts {
			if want := epoch.Add(time.Duration(i/2) * 10 * time.Millisecond); !st.Equal(want) {
				t.Fatalf("start %d at %v, want %v", i, st.Sub(epoch), want.Sub(epoch))
			}
		}
		if l := res.Ops[0].Latency; !near(l.Min, 10*time.Millisecond) || !near(l.Max, 10*time.Millisecond) {
			t.Errorf("latency %v..%v, want 10ms", l.Min, l.Max)
		}
		if res.AchievedRate != 200 || res.Mode != runner.ModeClosed {
			t.Errorf("achieved %v/s in mode %v, want 200/s closed", res.AchievedRate, res.Mode)
		}
	})
}

// TestCancel cancels a run half way: it ends at once, the operations cut
// short are interrupted, not errors, and the partial result is consistent.
func TestCancel(t *testing.T) {
	t.Parallel()
	for _, mode := range []runner.Mode{runner.ModeOpen, runner.ModeClosed} {
		t.Run(string(mode), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				clk := runnertest.NewClock(epoch)
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				go func() {
					if clk.SleepUntil(ctx, epoch.Add(505*time.Millisecond)) == nil {
						cancel()
					}
				}()
				cfg := runner.Config{Rate: 100, Duration: 10 * time.Second, Concurrency: 4}
				if mode == runner.ModeClosed {
					cfg = runner.Config{Mode: mode, Duration: 10 * time.Second, Concurrency: 4}
				}
				res, err := runFake(t, ctx, clk, cfg, []runner.Op{sleepOp(clk, "op", 1, 20*time.Millisecond)})
				if !errors.Is(err, context.Canceled) {
					t.Fatalf("Run error %v, want context.Canceled", err)
				}
				c := res.Counts
				if c.Errors != 0 || c.Interrupted == 0 {
					t.Errorf("counts %+v: want interrupted, no errors", c)
				}
				if res.Elapsed != 505*time.Millisecond || res.Duration != 505*time.Millisecond {
					t.Errorf("elapsed %v duration %v, want 505ms", res.Elapsed, res.Duration)
				}
				if mode == runner.ModeOpen && (c.Scheduled != 51 || c.Completed != 49) {
					t.Errorf("counts %+v: want 51 scheduled (0..500ms), 49 completed", c)
				}
			})
		})
	}
}

// TestGracefulStop ends a run whose last operation hangs: it gets
// GracefulStop to finish, then is interrupted.
func TestGracefulStop(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		clk := runnertest.NewClock(epoch)
		var n atomic.Int64
		op := runner.Op{Name: "op", Weight: 1, Do: func(ctx context.Context) error {
			if n.Add(1) == 10 {
				return clk.Sleep(ctx, time.Hour)
			}
			return clk.Sleep(ctx, time.Millisecond)
		}}
		cfg := runner.Config{Rate: 10, Duration: time.Second, Concurrency: 2, GracefulStop: 3 * time.Second}
		res, err := runFake(t, context.Background(), clk, cfg, []runner.Op{op})
		if err != nil {
			t.Fatal(err)
		}
		want := runner.Counts{Scheduled: 10, Issued: 10, Completed: 9, Interrupted: 1}
		if res.Counts != want {
			t.Errorf("counts %+v, want %+v", res.Counts, want)
		}
		if res.Elapsed != 4*time.Second {
			t.Errorf("elapsed %v, want 4s (1s and the 3s graceful stop)", res.Elapsed)
		}
	})
}

var (
	errConflict = errors.New("conflict")
	errTimeout  = errors.New("timeout")
)

func TestErrors(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		clk := runnertest.NewClock(epoch)
		var n atomic.Int64
		op := runner.Op{Name: "confirm_order", Weight: 1, Do: func(ctx context.Context) error {
			i := n.Add(1)
			if err := clk.Sleep(ctx, time.Millisecond); err != nil {
				return err
			}
			switch i % 10 {
			case 0:
				return errConflict
			case 5:
				return errTimeout
			}
			return nil
		}}
		classify := func(err error) string {
			if errors.Is(err, errConflict) {
				return "conflict"
			}
			return "other"
		}
		cfg := runner.Config{Rate: 100, Duration: time.Second, Concurrency: 2}
		res, err := runFake(t, context.Background(), clk, cfg, []runner.Op{op}, runner.WithClassifier(classify))
		if err != nil {
			t.Fatal(err)
		}
		o := res.Ops[0]
		if o.Counts.Errors != 20 || o.ErrorKinds["conflict"] != 10 || o.ErrorKinds["other"] != 10 {
			t.Errorf("errors %d by kind %v, want 20: 10 conflict, 10 other", o.Counts.Errors, o.ErrorKinds)
		}
		if o.Latency.Count != 80 || o.ErrLatency.Count != 20 {
			t.Errorf("%d latencies, %d error latencies; want 80 and 20", o.Latency.Count, o.ErrLatency.Count)
		}
		snaps := res.Snapshots("crud/")
		if snaps["crud/confirm_order"].Count != 80 || snaps[hist.ErrKey("crud/confirm_order")].Count != 20 || snaps[hist.ServiceKey("crud/confirm_order")].Count != 80 {
			t.Errorf("Snapshots keys: %v", snaps)
		}
	})
}

func TestProgress(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		clk := runnertest.NewClock(epoch)
		var reports []runner.Progress
		cfg := runner.Config{
			Warmup:        300 * time.Millisecond,
			Phases:        []runner.Phase{runner.Steady(400*time.Millisecond, 100), runner.Ramp(300*time.Millisecond, 100, 0)},
			Concurrency:   1,
			ProgressEvery: 100 * time.Millisecond,
		}
		ops := []runner.Op{sleepOp(clk, "a", 1, 5*time.Millisecond), sleepOp(clk, "b", 1, 5*time.Millisecond)}
		res, err := runFake(t, context.Background(), clk, cfg, ops, runner.WithProgress(func(p runner.Progress) { reports = append(reports, p) }))
		if err != nil {
			t.Fatal(err)
		}
		wantPhases := []string{"warmup", "warmup", "steady", "steady", "steady", "steady", "ramp", "ramp", "ramp", "stopping", "stopping"}
		if len(reports) != len(wantPhases) {
			t.Fatalf("%d reports, want %d", len(reports), len(wantPhases))
		}
		var sum runner.Counts
		for i, p := range reports {
			if p.Phase != wantPhases[i] || p.Final != (i == len(reports)-1) || p.Warmup != (i < 2) {
				t.Errorf("report %d: phase %q final %v warmup %v, want %q", i, p.Phase, p.Final, p.Warmup, wantPhases[i])
			}
			if i < 10 && (p.Elapsed != time.Duration(i+1)*100*time.Millisecond || p.Interval != 100*time.Millisecond) {
				t.Errorf("report %d: elapsed %v interval %v", i, p.Elapsed, p.Interval)
			}
			var ops runner.Counts
			for _, o := range p.Ops {
				ops = ops.Add(o.Counts)
				if o.Counts.Completed > 0 && !near(o.P99, 5*time.Millisecond) {
					t.Errorf("report %d %s: p99 %v, want 5ms", i, o.Name, o.P99)
				}
			}
			if ops != p.Counts {
				t.Errorf("report %d: ops sum to %+v, total %+v", i, ops, p.Counts)
			}
			sum = sum.Add(p.Counts)
			if sum != p.Total {
				t.Errorf("report %d: intervals sum to %+v, total %+v", i, sum, p.Total)
			}
		}
		if p := reports[3]; p.Rate != 100 || p.TargetRate != 100 || p.Counts.Completed != 10 {
			t.Errorf("steady report: rate %v target %v completed %d, want 100/s and 10", p.Rate, p.TargetRate, p.Counts.Completed)
		}
		if got := sum.Sub(res.Warmup); got != res.Counts {
			t.Errorf("progress minus warmup %+v, result %+v", got, res.Counts)
		}
	})
}

// TestRealClock is a smoke test on the real clock: it checks only counts
// and order, never timings, since this machine is shared and noisy.
func TestRealClock(t *testing.T) {
	t.Parallel()
	var (
		mu       sync.Mutex
		reports  []runner.Progress
		executed atomic.Int64
	)
	op := func(name string, w float64) runner.Op {
		return runner.Op{Name: name, Weight: w, Do: func(ctx context.Context) error {
			executed.Add(1)
			return nil
		}}
	}
	cfg := runner.Config{Rate: 200, Duration: 300 * time.Millisecond, Warmup: 100 * time.Millisecond, Concurrency: 4, ProgressEvery: 50 * time.Millisecond}
	r, err := runner.New(cfg, []runner.Op{op("a", 3), op("b", 1)}, runner.WithProgress(func(p runner.Progress) {
		mu.Lock()
		reports = append(reports, p)
		mu.Unlock()
	}))
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.Run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, res)
	// Uniform arrivals: exactly rate × duration operations are due.
	if res.Counts.Scheduled != 60 || res.Warmup.Scheduled != 20 {
		t.Errorf("scheduled %d (warmup %d), want 60 (20)", res.Counts.Scheduled, res.Warmup.Scheduled)
	}
	if got := res.Counts.Issued + res.Warmup.Issued; executed.Load() != got || res.Counts.Errors != 0 || res.Counts.Interrupted != 0 {
		t.Errorf("executed %d, issued %d, counts %+v", executed.Load(), got, res.Counts)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reports) == 0 || !reports[len(reports)-1].Final {
		t.Fatalf("%d reports, last not final", len(reports))
	}
	for i := 1; i < len(reports); i++ {
		if reports[i].Elapsed < reports[i-1].Elapsed || reports[i-1].Final {
			t.Errorf("report %d out of order", i)
		}
	}
	if last := reports[len(reports)-1]; last.Total != res.Counts.Add(res.Warmup) {
		t.Errorf("final total %+v, want %+v", last.Total, res.Counts.Add(res.Warmup))
	}
}
