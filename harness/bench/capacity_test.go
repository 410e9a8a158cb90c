package bench_test

import (
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/scenarios"
)

// TestCapacitySearch runs the search on crud: the CPU law and the
// queueing model each predict a rate (the model's no higher: queueing only
// lowers it), and the steps rise until one fails, then close in on the
// highest sustained rate.
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
	t.Logf("CPU law %.0f/s, queueing %.0f/s, measured %.0f/s, failed at %.0f/s, %d steps", c.PredictedMaxRate, c.QueueingMaxRate, c.MeasuredMaxRate, c.FirstFailedRate, len(c.Steps))
	if c.PredictedMaxRate <= 0 || c.QueueingMaxRate <= 0 || c.QueueingMaxRate > c.PredictedMaxRate {
		t.Errorf("predictions: CPU law %.0f/s, queueing %.0f/s; want both, the model's at most the CPU law's", c.PredictedMaxRate, c.QueueingMaxRate)
	}
	if len(c.Steps) < 2 || c.FirstFailedRate <= c.MeasuredMaxRate || c.Steps[0].OfferedRate > c.QueueingMaxRate/2*1.001 {
		t.Errorf("steps %+v; want a rise from half the lower prediction to a failed step above the highest sustained one", c.Steps)
	}
}
