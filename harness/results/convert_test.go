package results_test

import (
	"math"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/hist"
	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/harness/runner"
)

// snapshot returns a snapshot of the values 1..n times unit.
func snapshot(t *testing.T, n int, unit time.Duration) hist.Snapshot {
	t.Helper()
	reg := hist.NewRegistry()
	rec := reg.NewRecorder()
	for i := 1; i <= n; i++ {
		rec.Record("x", time.Duration(i)*unit)
	}
	return reg.Tick()["x"]
}

func TestStatsFrom(t *testing.T) {
	t.Parallel()
	s := snapshot(t, 1000, time.Microsecond)
	st, err := results.StatsFrom(s)
	if err != nil {
		t.Fatal(err)
	}
	want := results.Stats{Count: 1000, Min: 1, Mean: 500.5, P50: 500, P90: 900, P99: 990, P999: 999, Max: 1000}
	got := st
	got.Histogram = ""
	if got != want {
		t.Errorf("StatsFrom =\n %+v, want\n %+v", got, want)
	}
	if st.Histogram == "" {
		t.Fatal("no histogram encoded")
	}
	back, err := st.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if back.Count != 1000 || back.P99 != s.P99 {
		t.Errorf("decoded count %d p99 %v, want 1000 and %v", back.Count, back.P99, s.P99)
	}
	p95, err := st.Percentile(95)
	if err != nil || p95 != 950 {
		t.Errorf("Percentile(95) = %v, %v; want 950 from the histogram", p95, err)
	}
	if p, _ := st.Percentile(99); p != 990 {
		t.Errorf("Percentile(99) = %v, want the summary's 990", p)
	}

	empty, err := results.StatsFrom(hist.Snapshot{})
	if err != nil || empty != (results.Stats{}) {
		t.Errorf("StatsFrom(empty) = %+v, %v; want zero Stats", empty, err)
	}
	if p, err := empty.Percentile(95); p != 0 || err != nil {
		t.Errorf("empty Percentile(95) = %v, %v; want 0, nil", p, err)
	}
	noHist := results.Stats{Count: 3, P50: 1, Max: 2}
	if _, err := noHist.Percentile(95); err == nil {
		t.Error("Percentile(95) without a histogram: no error")
	}
}

func TestOpsAndLoadFrom(t *testing.T) {
	t.Parallel()
	lat := snapshot(t, 100, time.Millisecond)
	svc := snapshot(t, 100, 100*time.Microsecond)
	res := &runner.Result{
		Mode:         runner.ModeOpen,
		Duration:     10 * time.Second,
		Counts:       runner.Counts{Scheduled: 130, Issued: 120, Completed: 118, Errors: 18, Late: 7, Dropped: 10, Interrupted: 2},
		OfferedRate:  13,
		AchievedRate: 11.8,
		Warmup:       runner.Counts{Scheduled: 40, Issued: 40, Completed: 39},
		Ops: []runner.OpResult{
			{
				Name:       "list_orders",
				Counts:     runner.Counts{Scheduled: 110, Issued: 100, Completed: 100, Late: 7, Dropped: 10},
				Latency:    lat,
				Service:    svc,
				ErrorKinds: map[string]int64{},
			},
			{
				Name:       "create_order",
				Counts:     runner.Counts{Scheduled: 20, Issued: 20, Completed: 18, Errors: 18, Interrupted: 2},
				ErrorKinds: map[string]int64{"invalid_transition": 18},
			},
		},
	}

	load := results.LoadFrom(res)
	wantLoad := results.LoadSummary{Mode: "open", DurationSeconds: 10, OfferedRate: 13, AchievedRate: 11.8,
		Scheduled: 130, Completed: 118, Errors: 18, Late: 7, Dropped: 10, WarmupOps: 39}
	if load != wantLoad {
		t.Errorf("LoadFrom =\n %+v, want\n %+v", load, wantLoad)
	}

	ops := results.OpsFrom(res)
	if len(ops) != 2 || ops[0].Name != "list_orders" || ops[1].Name != "create_order" {
		t.Fatalf("OpsFrom names: %+v", ops)
	}
	lo := ops[0]
	if lo.Count != 100 || lo.Rate != 10 || lo.Late != 7 || lo.Dropped != 10 || lo.Errors != 0 || lo.ErrorKind != nil {
		t.Errorf("list_orders = %+v", lo)
	}
	// HdrHistogram keeps 3 significant digits.
	if lo.Latency.Count != 100 || !near(lo.Latency.P50, 50_000) || lo.Latency.Histogram == "" {
		t.Errorf("list_orders latency = %+v, want p50 ~50000 µs", lo.Latency)
	}
	if !near(lo.Service.P50, 5_000) {
		t.Errorf("list_orders service p50 = %v, want ~5000 µs", lo.Service.P50)
	}
	co := ops[1]
	if co.Count != 18 || co.Errors != 18 || co.ErrorKind["invalid_transition"] != 18 || co.Latency.Count != 0 {
		t.Errorf("create_order = %+v", co)
	}
	// The map is a copy.
	res.Ops[1].ErrorKinds["invalid_transition"] = 0
	if co.ErrorKind["invalid_transition"] != 18 {
		t.Error("OpsFrom shares the error-kind map with the runner's result")
	}

	if results.OpsFrom(nil) != nil || results.LoadFrom(nil) != (results.LoadSummary{}) {
		t.Error("nil result: want nothing")
	}
	if ops := results.OpsFrom(&runner.Result{Ops: []runner.OpResult{{Name: "x", Counts: runner.Counts{Completed: 5}}}}); ops[0].Rate != 0 {
		t.Errorf("zero duration: rate %v, want 0", ops[0].Rate)
	}
}

