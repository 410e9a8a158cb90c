package compare_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/compare"
	"github.com/cqrsbench/cqrsbench/harness/hist"
	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/harness/services"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// stats returns latency statistics of n samples with the given p50 and p99
// in milliseconds.
func stats(n int64, p50, p99 float64) results.Stats {
	return results.Stats{Count: n, P50: p50 * 1000, P99: p99 * 1000}
}

// newRun returns a run of the mixed scenario with crud and cqrs-kafka, the
// same numbers every time.
func newRun() *results.Run {
	sc := &scenarios.Scenario{Name: "mixed", Dataset: scenarios.Dataset{Orders: 1000, Customers: 100, Seed: 1}}
	return &results.Run{
		Scenario: sc,
		Environment: results.Environment{
			Infra: services.Description{Provider: "local", Services: []services.Service{
				{Role: services.RolePostgres, Kind: services.KindLocal, Product: services.ProductPostgres, Version: "15.18"},
				{Role: services.RoleKafka, Kind: services.KindLocal, Product: services.ProductApacheKafka, Version: "4.1.1"},
			}},
			Host: results.Host{OS: "linux", Arch: "amd64", CPUs: 2},
		},
		Architectures: []results.Architecture{
			{
				Name:        "crud",
				Load:        results.LoadSummary{AchievedRate: 400},
				Ops:         []results.Op{{Name: "list_orders", Latency: stats(5000, 0.3, 2.0)}, {Name: "create_order", Latency: stats(50, 0.6, 3.0)}},
				Consistency: &results.Consistency{},
			},
			{
				Name:        "cqrs-kafka",
				Load:        results.LoadSummary{AchievedRate: 400},
				Ops:         []results.Op{{Name: "list_orders", Latency: stats(5000, 0.2, 1.0)}},
				Lag:         &results.Lag{Stages: []results.Stage{{Name: "end_to_end", Stats: stats(2000, 5, 14)}}, Visible: stats(300, 6, 17)},
				Consistency: &results.Consistency{},
			},
		},
	}
}

// row returns the report's row for arch and metric.
func row(t *testing.T, rep *compare.Report, arch, metric string) compare.Row {
	t.Helper()
	for _, r := range rep.Rows {
		if r.Arch == arch && r.Metric == metric {
			return r
		}
	}
	t.Fatalf("no row %s %s in %+v", arch, metric, rep.Rows)
	return compare.Row{}
}

func mustCompare(t *testing.T, base, res *results.Run, opts compare.Options) *compare.Report {
	t.Helper()
	rep, err := compare.Runs(base, res, opts)
	if err != nil {
		t.Fatalf("Runs: %v", err)
	}
	return rep
}

func TestIdenticalRunsDoNotRegress(t *testing.T) {
	rep := mustCompare(t, newRun(), newRun(), compare.DefaultOptions())
	if rep.Failed() || len(rep.Warnings) > 0 {
		t.Fatalf("identical runs: failed %v, warnings %v", rep.Failed(), rep.Warnings)
	}
	want := []string{
		"crud list_orders p50", "crud list_orders p99", "crud create_order p50", "crud create_order p99",
		"crud achieved rate", "crud failed ops", "crud late ops", "crud dropped ops", "crud consistency violations",
		"cqrs-kafka list_orders p50", "cqrs-kafka list_orders p99", "cqrs-kafka lag end_to_end p99",
		"cqrs-kafka lag visible p99", "cqrs-kafka achieved rate", "cqrs-kafka failed ops", "cqrs-kafka late ops",
		"cqrs-kafka dropped ops", "cqrs-kafka consistency violations",
	}
	if len(rep.Rows) != len(want) {
		t.Fatalf("%d rows, want %d: %+v", len(rep.Rows), len(want), rep.Rows)
	}
	for i, r := range rep.Rows {
		if got := r.Arch + " " + r.Metric; got != want[i] {
			t.Errorf("row %d is %q, want %q", i, got, want[i])
		}
	}
	if v := row(t, rep, "crud", "create_order p99").Verdict; v != compare.FewSamples {
		t.Errorf("p99 of 50 samples: verdict %q, want %q", v, compare.FewSamples)
	}
}

