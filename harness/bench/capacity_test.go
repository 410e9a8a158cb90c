package bench_test

import (
	"math"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/bench"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// TestCapacitySearch runs the search on crud: the CPU law and the
// queueing model each predict a rate (the model's no higher: queueing only
// lowers it), and the steps rise from half the lower one until one fails,
// then close in on the highest sustained rate. The model predicts again
// with the first step's CPU per operation. When the host's other processes took too much of its CPU to
// predict (other test packages, in CI), neither predicts and the steps
// rise from the scenario's rate.
func TestCapacitySearch(t *testing.T) {
	base, err := scenarios.Builtin("smoke")
	if err != nil {
		t.Fatal(err)
	}
	orders, duration := 3000, 3*time.Second
	sc, err := base.WithOverrides(scenarios.Overrides{Orders: &orders, Duration: &duration, Arch: []string{"crud"}, FindMaxRate: true})
	if err != nil {
		t.Fatal(err)
	}
	sc.Load.Warmup = scenarios.Duration(time.Second)
	sc.Capacity.Step = scenarios.Duration(time.Second)
	run := runScenario(t, sc)
	c := run.Architectures[0].Capacity
	if c == nil {
		t.Fatal("no capacity search in the results")
	}
	skipped := run.Architectures[0].Cost.PredictionSkipped
	t.Logf("CPU law %.0f/s, queueing %.0f/s (%s), measured %.0f/s, failed at %.0f/s, %d steps", c.PredictedMaxRate, c.QueueingMaxRate, skipped, c.MeasuredMaxRate, c.FirstFailedRate, len(c.Steps))
	first := sc.Load.Rate
	switch {
	case skipped != "":
		if c.PredictedMaxRate != 0 || c.QueueingMaxRate != 0 {
			t.Errorf("predictions skipped (%s) but CPU law %.0f/s, queueing %.0f/s; want none", skipped, c.PredictedMaxRate, c.QueueingMaxRate)
		}
	case c.PredictedMaxRate <= 0 || c.QueueingMaxRate <= 0 || c.QueueingMaxRate > c.PredictedMaxRate:
		t.Errorf("predictions: CPU law %.0f/s, queueing %.0f/s; want both, the model's at most the CPU law's", c.PredictedMaxRate, c.QueueingMaxRate)
	default:
		first = c.QueueingMaxRate / 2
		a, step := run.Architectures[0], c.Steps[0]
		if step.RunCPUs <= 0 || c.CalibratedAt != step.OfferedRate {
			t.Fatalf("first step %+v, calibrated at %.0f/s; want its CPU measured and the prediction from it", step, c.CalibratedAt)
		}
		// The model is deterministic (seeded): each prediction is the
		// model's with its own demand.
		for _, p := range []struct {
			what   string
			demand float64
			got    float64
		}{{"the run", a.Cost.DemandSeconds(), c.QueueingMaxRate}, {"the first step", step.DemandSeconds(a.Cost.IdleCPUs), c.CalibratedMaxRate}} {
			want, err := bench.QueueingMaxRate(a.Ops, p.demand, a.Cost, sc)
			t.Logf("from %s: %.0f µs an operation, %.0f/s", p.what, p.demand*1e6, p.got)
			if err != nil || p.got != want || want <= 0 {
				t.Errorf("prediction from %s %.0f/s; want the model's with its %.0f µs an operation, %.0f/s (%v)", p.what, p.got, p.demand*1e6, want, err)
			}
		}
		if d, s := a.Cost.DemandSeconds(), step.DemandSeconds(a.Cost.IdleCPUs); math.Abs(d-s) > 0.05*d && c.CalibratedMaxRate == c.QueueingMaxRate {
			t.Errorf("the run's %.0f µs an operation and the first step's %.0f µs predict the same %.0f/s; want the model to see the difference", d*1e6, s*1e6, c.QueueingMaxRate)
		}
	}
	if len(c.Steps) < 2 || math.Abs(c.Steps[0].OfferedRate-first) > 1e-6*first || c.FirstFailedRate > 0 && c.FirstFailedRate <= c.MeasuredMaxRate {
		t.Errorf("steps %+v; want a rise from %.0f/s, a failed step above the highest sustained one", c.Steps, first)
	}
}
