package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/infra"
	"github.com/cqrsbench/cqrsbench/harness/queueing"
	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/harness/runner"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// The capacity search's shape.
const (
	// capacityGrowth is the factor between rising steps.
	capacityGrowth = 1.25
	// capacityBisections is how often the gap between the last sustained
	// and the first failed rate is halved after the rise.
	capacityBisections = 2
	// capacityMaxSteps bounds the rise (1.25^16 ≈ 35× the first rate).
	capacityMaxSteps = 16
)

// measureIdle measures how many CPUs the run's own processes (the
// services inf runs and cqrsbench) keep busy for d while nothing is
// offered: the architecture's idle work.
func measureIdle(ctx context.Context, inf infra.Infra, d time.Duration) (cpus, seconds float64, err error) {
	before := readCPU(ctx, inf)
	start := time.Now()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	case <-timer.C:
	}
	after := readCPU(ctx, inf)
	seconds = time.Since(start).Seconds()
	busy, ok := runCPUBetween(before, after)
	if !ok {
		return 0, 0, fmt.Errorf("read /proc: %w", errors.Join(before.hostErr, after.hostErr))
	}
	return busy / seconds, seconds, nil
}

// searchMaxRate first predicts the highest rate the run's mix sustains,
// by the CPU law (cost's) and by the queueing model (harness/queueing),
// then runs the mix at rising rates on the architecture a runs, from half
// of the lower prediction (the scenario's rate when nothing is
// predicted), until a step is not sustained, then halves the gap between
// the last sustained and the first failed rate capacityBisections times.
// lagP99 returns the pipeline's lag p99 since its previous call (nil
// without a pipeline).
func (a *archRun) searchMaxRate(ctx context.Context, name string, run []results.Op, cost *results.Cost, lagP99 func() time.Duration) (*results.Capacity, error) {
	sc := a.cfg.Scenario
	bounds := p99Bounds(run, sc.Capacity.MaxP99.Std())
	c := &results.Capacity{PredictedMaxRate: cost.PredictedMaxRate}
	// predict is QueueingMaxRate with demand; without a prediction the
	// search goes on.
	predict := func(demand float64, basis string) float64 {
		r, err := queueingMaxRate(run, demand, cost, sc)
		if err != nil {
			say(a.cfg.Progress, "%s: no queueing prediction from %s: %v", name, basis, err)
		}
		return r
	}
	c.QueueingMaxRate = predict(cost.DemandSeconds(), "the run")
	rate := sc.Load.Rate
	if predicted := cmp.Or(min(c.PredictedMaxRate, c.QueueingMaxRate), c.PredictedMaxRate); predicted > 0 {
		rate = predicted / 2
	}
	step := func(rate float64) (bool, error) {
		s, err := a.capacityStep(ctx, rate, bounds, lagP99)
		if err != nil {
			return false, err
		}
		if len(c.Steps) == 0 {
			if r := predict(s.DemandSeconds(cost.IdleCPUs), "the first step"); r > 0 {
				c.CalibratedAt, c.CalibratedMaxRate = s.OfferedRate, r
			}
		}
		c.Steps = append(c.Steps, s)
		verdict := "sustained"
		if !s.Sustained {
			verdict = "NOT sustained: " + s.Why
		}
		say(a.cfg.Progress, "%s: capacity step %.0f ops/s: achieved %.0f/s, worst p99 %.1f ms (%s), %.2f CPUs busy; %s",
			name, rate, s.AchievedRate, s.WorstP99/1000, s.WorstOp, s.BusyCPUs, verdict)
		return s.Sustained, nil
	}
	good, bad := 0.0, 0.0
	for range capacityMaxSteps {
		ok, err := step(rate)
		if err != nil {
			return c, err
		}
		if !ok {
			bad = rate
			break
		}
		good, rate = rate, rate*capacityGrowth
	}
	for i := 0; i < capacityBisections && bad > 0; i++ {
		mid := (good + bad) / 2
		if good == 0 {
			mid = bad / 2
		}
		ok, err := step(mid)
		if err != nil {
			return c, err
		}
		if ok {
			good = mid
		} else {
			bad = mid
		}
	}
	c.MeasuredMaxRate, c.FirstFailedRate = good, bad
	return c, nil
}

// queueingMaxRate is the highest rate the queueing model (queueingModel)
// of an architecture's measured run sustains with demand CPU seconds an
// operation: the run's (Cost.DemandSeconds) or a capacity step's
// (results.CapacityStep.DemandSeconds). 0 when there is no model: the
// run's CPU was not measured, or the demand or the CPUs left after the
// idle work are not above 0; 0 and an error when the model cannot be
// solved (a demand too small to split).
func queueingMaxRate(run []results.Op, demand float64, cost *results.Cost, sc *scenarios.Scenario) (float64, error) {
	m, ok := queueingModel(run, demand, cost, sc, p99Bounds(run, sc.Capacity.MaxP99.Std()))
	if !ok {
		return 0, nil
	}
	r, err := m.MaxRate(sc.Dataset.Seed)
	return r.Rate, err
}