func TestLatencyRegressesBeyondToleranceAndFloor(t *testing.T) {
	for _, c := range []struct {
		name string
		p99  float64 // cqrs-kafka list_orders p99 in the result, ms; baseline 1.0
		want compare.Verdict
	}{
		{"within the tail tolerance", 1.4, compare.Same},
		{"beyond tolerance and floor", 1.6, compare.Worse},
		{"improved beyond both", 0.6, compare.Better},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := newRun()
			res.Architectures[1].Ops[0].Latency.P99 = c.p99 * 1000
			rep := mustCompare(t, newRun(), res, compare.DefaultOptions())
			r := row(t, rep, "cqrs-kafka", "list_orders p99")
			if r.Verdict != c.want {
				t.Fatalf("1.0 -> %v ms: verdict %q, want %q", c.p99, r.Verdict, c.want)
			}
			if rep.Failed() != (c.want == compare.Worse) {
				t.Errorf("Regressed() = %v", rep.Failed())
			}
		})
	}
	// A p50 has the narrower tolerance: 0.3 -> 0.6 ms regresses.
	res := newRun()
	res.Architectures[0].Ops[0].Latency.P50 = 600
	if r := row(t, mustCompare(t, newRun(), res, compare.DefaultOptions()), "crud", "list_orders p50"); r.Verdict != compare.Worse {
		t.Errorf("p50 0.3 -> 0.6 ms: verdict %q, want regressed", r.Verdict)
	}
	// +50% of 0.3 ms is 0.15 ms: under the 0.25 ms floor, noise.
	res = newRun()
	res.Architectures[0].Ops[0].Latency.P50 = 450
	if r := row(t, mustCompare(t, newRun(), res, compare.DefaultOptions()), "crud", "list_orders p50"); r.Verdict != compare.Same {
		t.Errorf("0.3 -> 0.45 ms under the floor: verdict %q, want same", r.Verdict)
	}
	// The zero Options gate every worsening.
	if r := row(t, mustCompare(t, newRun(), res, compare.Options{}), "crud", "list_orders p50"); r.Verdict != compare.Worse {
		t.Errorf("zero options: verdict %q, want regressed", r.Verdict)
	}
}

