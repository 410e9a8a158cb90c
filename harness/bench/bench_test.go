package bench_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cqrsbench/cqrsbench/harness/bench"
	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/harness/services"
	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"github.com/cqrsbench/cqrsbench/reference/cqrskafka"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// TestSmokeEndToEnd runs the smoke scenario on every architecture against
// real PostgreSQL and Kafka and checks the results document has every
// architecture and operation with samples, and lag samples where the read
// side lags.
func TestSmokeEndToEnd(t *testing.T) {
	env := sharedEnv(t)
	ctx := t.Context()
	smoke, err := scenarios.Builtin("smoke")
	if err != nil {
		t.Fatal(err)
	}
	// Every architecture: the default suite's and those run on request
	// (crud-replica).
	var all []string
	for _, a := range scenarios.Architectures() {
		all = append(all, string(a))
	}
	sc, err := smoke.WithOverrides(scenarios.Overrides{Arch: []string{strings.Join(all, ",")}})
	if err != nil {
		t.Fatal(err)
	}
	run, err := bench.Run(ctx, bench.Config{Scenario: sc, Infra: env, Progress: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	doc, err := json.Marshal(run)
	if err != nil {
		t.Fatal(err)
	}
	var back results.Run
	if err := json.Unmarshal(doc, &back); err != nil {
		t.Fatalf("results do not round-trip through JSON: %v", err)
	}
	if kafka, _ := back.Environment.Infra.Find(services.RoleKafka); back.SchemaVersion != results.SchemaVersion || kafka.Product != services.ProductApacheKafka {
		t.Errorf("schema_version %d, kafka %+v", back.SchemaVersion, kafka)
	}
	checkWALAmplification(t, &back)
	if len(back.Architectures) != len(sc.Architectures) {
		t.Fatalf("%d architectures in the results, want %d", len(back.Architectures), len(sc.Architectures))
	}
	for _, a := range back.Architectures {
		ops := map[string]results.Op{}
		for _, op := range a.Ops {
			ops[op.Name] = op
		}
		for _, want := range sc.Operations() {
			op, ok := ops[want.Name]
			if !ok || op.Count == 0 || op.Latency.Count == 0 || op.Latency.Histogram == "" {
				t.Errorf("%s %s: %+v, want samples and a histogram", a.Name, want.Name, op)
			}
		}
		if a.Load.Completed == 0 || a.Load.OfferedRate == 0 {
			t.Errorf("%s load %+v", a.Name, a.Load)
		}
		if a.Consistency == nil || a.Consistency.Violations != 0 {
			t.Errorf("%s: consistency %+v, want a clean check", a.Name, a.Consistency)
		}
		lo, otl := ops["list_orders"], ops["order_then_list"]
		if reads := lo.Count - lo.Errors + otl.Count - otl.Errors; a.Staleness.Reads == 0 || a.Staleness.Reads != reads {
			t.Errorf("%s: %d reads classified, want the %d successful measured list_orders and order_then_list (warmup excluded)", a.Name, a.Staleness.Reads, reads)
		}
		if own := otl.Count - otl.Errors; a.Staleness.OwnWriteReads != own {
			t.Errorf("%s: %d own-write reads, want the %d successful order_then_list", a.Name, a.Staleness.OwnWriteReads, own)
		}
		if a.Name != "crud" && a.Name != "cqrs-sync" && (a.Lag == nil || a.Lag.Visible.Count == 0) {
			t.Errorf("%s: no visibility-lag samples: %+v", a.Name, a.Lag)
		}
		if c := a.Cost; c == nil || c.Ops == 0 || c.WALBytesPerCommand <= 0 || c.CPUPerOpUs <= 0 || c.Statements == nil || c.Statements.Calls < c.Ops {
			t.Errorf("%s: cost %+v, want WAL, host CPU and pg_stat_statements over the measured operations", a.Name, c)
		} else if d := catalog.MustLookup(a.Name); len(d.ReadModels) != readModelTables(c) {
			t.Errorf("%s: storage %+v, want its %d read models sized", a.Name, c.Storage, len(d.ReadModels))
		}
		if s := a.Cost.Statements; s != nil && (kcacheInstalled(t) || infratest.Required()) && (s.CPUMissing != "" || s.CPUSeconds <= 0) {
			t.Errorf("%s: statements %+v, want PostgreSQL's CPU time from pg_stat_kcache (the local provider preloads it when installed; CI installs it)", a.Name, s)
		}
		if d := catalog.MustLookup(a.Name); catalog.Offers[reference.Pipeline](d) && a.Cost.TransportBytesPerEvent < 50 {
			t.Errorf("%s: %.0f bytes per event on the transport, want each event's key and JSON payload (> 50 bytes)", a.Name, a.Cost.TransportBytesPerEvent)
		}
		checkProcessCPU(t, a)
		if len(a.Rounds) == 0 || a.Rounds[0].CanaryQPS <= 0 {
			t.Errorf("%s: rounds %+v, want the canary's rate before the round", a.Name, a.Rounds)
		}
		if a.Name == "cqrs-matview" {
			if r := a.Refresh; r == nil || r.Count == 0 || r.Stats.Count != r.Count || r.Stats.P50 == 0 || r.Stats.Histogram == "" {
				t.Errorf("cqrs-matview refreshes: %+v, want each refresh's duration in a histogram", a.Refresh)
			}
		}
		if a.Name == "crud-replica" {
			if r := a.Lag.Replica; r == nil || r.Samples == 0 || r.ReplayAge.Count == 0 || r.Queries < 2*r.Samples {
				t.Errorf("crud-replica: replica lag %+v, want samples of its replay position and time", r)
			}
		}
		if a.Name == "cqrs-kafka" {
			if a.Lag == nil {
				t.Fatalf("cqrs-kafka: no lag")
			}
			e2e, ok := a.Lag.Stage(results.StageEndToEnd)
			if !ok || e2e.Stats.Count == 0 || len(a.Lag.Stages) != 5 {
				t.Errorf("cqrs-kafka stage lag: %+v", a.Lag.Stages)
			}
		}
	}
}

// readModelTables counts the read-model tables c sized.
func readModelTables(c *results.Cost) int {
	n := 0
	for _, t := range c.Storage {
		if t.Role == results.RoleReadModel && t.Bytes > 0 {
			n++
		}
	}
	return n
}

// TestSmokeEndToEnd's cost check, continued: cqrs-sync writes its read
// models in the command's transaction, so each command must show more WAL
// than crud's.
func checkWALAmplification(t *testing.T, run *results.Run) {
	t.Helper()
	crud, ok1 := run.Arch("crud")
	sync, ok2 := run.Arch("cqrs-sync")
	if !ok1 || !ok2 || crud.Cost == nil || sync.Cost == nil {
		return
	}
	if sync.Cost.WALBytesPerCommand <= crud.Cost.WALBytesPerCommand {
		t.Errorf("WAL per command: cqrs-sync %.0f B, crud %.0f B; want more for cqrs-sync, which also writes its read models",
			sync.Cost.WALBytesPerCommand, crud.Cost.WALBytesPerCommand)
	}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// TestDuplicatesNegativeControl runs the duplicates scenario without the
// inbox: the copies are applied twice, and the checker and the scenario's
// thresholds report it.
func TestDuplicatesNegativeControl(t *testing.T) {
	sc := builtin(t, "duplicates")
	sc.Options["cqrs-kafka"].(*cqrskafka.Options).Inbox = false
	run := runScenario(t, sc)
	c := run.Architectures[0].Consistency
	t.Logf("inbox off: %+v", *c)
	if c.Violations == 0 || c.DuplicatesApplied == 0 || c.DuplicatesDelivered != 0 || !results.Failed(run.Thresholds) {
		t.Errorf("inbox off: %d violations, %d applied twice, %d suppressed, thresholds failed %v; want the damage reported",
			c.Violations, c.DuplicatesApplied, c.DuplicatesDelivered, results.Failed(run.Thresholds))
	}
}

// kcacheInstalled reports whether pg_stat_kcache is installed beside the
// local PostgreSQL server, which then preloads it.
func kcacheInstalled(t *testing.T) bool {
	t.Helper()
	bin, err := pglocal.FindBinDir("")
	if err != nil {
		return false
	}
	_, err = os.Stat(filepath.Join(bin, "..", "lib", "pg_stat_kcache.so"))
	return err == nil
}

// checkProcessCPU: a's host CPU is split by process, with time for
// PostgreSQL, cqrsbench and the broker its pipeline uses.
func checkProcessCPU(t *testing.T, a results.Architecture) {
	t.Helper()
	want := []string{"PostgreSQL", "cqrsbench"}
	switch a.Name {
	case "cqrs-kafka":
		want = append(want, "Kafka")
	case "cqrs-rabbitmq":
		want = append(want, "RabbitMQ")
	}
	got := map[string]float64{}
	for _, p := range a.Cost.ProcessCPU {
		got[p.Process] = p.UsPerOp
	}
	for _, w := range want {
		if got[w] <= 0 {
			t.Errorf("%s: host CPU by process %+v, want time for %s", a.Name, a.Cost.ProcessCPU, w)
		}
	}
}