// capacityStep offers rate for the scenario's capacity step (after a
// warmup of a fifth of it) and judges whether it was sustained.
func (a *archRun) capacityStep(ctx context.Context, rate float64, bounds map[string]time.Duration, lagP99 func() time.Duration) (results.CapacityStep, error) {
	sc := a.cfg.Scenario
	stepLen := sc.Capacity.Step.Std()
	cfg := runner.Config{
		Warmup:      stepLen / 5,
		Arrival:     runner.Arrival(sc.Load.Arrival),
		Seed:        sc.Dataset.Seed + uint64(rate),
		Concurrency: sc.Load.Workers,
		Phases:      []runner.Phase{runner.Steady(stepLen, rate)},
	}
	var ops []runner.Op
	for _, op := range sc.Operations() {
		ops = append(ops, runner.Op{Name: op.Name, Weight: sc.Mix[scenarios.Op(op.Name)],
			Do: func(ctx context.Context) error { _, err := a.session.Do(ctx, op.Name); return err }})
	}
	classify := func(err error) string { kind, _ := errorKind(a.work, err); return kind }
	r, err := runner.New(cfg, ops, runner.WithClassifier(classify))
	if err != nil {
		return results.CapacityStep{}, err
	}
	if lagP99 != nil {
		lagP99() // forget the lag before this step
	}
	before := countersAt(ctx, a.dbs, a.cfg.Infra, time.Now().Add(cfg.Warmup))
	out, err := r.Run(ctx)
	if err != nil {
		return results.CapacityStep{}, fmt.Errorf("capacity step at %.0f ops/s: %w", rate, err)
	}
	after, err := readCounters(ctx, a.dbs, a.cfg.Infra)
	if err != nil {
		return results.CapacityStep{}, err
	}
	from, err := before.wait()
	if err != nil {
		return results.CapacityStep{}, err
	}
	load := results.LoadFrom(out)
	s := results.CapacityStep{OfferedRate: rate, AchievedRate: load.AchievedRate, Sustained: true}
	seconds := after.at.Sub(from.at).Seconds()
	if from.hostErr == nil && after.hostErr == nil {
		s.BusyCPUs = (after.hostBusy - from.hostBusy) / seconds
	}
	if from.procErr == nil && after.procErr == nil { // not the host's in their place
		busy, _ := runCPUBetween(from.cpuReading, after.cpuReading)
		s.RunCPUs = busy / seconds
	}
	over := ""
	for _, op := range results.OpsFrom(out) {
		if op.Latency.P99 > s.WorstP99 {
			s.WorstP99, s.WorstOp = op.Latency.P99, op.Name
		}
		if b := bounds[op.Name]; over == "" && b > 0 && time.Duration(op.Latency.P99*float64(time.Microsecond)) > b {
			over = fmt.Sprintf("%s p99 %.1f ms over its bound %s", op.Name, op.Latency.P99/1000, b.Round(time.Millisecond))
		}
	}
	switch {
	case !load.Sustained():
		s.Sustained = false
		s.Why = fmt.Sprintf("achieved %.0f of %.0f ops/s, %d queued, %d dropped", load.AchievedRate, load.OfferedRate, load.Queued, load.Dropped)
	case over != "":
		s.Sustained, s.Why = false, over
	case lagP99 != nil:
		if lag := lagP99(); lag > sc.Verdict.StalenessBudget.Std() {
			s.Sustained = false
			s.Why = fmt.Sprintf("lag p99 %s over the staleness budget %s", lag.Round(time.Millisecond), sc.Verdict.StalenessBudget)
		}
	}
	return s, nil
}

// queueingModel is the run's mix as harness/queueing models it: each
// operation's share of the run and its p99 bound; its CPU demand, demand
// (CPU seconds per operation, idle work apart: the run's, or a capacity
// step's) split in proportion to the operations' median service times
// (processor sharing stretches every operation's time by the same
// factor, so the proportions hold under load); the pool, the load
// generator's workers, and the host's CPUs less the idle work. false
// when the run's CPU was not measured.
func queueingModel(run []results.Op, demand float64, cost *results.Cost, sc *scenarios.Scenario, bounds map[string]time.Duration) (queueing.Model, bool) {
	cores := float64(cost.HostCPUs) - cost.IdleCPUs
	if cost.PredictedMaxRate <= 0 || demand <= 0 || cores <= 0 {
		return queueing.Model{}, false
	}
	m := queueing.Model{Cores: cores, Connections: sc.Load.Connections, Workers: sc.Load.Workers, MaxQueued: results.QueuedLimit}
	var count, service float64
	for _, op := range run {
		if op.Count > 0 && op.Service.P50 > 0 {
			count += float64(op.Count)
			service += float64(op.Count) * op.Service.P50
		}
	}
	if service <= 0 {
		return queueing.Model{}, false
	}
	for _, op := range run {
		if op.Count > 0 && op.Service.P50 > 0 {
			m.Ops = append(m.Ops, queueing.Op{Name: op.Name, Share: float64(op.Count) / count, MaxP99: bounds[op.Name],
				Demand: time.Duration(demand * op.Service.P50 / (service / count) * float64(time.Second))})
		}
	}
	return m, true
}

// p99Factor is how many times its p99 in the architecture's measured run
// an operation's p99 may grow in a sustained capacity step: some
// operations are slow at any load (crud's dashboard aggregates over every
// order of the day: 46 ms at the median on 1M orders), so one absolute
// bound would stop the search before any queueing.
const p99Factor = 5

// p99Bounds returns each operation's p99 bound in a capacity step: floor,
// or p99Factor times its p99 in run, whichever is longer.
func p99Bounds(run []results.Op, floor time.Duration) map[string]time.Duration {
	b := map[string]time.Duration{}
	for _, op := range run {
		b[op.Name] = max(floor, time.Duration(p99Factor*op.Latency.P99*float64(time.Microsecond)))
	}
	return b
}

// idleAndPredict measures the run's idle CPUs after a run and completes
// cost's prediction with them.
func idleAndPredict(ctx context.Context, inf infra.Infra, cost *results.Cost) error {
	cpus, seconds, err := measureIdle(ctx, inf, idleWindow)
	if err != nil {
		return fmt.Errorf("measure the idle host: %w", err)
	}
	cost.IdleCPUs, cost.IdleSeconds = cpus, seconds
	perOp(cost)
	return nil
}

// idleWindow is how long the idle host is measured after each run.
const idleWindow = 500 * time.Millisecond
