package report_test

import (
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/report"
	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/harness/services"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// lat returns latency Stats of n samples with the given p50 and p99 in
// milliseconds; the rest is derived so the numbers are plausible.
func lat(n int64, p50, p99 float64) results.Stats {
	if n == 0 {
		return results.Stats{}
	}
	us := func(ms float64) float64 { return ms * 1000 }
	return results.Stats{
		Count: n, Min: us(p50 / 4), Mean: us(p50 * 1.2), P50: us(p50), P90: us((p50 + p99) / 2),
		P99: us(p99), P999: us(p99 * 1.6), Max: us(p99 * 2.5),
	}
}

// op returns an operation's statistics over a 30 s run.
func op(name string, n, errors int64, p50, p99 float64) results.Op {
	return results.Op{
		Name: name, Count: n, Rate: float64(n) / 30, Errors: errors,
		Latency: lat(n-errors, p50, p99), Service: lat(n-errors, p50*0.9, p99*0.8),
	}
}

// fixedScenario is a fully resolved scenario written out in Go, so the
// golden files do not change when the built-in YAML does.
func fixedScenario(t *testing.T) *scenarios.Scenario {
	t.Helper()
	var ths []scenarios.Threshold
	for _, s := range []string{
		"cqrs-kafka.list_orders.p99 < 5ms",
		"create_order.error_rate < 1%",
		"lag.p99 < 200ms",
		"staleness.ratio < 1%",
		"consistency.violations == 0",
	} {
		th, err := scenarios.ParseThreshold(s)
		if err != nil {
			t.Fatal(err)
		}
		ths = append(ths, th)
	}
	return &scenarios.Scenario{
		Name:          "mixed",
		Description:   "60% reads, 40% commands at a steady rate: the default suite",
		Dataset:       scenarios.Dataset{Orders: 200000, Customers: 20000, Seed: 1},
		Architectures: scenarios.DefaultArchitectures(catalog.DefaultWorkload()),
		Mix: scenarios.Mix{
			"list_orders": 55, "sales_dashboard": 5, "create_order": 15,
			"add_line": 10, "confirm_order": 8, "ship_order": 5, "cancel_order": 2,
		},
		Load: scenarios.LoadProfile{
			Mode: scenarios.ModeOpen, Rate: 400, Arrival: "uniform", Workers: 64, Connections: 8,
			Duration: scenarios.Duration(30 * time.Second), Warmup: scenarios.Duration(5 * time.Second),
			Phases: []scenarios.Phase{{Name: "steady", Duration: scenarios.Duration(30 * time.Second), Rate: 400}},
		},
		Interleaving: scenarios.Interleaving{Mode: "sequential", Rounds: 1},
		Thresholds:   ths,
		File:         "scenarios/mixed.yaml",
		Builtin:      true,
	}
}

// fixtureCost is a 30 s cost of ops operations, commands of them, at cpuUs
// of host CPU and sqlUs of SQL time per operation, walPerCmd WAL bytes per
// command and callsPerOp statements per operation, with a write model of
// 180 MB and the given read-model and pipeline sizes.
func fixtureCost(ops, commands int64, cpuUs float64, walPerCmd int64, sqlUs, callsPerOp float64, readModels, pipeline int64) *results.Cost {
	c := &results.Cost{
		Seconds: 30, Ops: ops, Commands: commands, WALBytes: walPerCmd * commands, WALBytesPerCommand: float64(walPerCmd),
		HostCPUs: 2, HostCPUSeconds: cpuUs * float64(ops) / 1e6, CPUPerOpUs: cpuUs, PredictedMaxRate: 2 / (cpuUs / 1e6),
		IdleCPUs: 0.02, IdleSeconds: 1,
		Statements: &results.StatementCost{Calls: int64(callsPerOp * float64(ops)), ExecMs: sqlUs * float64(ops) / 1000,
			ExecUsPerOp: sqlUs, CallsPerOp: callsPerOp, SharedBlocks: 40 * ops,
			CPUSeconds: 0.8 * sqlUs * float64(ops) / 1e6, CPUUsPerOp: 0.8 * sqlUs}, // the server's CPU: most of its execution time
		Storage: []results.TableSize{{Table: "orders", Role: results.RoleWriteModel, Bytes: 180 << 20}},
		ProcessCPU: []results.ProcessCPU{ // PostgreSQL 60%, cqrsbench 30%, the rest 10%
			{Process: "PostgreSQL", Seconds: 0.6 * cpuUs * float64(ops) / 1e6, UsPerOp: 0.6 * cpuUs},
			{Process: "cqrsbench", Seconds: 0.3 * cpuUs * float64(ops) / 1e6, UsPerOp: 0.3 * cpuUs},
			{Process: results.ProcessOther, Seconds: 0.1 * cpuUs * float64(ops) / 1e6, UsPerOp: 0.1 * cpuUs},
		},
	}
	if readModels > 0 {
		c.Storage = append(c.Storage, results.TableSize{Table: "order_read_model", Role: results.RoleReadModel, Bytes: readModels})
	}
	if pipeline > 0 {
		c.Storage = append(c.Storage, results.TableSize{Table: "outbox", Role: results.RolePipeline, Bytes: pipeline})
	}
	return c
}

// fixture returns a complete, deterministic run of all four architectures:
// CQRS reads several times faster than crud, writes somewhat slower,
// cqrs-matview with late (most of them queued) and dropped operations, cqrs-kafka with pipeline stages.
func fixture(t *testing.T) *results.Run {
	t.Helper()
	start := time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)
	load := func(late, queued, dropped, errors int64) results.LoadSummary {
		return results.LoadSummary{Mode: "open", DurationSeconds: 30, OfferedRate: 400,
			AchievedRate: float64(12000-dropped) / 30, Scheduled: 12000, Completed: 12000 - dropped,
			Errors: errors, Late: late, Queued: queued, Dropped: dropped, WarmupOps: 2000}
	}
	run := &results.Run{
		SchemaVersion: results.SchemaVersion,
		Tool:          results.Tool{Version: "v0.1.0", GoVersion: "go1.26.0"},
		StartedAt:     start,
		FinishedAt:    start.Add(3*time.Minute + 41*time.Second),
		Environment: results.Environment{
			Infra: services.Description{Provider: "local", Services: []services.Service{
				{Role: services.RolePostgres, Kind: services.KindLocal, Product: services.ProductPostgres, Version: "16.4",
					Endpoints: []string{"127.0.0.1:54329"}},
				{Role: services.RoleKafka, Kind: services.KindLocal, Product: services.ProductApacheKafka, Version: "4.1.0",
					Endpoints: []string{"127.0.0.1:39092"}},
			}},
			Host: results.Host{OS: "linux", Arch: "amd64", CPUs: 2, Memory: "7.7 GiB"},
		},
		Scenario: fixedScenario(t),
		Architectures: []results.Architecture{
			{
				Name: "crud", LoadSeconds: 17.8, SetupSeconds: 0.4,
				Cost: fixtureCost(12000, 4800, 1150, 4900, 480, 2.6, 0, 0),
				Capacity: &results.Capacity{PredictedMaxRate: 1739, QueueingMaxRate: 1402, CalibratedMaxRate: 1480, CalibratedAt: 870, MeasuredMaxRate: 1525, FirstFailedRate: 1620, Steps: []results.CapacityStep{
					{OfferedRate: 870, AchievedRate: 870, WorstP99: 9100, WorstOp: "list_orders", BusyCPUs: 1.02, RunCPUs: 0.98, Sustained: true},
					{OfferedRate: 1620, AchievedRate: 1540, WorstP99: 240000, WorstOp: "list_orders", BusyCPUs: 1.97, Why: "achieved 1540 of 1620 ops/s, 900 queued, 0 dropped"},
					{OfferedRate: 1525, AchievedRate: 1525, WorstP99: 61000, WorstOp: "list_orders", BusyCPUs: 1.83, Sustained: true},
				}},
				Load: load(12, 0, 0, 36),
				Ops: []results.Op{
					op("create_order", 1800, 0, 2.10, 4.10),
					op("add_line", 1200, 12, 1.50, 3.20),
					op("confirm_order", 960, 10, 1.10, 2.50),
					op("ship_order", 600, 8, 1.00, 2.40),
					op("cancel_order", 240, 6, 1.10, 2.60),
					op("list_orders", 6600, 0, 1.92, 6.10),
					op("sales_dashboard", 600, 0, 3.40, 9.80),
				},
				Staleness:      results.Staleness{Reads: 6600},
				CatchUpSeconds: 0,
				Consistency:    &results.Consistency{},
			},
			{
				Name: "cqrs-sync", LoadSeconds: 17.6, SetupSeconds: 5.2,
				Cost: fixtureCost(12000, 4800, 690, 9300, 210, 3.1, 96<<20, 0),
				Load: load(20, 0, 0, 36),
				Ops: []results.Op{
					op("create_order", 1800, 0, 2.60, 5.80),
					op("add_line", 1200, 12, 1.90, 4.30),
					op("confirm_order", 960, 10, 1.30, 3.10),
					op("ship_order", 600, 8, 1.20, 2.90),
					op("cancel_order", 240, 6, 1.30, 3.00),
					op("list_orders", 6600, 0, 0.38, 0.91),
					op("sales_dashboard", 600, 0, 0.31, 0.72),
				},
				Staleness: results.Staleness{Reads: 6600},
			},
			{
				Name: "cqrs-matview", LoadSeconds: 17.9, SetupSeconds: 2.1,
				Load: load(264, 250, 6, 36),
				Ops: []results.Op{
					op("create_order", 1800, 0, 2.20, 12.4),
					op("add_line", 1200, 12, 1.60, 11.2),
					op("confirm_order", 960, 10, 1.20, 10.9),
					op("ship_order", 600, 8, 1.10, 10.1),
					op("cancel_order", 240, 6, 1.20, 9.70),
					op("list_orders", 6594, 0, 0.40, 14.2),
					op("sales_dashboard", 600, 0, 0.35, 13.1),
				},
				Lag: &results.Lag{Visible: lat(290, 520, 1010)},
				Staleness: results.Staleness{Reads: 6594, Stale: 2380, Rate: 2380.0 / 6594,
					Age: lat(2380, 480, 990)},
				Refresh:        &results.Refresh{Count: 29, Stats: results.Stats{Count: 29, Mean: 212_000, Max: 388_000}},
				CatchUpSeconds: 1.1,
			},
			{
				Name: "cqrs-kafka", LoadSeconds: 17.7, SetupSeconds: 6.3,
				Load: load(30, 0, 0, 36),
				Ops: []results.Op{
					op("create_order", 1800, 0, 2.90, 5.90),
					op("add_line", 1200, 12, 2.10, 4.60),
					op("confirm_order", 960, 10, 1.50, 3.40),
					op("ship_order", 600, 8, 1.40, 3.20),
					op("cancel_order", 240, 6, 1.50, 3.30),
					op("list_orders", 6600, 0, 0.37, 0.52),
					op("sales_dashboard", 600, 0, 0.30, 0.66),
				},
				Lag: &results.Lag{
					Stages: []results.Stage{
						{Name: "committed→claimed", Stats: lat(4800, 1.1, 6.2)},
						{Name: "claimed→confirmed", Stats: lat(4800, 4.8, 14.5)},
						{Name: "confirmed→delivered", Stats: lat(4800, 2.2, 9.1)},
						{Name: "delivered→applied", Stats: lat(4800, 3.5, 12.8)},
						{Name: results.StageEndToEnd, Stats: lat(4800, 12.9, 41.0)},
					},
					Visible: lat(300, 14.1, 43.5),
				},
				Staleness: results.Staleness{Reads: 6600, Stale: 53, Rate: 53.0 / 6600,
					Age: lat(53, 9.5, 30.2)},
				CatchUpSeconds: 0.2,
				Consistency: &results.Consistency{Violations: 1, Mismatched: 1, DuplicatesDelivered: 12, EventsCommitted: 4800, EventsProduced: 4812, EventsDelivered: 4824, EventsApplied: 4812,
					Tables: []results.TableDiff{{Table: "order_read_model", Expected: 200950}, {Table: "daily_sales", Expected: 364, Mismatched: 1,
						Samples: []string{"2026-03-14/cart: expected (2026-03-14,cart,\"In your cart\",88,912345) actual (2026-03-14,cart,\"In your cart\",89,915012)"}}}},
				WorkerErrors: &results.WorkerErrors{Total: 14, ByPart: []results.PartErrors{{Part: "publish", Count: 9}, {Part: "offset commit", Count: 5}},
					Samples: []results.ErrorSample{{Message: "relay: produce batch of 12 records: broker closed the connection", Count: 9}}},
				Faults: []results.Fault{
					{Kind: "broker-restart", Spec: "at 15s, down 10s", Injected: 1, RecoverySeconds: 2.41,
						Injections:   []results.Injection{{AtSeconds: 15.002, DurationSeconds: 10.8, RecoverySeconds: 2.41}},
						DuringOutage: &results.OutageOps{CommandsApplied: 1620, ReadsOK: 530}},
					{Kind: "catch-up", Spec: "at 30s, paused until 5000 events or 45s", Injected: 1, RecoverySeconds: 0.42,
						Injections: []results.Injection{{AtSeconds: 30, DurationSeconds: 11.2, RecoverySeconds: 0.42, Detail: "backlog 5004 records"}},
						CatchUp:    &results.CatchUp{Backlog: 5004, PausedSeconds: 11.2, Applied: 5150, Seconds: 0.42, EventsPerSecond: 12261.9, RejoinSeconds: 0.3, DrainEventsPerSecond: 41000}},
					{Kind: "projector-crash", Spec: "after-commit, at 40s", Injected: 0,
						Errors: []string{"a crash was armed but no batch came before the load ended"}},
				},
			},
		},
	}
	for i, canaryQPS := range []float64{1612, 1398} { // one round each, the canary before it
		a := &run.Architectures[i]
		a.Rounds = []results.Round{results.RoundOf(*a, 0)}
		a.Rounds[0].CanaryQPS = canaryQPS
	}
	run.Verdicts = report.Verdicts(run)
	run.Thresholds = results.Evaluate(run, run.Scenario.Thresholds)
	return run
}