// sampled returns the statistics, with histogram, of the values in
// microseconds.
func sampled(t *testing.T, values []int64) results.Stats {
	t.Helper()
	h := hist.New()
	for _, v := range values {
		if err := h.RecordValue(v); err != nil {
			t.Fatal(err)
		}
	}
	snap, err := hist.NewSnapshot(h, 0)
	if err != nil {
		t.Fatal(err)
	}
	st, err := results.StatsFrom(snap)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestSamplingErrorIsNotARegression compares p99s of 1,000 samples: a
// p99 that moved by +60% while its confidence interval (ranks 984 to 997)
// still overlaps the baseline's is noise; a distribution that doubled is a
// regression.
func TestSamplingErrorIsNotARegression(t *testing.T) {
	base := make([]int64, 1000)
	tailMoved := make([]int64, 1000)
	doubled := make([]int64, 1000)
	for i := range base {
		base[i] = int64(1000 + i)      // 1.000 .. 1.999 ms: p99 1.990 ms
		tailMoved[i] = int64(1000 + i) // same, but the top 15 values at 3.2 ms
		if i >= 985 {
			tailMoved[i] = 3200
		}
		doubled[i] = 2 * int64(1000+i)
	}
	for _, c := range []struct {
		name   string
		result []int64
		want   compare.Verdict
	}{
		{"tail moved within sampling error", tailMoved, compare.Noise},
		{"whole distribution doubled", doubled, compare.Worse},
	} {
		t.Run(c.name, func(t *testing.T) {
			b, r := newRun(), newRun()
			b.Architectures[1].Ops[0].Latency = sampled(t, base)
			r.Architectures[1].Ops[0].Latency = sampled(t, c.result)
			got := row(t, mustCompare(t, b, r, compare.DefaultOptions()), "cqrs-kafka", "list_orders p99")
			if got.Verdict != c.want {
				t.Fatalf("p99 %.0f -> %.0f µs: verdict %q, want %q", got.Baseline, got.Result, got.Verdict, c.want)
			}
		})
	}
}

func TestLagAndRateRegress(t *testing.T) {
	res := newRun()
	res.Architectures[1].Lag.Stages[0].Stats.P99 = 40_000
	res.Architectures[0].Load.AchievedRate = 250
	rep := mustCompare(t, newRun(), res, compare.DefaultOptions())
	if r := row(t, rep, "cqrs-kafka", "lag end_to_end p99"); r.Verdict != compare.Worse {
		t.Errorf("lag 14 -> 40 ms: verdict %q, want regressed", r.Verdict)
	}
	if r := row(t, rep, "crud", "achieved rate"); r.Verdict != compare.Worse {
		t.Errorf("achieved 400 -> 250/s: verdict %q, want regressed", r.Verdict)
	}
	if n := len(rep.Failures()); n != 2 {
		t.Errorf("%d regressions, want 2", n)
	}
}

// TestFastFailuresRegress: operations that start failing fast leave the
// percentiles of the successful ones alone and the achieved rate too
// (failed operations complete); their share must gate.
func TestFastFailuresRegress(t *testing.T) {
	base, res := newRun(), newRun()
	base.Architectures[0].Load = results.LoadSummary{AchievedRate: 400, Scheduled: 24_000, Completed: 24_000, Errors: 240}
	res.Architectures[0].Load = results.LoadSummary{AchievedRate: 400, Scheduled: 24_000, Completed: 24_000, Errors: 12_000, Late: 3_000, Dropped: 100}
	rep := mustCompare(t, base, res, compare.DefaultOptions())
	for metric, want := range map[string]compare.Verdict{
		"failed ops": compare.Worse, "late ops": compare.Worse, "dropped ops": compare.Same, // 0.4%: under the half-point floor
		"achieved rate": compare.Same,
	} {
		if r := row(t, rep, "crud", metric); r.Verdict != want {
			t.Errorf("%s %v -> %v: verdict %q, want %q", metric, r.Baseline, r.Result, r.Verdict, want)
		}
	}
	// 1% of operations failing, as domain rejections do, on both sides: same.
	if r := row(t, mustCompare(t, base, base, compare.DefaultOptions()), "crud", "failed ops"); r.Verdict != compare.Same {
		t.Errorf("unchanged failures: %q", r.Verdict)
	}
}

func TestAnyConsistencyViolationRegresses(t *testing.T) {
	res := newRun()
	res.Architectures[1].Consistency = &results.Consistency{DuplicatesApplied: 3}
	opts := compare.DefaultOptions()
	opts.Tolerance = 100 // no tolerance excuses damage
	rep := mustCompare(t, newRun(), res, opts)
	r := row(t, rep, "cqrs-kafka", "consistency violations")
	if r.Verdict != compare.Failed || r.Result != 3 || !rep.Failed() {
		t.Fatalf("3 events applied twice: %+v, want failed with 3", r)
	}
}

func TestDifferentSettingsAreNotComparable(t *testing.T) {
	res := newRun()
	res.Scenario.Dataset.Orders = 2000
	res.Scenario.Load.Rate = 800
	_, err := compare.Runs(newRun(), res, compare.DefaultOptions())
	var nc *compare.NotComparableError
	if !errors.As(err, &nc) || len(nc.Differences) != 2 ||
		!strings.HasPrefix(nc.Differences[0], "dataset: ") || !strings.HasPrefix(nc.Differences[1], "load: ") {
		t.Fatalf("err = %v, want not comparable naming dataset and load", err)
	}
}

// TestDifferentReadYourWritesPoliciesAreNotComparable: an architecture's
// latencies under another read-your-writes policy are another measure;
// results that record no policy ran under none.
func TestDifferentReadYourWritesPoliciesAreNotComparable(t *testing.T) {
	res := newRun()
	res.Architectures[1].ReadYourWrites = &results.ReadYourWrites{Policy: "wait-for-token"}
	_, err := compare.Runs(newRun(), res, compare.DefaultOptions())
	var nc *compare.NotComparableError
	if !errors.As(err, &nc) || len(nc.Differences) != 1 || nc.Differences[0] != "cqrs-kafka's read-your-writes policy: none vs wait-for-token" {
		t.Fatalf("err = %v, want not comparable naming cqrs-kafka's policy", err)
	}
	base := newRun()
	base.Architectures[1].ReadYourWrites = &results.ReadYourWrites{Policy: "wait-for-token"}
	if _, err := compare.Runs(base, res, compare.DefaultOptions()); err != nil {
		t.Fatalf("the same policy on both sides: %v", err)
	}
}

func TestMissingArchitecturesAndOtherEnvironments(t *testing.T) {
	res := newRun()
	res.Architectures = res.Architectures[1:] // crud did not run
	res.Architectures = append(res.Architectures, results.Architecture{Name: "cqrs-sync"})
	res.Environment.Infra.Services[1] = services.Service{Role: services.RoleKafka, Kind: services.KindFake, Product: services.ProductKfake}
	res.Environment.Host.CPUs = 8
	rep := mustCompare(t, newRun(), res, compare.DefaultOptions())
	if r := row(t, rep, "crud", "(architecture)"); r.Verdict != compare.Missing {
		t.Errorf("crud missing from the result: verdict %q", r.Verdict)
	}
	joined := strings.Join(rep.Warnings, "\n")
	for _, want := range []string{"host differs: 2 CPUs linux/amd64 vs 8 CPUs linux/amd64", "kafka differs: Apache Kafka 4.1.1 (local) vs franz-go kfake (NOT real kafka: an in-process fake)",
		"the result ran on franz-go kfake, an in-process fake, NOT real kafka", "cqrs-sync is not in the baseline"} {
		if !strings.Contains(joined, want) {
			t.Errorf("warnings lack %q:\n%s", want, joined)
		}
	}
}

func TestOptionsValidate(t *testing.T) {
	for _, bad := range []compare.Options{{Tolerance: -0.1}, {TailTolerance: -1}, {MinDelta: -time.Millisecond}, {MinShareDelta: -0.1}, {MinSamples: -1}} {
		if err := bad.Validate(); err == nil {
			t.Errorf("%+v: Validate() = nil, want an error", bad)
		}
	}
	if _, err := compare.Runs(newRun(), newRun(), compare.Options{Tolerance: -1}); err == nil {
		t.Error("Runs accepted a negative tolerance")
	}
}