func TestLookups(t *testing.T) {
	t.Parallel()
	run := &results.Run{Architectures: []results.Architecture{
		{Name: "crud", Ops: []results.Op{{Name: "list_orders", Count: 3}}},
		{Name: "cqrs-kafka", Lag: &results.Lag{Stages: []results.Stage{{Name: results.StageEndToEnd, Stats: results.Stats{Count: 2}}}}},
	}}
	a, ok := run.Arch("crud")
	if !ok || a.Name != "crud" {
		t.Fatalf("Arch(crud) = %v, %v", a, ok)
	}
	if op, ok := a.Op("list_orders"); !ok || op.Count != 3 {
		t.Errorf("Op(list_orders) = %+v, %v", op, ok)
	}
	if _, ok := a.Op("add_line"); ok {
		t.Error("Op(add_line) found")
	}
	if _, ok := run.Arch("cqrs-sync"); ok {
		t.Error("Arch(cqrs-sync) found")
	}
	k, _ := run.Arch("cqrs-kafka")
	if st, ok := k.Lag.Stage(results.StageEndToEnd); !ok || st.Stats.Count != 2 {
		t.Errorf("Stage(end_to_end) = %+v, %v", st, ok)
	}
	if _, ok := a.Lag.Stage(results.StageEndToEnd); ok {
		t.Error("Stage on a nil Lag found something")
	}
	var nilRun *results.Run
	if _, ok := nilRun.Arch("crud"); ok {
		t.Error("nil run has an architecture")
	}
}

// near reports whether got is want within HdrHistogram's 0.1%.
func near(got, want float64) bool {
	return got >= want && got <= want*1.001
}

// TestCapacityStepDemand checks a step's CPU per operation: the run's own
// CPUs beyond the idle work, over the achieved rate; none when the CPU or
// the rate is missing, never below 0.
func TestCapacityStepDemand(t *testing.T) {
	for _, tt := range []struct {
		step results.CapacityStep
		idle float64
		want float64
	}{
		{results.CapacityStep{AchievedRate: 2000, RunCPUs: 0.5}, 0.1, 0.4 / 2000},
		{results.CapacityStep{AchievedRate: 2000, RunCPUs: 0.5}, 0, 0.5 / 2000},
		{results.CapacityStep{AchievedRate: 2000, RunCPUs: 0.05}, 0.1, 0},
		{results.CapacityStep{AchievedRate: 2000, BusyCPUs: 1}, 0, 0}, // the host's CPU is not the run's
		{results.CapacityStep{RunCPUs: 0.5}, 0, 0},
	} {
		if got := tt.step.DemandSeconds(tt.idle); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%+v with %v idle: %v s an operation, want %v", tt.step, tt.idle, got, tt.want)
		}
	}
}
