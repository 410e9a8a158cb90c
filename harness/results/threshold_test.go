package results_test

import (
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// thresholdRun is a run of crud, cqrs-matview and cqrs-kafka.
func thresholdRun(t *testing.T) *results.Run {
	t.Helper()
	withHist, err := results.StatsFrom(snapshot(t, 1000, time.Microsecond)) // p95 = 950 µs
	if err != nil {
		t.Fatal(err)
	}
	return &results.Run{Architectures: []results.Architecture{
		{
			Name: "crud",
			Ops: []results.Op{
				{Name: "list_orders", Count: 1000, Rate: 100, Late: 50, Dropped: 0,
					Latency: results.Stats{Count: 1000, Min: 500, Mean: 2500, P50: 2000, P90: 4000, P99: 6000, P999: 9000, Max: 12000}},
				{Name: "create_order", Count: 200, Rate: 20, Errors: 4,
					Latency: results.Stats{Count: 196, P50: 3000, P99: 5000, Max: 8000}},
				{Name: "add_line", Count: 10, Errors: 10},
			},
			Staleness: results.Staleness{Reads: 1000},
		},
		{
			Name: "cqrs-matview",
			Ops: []results.Op{
				{Name: "list_orders", Count: 900, Rate: 90, Dropped: 100, Late: 90, Latency: withHist},
			},
			Lag:       &results.Lag{Visible: results.Stats{Count: 50, P50: 400_000, P99: 900_000, Max: 1_000_000}, ProbeTimeouts: 2},
			Staleness: results.Staleness{Reads: 900, Stale: 90, Rate: 0.1, Age: results.Stats{Count: 90, P50: 300_000, P99: 800_000}},
		},
		{
			Name: "cqrs-kafka",
			Ops: []results.Op{
				{Name: "list_orders", Count: 1000, Rate: 100, Latency: results.Stats{Count: 1000, P50: 300, P99: 900}},
			},
			Lag: &results.Lag{
				Stages: []results.Stage{
					{Name: "committed→claimed", Stats: results.Stats{Count: 300, P99: 1000}},
					{Name: results.StageEndToEnd, Stats: results.Stats{Count: 300, P50: 20_000, P99: 41_000, Max: 60_000}},
				},
				Visible: results.Stats{Count: 30, P50: 21_000, P99: 43_000},
			},
			Staleness:   results.Staleness{Reads: 1000, Stale: 8, Rate: 0.008, Age: results.Stats{Count: 8, P50: 15_000, P99: 30_000}},
			Consistency: &results.Consistency{Violations: 3, Mismatched: 3, DuplicatesDelivered: 12, DuplicatesApplied: 2, EventsLost: 1},
			Faults: []results.Fault{
				{Kind: "relay-crash", Injections: []results.Injection{{RecoverySeconds: 0.5}, {RecoverySeconds: 2.5}, {RecoverySeconds: 1}}},
				{Kind: "poison", Injections: []results.Injection{{RecoverySeconds: 0.25}}},
			},
		},
	}}
}

func TestEvaluate(t *testing.T) {
	t.Parallel()
	type res = results.ThresholdResult
	tests := []struct {
		threshold string
		want      []res
	}{
		{"cqrs-kafka.list_orders.p99 < 5ms", []res{
			{Threshold: "cqrs-kafka.list_orders.p99 < 5ms", Value: 0.9, Unit: "ms", Passed: true}}},
		{"crud.list_orders.p99 < 5ms", []res{
			{Threshold: "crud.list_orders.p99 < 5ms", Value: 6, Unit: "ms", Passed: false}}},
		{"list_orders.p50 <= 2ms", []res{
			{Threshold: "crud.list_orders.p50 <= 2ms", Value: 2, Unit: "ms", Passed: true},
			{Threshold: "cqrs-matview.list_orders.p50 <= 2ms", Value: 0.5, Unit: "ms", Passed: true},
			{Threshold: "cqrs-kafka.list_orders.p50 <= 2ms", Value: 0.3, Unit: "ms", Passed: true}}},
		{"cqrs-matview.list_orders.p95 < 1ms", []res{ // from the histogram
			{Threshold: "cqrs-matview.list_orders.p95 < 1ms", Value: 0.95, Unit: "ms", Passed: true}}},
		{"crud.list_orders.p95 < 1s", []res{ // no histogram to compute it from
			{Threshold: "crud.list_orders.p95 < 1s", Unit: "s", Skipped: "p95: stats of 1000 values carry no histogram"}}},
		{"crud.list_orders.max < 12000us", []res{
			{Threshold: "crud.list_orders.max < 12000us", Value: 12000, Unit: "us", Passed: false}}},
		{"crud.list_orders.mean < 0.01s", []res{
			{Threshold: "crud.list_orders.mean < 0.01s", Value: 0.0025, Unit: "s", Passed: true}}},
		{"crud.create_order.error_rate < 1%", []res{
			{Threshold: "crud.create_order.error_rate < 1%", Value: 2, Unit: "%", Passed: false}}},
		{"crud.create_order.error_rate <= 0.02", []res{
			{Threshold: "crud.create_order.error_rate <= 0.02", Value: 0.02, Passed: true}}},
		{"crud.create_order.errors == 4", []res{
			{Threshold: "crud.create_order.errors == 4", Value: 4, Passed: true}}},
		{"crud.create_order.rate >= 25", []res{
			{Threshold: "crud.create_order.rate >= 25", Value: 20, Unit: "/s", Passed: false}}},
		{"cqrs-matview.list_orders.dropped_rate < 5%", []res{
			{Threshold: "cqrs-matview.list_orders.dropped_rate < 5%", Value: 10, Unit: "%", Passed: false}}},
		{"cqrs-matview.list_orders.late_rate <= 9%", []res{
			{Threshold: "cqrs-matview.list_orders.late_rate <= 9%", Value: 9, Unit: "%", Passed: true}}},
		{"crud.add_line.p99 < 5ms", []res{
			{Threshold: "crud.add_line.p99 < 5ms", Unit: "ms", Skipped: "no successful operations recorded"}}},
		{"crud.confirm_order.p99 < 5ms", []res{
			{Threshold: "crud.confirm_order.p99 < 5ms", Unit: "ms", Skipped: "operation not run"}}},
		{"cqrs-sync.list_orders.p99 < 5ms", []res{
			{Threshold: "cqrs-sync.list_orders.p99 < 5ms", Unit: "ms", Skipped: "architecture not run"}}},
		{"lag.p99 < 200ms", []res{
			{Threshold: "cqrs-kafka.lag.p99 < 200ms", Value: 41, Unit: "ms", Passed: true}}},
		{"lag.max < 50ms", []res{
			{Threshold: "cqrs-kafka.lag.max < 50ms", Value: 60, Unit: "ms", Passed: false}}},
		{"lag.count > 0", []res{
			{Threshold: "cqrs-kafka.lag.count > 0", Value: 300, Passed: true}}},
		{"visibility.p99 < 1s", []res{
			{Threshold: "cqrs-matview.visibility.p99 < 1s", Value: 0.9, Unit: "s", Passed: true},
			{Threshold: "cqrs-kafka.visibility.p99 < 1s", Value: 0.043, Unit: "s", Passed: true}}},
		{"cqrs-matview.visibility.timeouts == 0", []res{
			{Threshold: "cqrs-matview.visibility.timeouts == 0", Value: 2, Passed: false}}},
		{"crud.visibility.p99 < 1s", []res{
			{Threshold: "crud.visibility.p99 < 1s", Unit: "s", Skipped: "no prober samples recorded"}}},
		{"staleness.ratio < 1%", []res{
			{Threshold: "crud.staleness.ratio < 1%", Value: 0, Unit: "%", Passed: true},
			{Threshold: "cqrs-matview.staleness.ratio < 1%", Value: 10, Unit: "%", Passed: false},
			{Threshold: "cqrs-kafka.staleness.ratio < 1%", Value: 0.8, Unit: "%", Passed: true}}},
		{"staleness.p99 < 100ms", []res{
			{Threshold: "crud.staleness.p99 < 100ms", Value: 0, Unit: "ms", Passed: true}, // nothing stale
			{Threshold: "cqrs-matview.staleness.p99 < 100ms", Value: 800, Unit: "ms", Passed: false},
			{Threshold: "cqrs-kafka.staleness.p99 < 100ms", Value: 30, Unit: "ms", Passed: true}}},
		{"consistency.violations == 0", []res{
			{Threshold: "cqrs-kafka.consistency.violations == 0", Value: 3, Passed: false}}},
		{"cqrs-kafka.consistency.duplicates_delivered > 0", []res{
			{Threshold: "cqrs-kafka.consistency.duplicates_delivered > 0", Value: 12, Passed: true}}},
		{"crud.consistency.lost == 0", []res{
			{Threshold: "crud.consistency.lost == 0", Skipped: "the checker did not run"}}},
		{"cqrs-kafka.consistency.duplicates_applied == 0", []res{
			{Threshold: "cqrs-kafka.consistency.duplicates_applied == 0", Value: 2, Passed: false}}},
		{"cqrs-kafka.consistency.events_lost == 0", []res{
			{Threshold: "cqrs-kafka.consistency.events_lost == 0", Value: 1, Passed: false}}},
		{"recovery.max < 2s", []res{ // every injection of every fault
			{Threshold: "cqrs-kafka.recovery.max < 2s", Value: 2.5, Unit: "s", Passed: false}}},
		{"recovery.p50 <= 750ms", []res{ // nearest rank of 0.25, 0.5, 1, 2.5
			{Threshold: "cqrs-kafka.recovery.p50 <= 750ms", Value: 500, Unit: "ms", Passed: true}}},
		{"crud.recovery.max < 1m", []res{
			{Threshold: "crud.recovery.max < 1m", Unit: "m", Skipped: "no fault was injected"}}},
		{"sales_dashboard.p99 < 5ms", []res{
			{Threshold: "sales_dashboard.p99 < 5ms", Unit: "ms", Skipped: "no architecture reported sales_dashboard"}}},
	}
	run := thresholdRun(t)
	for _, tt := range tests {
		t.Run(tt.threshold, func(t *testing.T) {
			t.Parallel()
			th, err := scenarios.ParseThreshold(tt.threshold)
			if err != nil {
				t.Fatal(err)
			}
			got := results.Evaluate(run, []scenarios.Threshold{th})
			for i := range got {
				got[i].Value = math.Round(got[i].Value*1e9) / 1e9 // float noise from unit conversion
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Evaluate(%q) =\n %+v\nwant\n %+v", tt.threshold, got, tt.want)
			}
		})
	}
}

func TestEvaluateLagWithoutKafka(t *testing.T) {
	t.Parallel()
	run := thresholdRun(t)
	run.Architectures = run.Architectures[:2] // no cqrs-kafka
	th, err := scenarios.ParseThreshold("lag.p99 < 200ms")
	if err != nil {
		t.Fatal(err)
	}
	got := results.Evaluate(run, []scenarios.Threshold{th})
	want := []results.ThresholdResult{{Threshold: "lag.p99 < 200ms", Unit: "ms", Skipped: "no architecture reported lag"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// cqrs-kafka ran but recorded no end-to-end stage.
	run = thresholdRun(t)
	k, _ := run.Arch("cqrs-kafka")
	k.Lag.Stages = k.Lag.Stages[:1]
	got = results.Evaluate(run, []scenarios.Threshold{th})
	if len(got) != 1 || got[0].Skipped != "no end_to_end lag recorded" {
		t.Errorf("got %+v, want skipped for a missing end_to_end stage", got)
	}
}

func TestFailed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   []results.ThresholdResult
		want bool
	}{
		{"none", nil, false},
		{"all passed", []results.ThresholdResult{{Passed: true}, {Passed: true}}, false},
		{"skipped only", []results.ThresholdResult{{Skipped: "architecture not run"}}, false},
		{"one failed", []results.ThresholdResult{{Passed: true}, {Passed: false}}, true},
		{"failed among skipped", []results.ThresholdResult{{Skipped: "x"}, {}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := results.Failed(tt.in); got != tt.want {
				t.Errorf("Failed = %v, want %v", got, tt.want)
			}
		})
	}
}
