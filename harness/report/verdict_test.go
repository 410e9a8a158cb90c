package report_test

import (
	"reflect"
	"strings"
	"testing"

	"github.com/cqrsbench/cqrsbench/harness/report"
	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/harness/services"
)

// smallRun is crud and cqrs-kafka with one read and one write each, a
// sustained load and no warnings.
func smallRun() *results.Run {
	sustained := results.LoadSummary{Mode: "open", DurationSeconds: 10, OfferedRate: 200, AchievedRate: 200,
		Scheduled: 2000, Completed: 2000, Late: 5}
	return &results.Run{
		Environment: results.Environment{Infra: services.Description{Services: []services.Service{
			{Role: services.RolePostgres, Kind: services.KindLocal}, {Role: services.RoleKafka, Kind: services.KindLocal}}}},
		Architectures: []results.Architecture{
			{
				Name: "crud", Load: sustained,
				Ops:       []results.Op{op("list_orders", 1000, 0, 2.0, 6.0), op("create_order", 1000, 0, 2.0, 4.0)},
				Staleness: results.Staleness{Reads: 1000},
			},
			{
				Name: "cqrs-kafka", Load: sustained,
				Ops: []results.Op{op("list_orders", 1000, 0, 0.3, 0.5), op("create_order", 1000, 0, 2.5, 5.6)},
				Lag: &results.Lag{
					Stages:  []results.Stage{{Name: results.StageEndToEnd, Stats: lat(900, 20, 41)}},
					Visible: lat(90, 21, 43),
				},
				Staleness: results.Staleness{Reads: 1000, Stale: 8, Rate: 0.008, Age: lat(8, 10, 30)},
			},
		},
	}
}

func TestVerdicts(t *testing.T) {
	t.Parallel()
	const kafkaOK = "cqrs-kafka: list_orders p99 is 12.0x lower than crud (0.500 vs 6.00 ms); " +
		"create_order p99 is 1.4x higher (5.60 vs 4.00 ms); projection lag p99 41.0 ms (prober: 43.0 ms); " +
		"0.8% of reads stale (age p99 30.0 ms)"
	tests := []struct {
		name   string
		modify func(*results.Run)
		want   []string
	}{
		{"crud and cqrs-kafka", func(*results.Run) {}, []string{kafkaOK}},
		{"no crud", func(r *results.Run) { r.Architectures = r.Architectures[1:] }, []string{
			"cqrs-kafka: list_orders p99 0.500 ms; create_order p99 5.60 ms (n/a vs crud: crud not run); " +
				"projection lag p99 41.0 ms (prober: 43.0 ms); 0.8% of reads stale (age p99 30.0 ms)"}},
		{"crud only", func(r *results.Run) { r.Architectures = r.Architectures[:1] }, []string{
			"crud only: list_orders p99 6.00 ms, create_order p99 4.00 ms; no CQRS architecture ran to compare with"}},
		{"nothing ran", func(r *results.Run) { r.Architectures = nil }, []string{"no architecture ran: nothing to compare"}},
		{"kfake", func(r *results.Run) {
			r.Environment.Infra.Services[1] = services.Service{Role: services.RoleKafka, Kind: services.KindFake, Product: services.ProductKfake}
		}, []string{kafkaOK,
			"WARNING cqrs-kafka ran on franz-go kfake, an in-process fake, NOT real kafka: their latencies and lag say nothing about kafka"}},
		{"kfake without cqrs-kafka", func(r *results.Run) {
			r.Environment.Infra.Services[1].Kind = services.KindFake
			r.Architectures = r.Architectures[:1]
		}, []string{"crud only: list_orders p99 6.00 ms, create_order p99 4.00 ms; no CQRS architecture ran to compare with"}},
		{"lots of queued ops", func(r *results.Run) {
			l := &r.Architectures[0].Load
			l.Late, l.Queued, l.Dropped, l.Completed, l.AchievedRate = 240, 230, 60, 1940, 194
		}, []string{kafkaOK,
			"WARNING crud: offered load not sustained: 12% of ops queued (every worker busy when due); 3.0% dropped; achieved 194 of 200 ops/s offered — latencies include queueing"}},
		{"queued ops under the limit", func(r *results.Run) { r.Architectures[0].Load.Late, r.Architectures[0].Load.Queued = 19, 19 }, []string{kafkaOK}},
		// Late by the load generator alone (a worker idle, achieved =
		// offered): the system kept up.
		{"late but not queued", func(r *results.Run) { r.Architectures[0].Load.Late = 400 }, []string{kafkaOK}},
		{"achieved below offered", func(r *results.Run) { r.Architectures[0].Load.AchievedRate = 190 }, []string{kafkaOK,
			"WARNING crud: offered load not sustained: achieved 190 of 200 ops/s offered — latencies include queueing"}},
		{"closed model", func(r *results.Run) {
			r.Architectures[0].Load = results.LoadSummary{Mode: "closed", Completed: 2000, AchievedRate: 2000}
		}, []string{kafkaOK}},
		{"many errors", func(r *results.Run) {
			a := &r.Architectures[0]
			a.Load.Errors = 400
			a.Ops[1].ErrorKind = map[string]int64{"timeout": 100, "invalid_transition": 250, "conflict": 30, "other": 20}
		}, []string{kafkaOK,
			"WARNING crud: 20% of operations failed (invalid_transition 250, timeout 100, conflict 30, …); failed operations are not in the latencies"}},
		{"probe timeouts", func(r *results.Run) { r.Architectures[1].Lag.ProbeTimeouts = 3 }, []string{kafkaOK,
			"WARNING cqrs-kafka: 3 probed writes never became visible within the prober's timeout; visible lag understates the tail"}},
		{"WAL relay down", func(r *results.Run) {
			r.Architectures[1].Lag.Slot = &results.SlotLag{Samples: 40, InactiveSamples: 12, RetainedBytesMax: 48 << 20}
		}, []string{kafkaOK,
			"WARNING cqrs-kafka: no WAL relay was connected to its slot in 12 of 40 samples, while the server kept up to 48.0 MB of WAL for it (it grows for as long as the relay is down)"}},
		{"WAL slot lost", func(r *results.Run) {
			r.Architectures[1].Lag.Slot = &results.SlotLag{Samples: 40, InactiveSamples: 12, RetainedBytesMax: 1 << 30, Lost: true}
		}, []string{kafkaOK,
			"WARNING cqrs-kafka: its WAL relay's slot went past max_slot_wal_keep_size (1024 MB kept): the server removes WAL the relay has not read, and the events in it"}},
		{"WAL relay connected", func(r *results.Run) {
			r.Architectures[1].Lag.Slot = &results.SlotLag{Samples: 40, RetainedBytesMax: 1 << 20}
		}, []string{kafkaOK}},
		{"few samples", func(r *results.Run) { r.Architectures[0].Ops[1].Latency.Count = 40 }, []string{kafkaOK,
			"WARNING p99 rests on fewer than 100 samples (crud create_order 40): run longer for a stable tail"}},
		{"no successful reads", func(r *results.Run) { r.Architectures[1].Ops[0].Latency = results.Stats{} }, []string{
			"cqrs-kafka: list_orders p99 n/a (no successful operations); create_order p99 is 1.4x higher than crud (5.60 vs 4.00 ms); " +
				"projection lag p99 41.0 ms (prober: 43.0 ms); 0.8% of reads stale (age p99 30.0 ms)"}},
		{"crud did not run the read", func(r *results.Run) { r.Architectures[0].Ops = r.Architectures[0].Ops[1:] }, []string{
			"cqrs-kafka: list_orders p99 0.500 ms (n/a vs crud: crud did not run it); create_order p99 is 1.4x higher than crud (5.60 vs 4.00 ms); " +
				"projection lag p99 41.0 ms (prober: 43.0 ms); 0.8% of reads stale (age p99 30.0 ms)"}},
		{"about the same", func(r *results.Run) { r.Architectures[1].Ops[1].Latency.P99 = 4100 }, []string{
			"cqrs-kafka: list_orders p99 is 12.0x lower than crud (0.500 vs 6.00 ms); create_order p99 is about the same as crud (4.10 vs 4.00 ms); " +
				"projection lag p99 41.0 ms (prober: 43.0 ms); 0.8% of reads stale (age p99 30.0 ms)"}},
		{"no lag recorded", func(r *results.Run) { r.Architectures[1].Lag = nil }, []string{
			"cqrs-kafka: list_orders p99 is 12.0x lower than crud (0.500 vs 6.00 ms); create_order p99 is 1.4x higher (5.60 vs 4.00 ms); " +
				"projection lag n/a (no samples); 0.8% of reads stale (age p99 30.0 ms)"}},
		{"no reads classified", func(r *results.Run) { r.Architectures[1].Staleness = results.Staleness{} }, []string{
			"cqrs-kafka: list_orders p99 is 12.0x lower than crud (0.500 vs 6.00 ms); create_order p99 is 1.4x higher (5.60 vs 4.00 ms); " +
				"projection lag p99 41.0 ms (prober: 43.0 ms); staleness n/a (no reads classified)"}},
		{"matview through the prober", func(r *results.Run) {
			k := &r.Architectures[1]
			k.Name = "cqrs-matview"
			k.Lag.Stages = nil
			k.Lag.Visible = lat(90, 520, 1010)
			k.Refresh = &results.Refresh{Count: 10, Errors: 2}
		}, []string{
			"cqrs-matview: list_orders p99 is 12.0x lower than crud (0.500 vs 6.00 ms); create_order p99 is 1.4x higher (5.60 vs 4.00 ms); " +
				"visible lag p99 1.01 s (prober); 0.8% of reads stale (age p99 30.0 ms)",
			"WARNING cqrs-matview: 2 refreshes of 10 failed; the views were staler than the period"}},
		{"cqrs-sync reads its writes", func(r *results.Run) {
			k := &r.Architectures[1]
			k.Name, k.Lag, k.Staleness = "cqrs-sync", nil, results.Staleness{Reads: 1000}
		}, []string{
			"cqrs-sync: list_orders p99 is 12.0x lower than crud (0.500 vs 6.00 ms); create_order p99 is 1.4x higher (5.60 vs 4.00 ms); 0% of reads stale"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			run := smallRun()
			tt.modify(run)
			got := report.Verdicts(run)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Verdicts =\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
	if got := report.Verdicts(nil); len(got) != 1 || got[0] != "no architecture ran: nothing to compare" {
		t.Errorf("Verdicts(nil) = %q", got)
	}
}
