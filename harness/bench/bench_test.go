package bench_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/bench"
	"github.com/cqrsbench/cqrsbench/harness/infra"
	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// TestSmokeEndToEnd runs the smoke scenario on every architecture against
// real PostgreSQL and Kafka and checks the results document has every
// architecture and operation with samples, and lag samples where the read
// side lags.
func TestSmokeEndToEnd(t *testing.T) {
	env := sharedEnv(t)
	ctx := t.Context()
	sc, err := scenarios.Builtin("smoke")
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
	if back.SchemaVersion != results.SchemaVersion || back.Environment.Infra.Kafka.Kind != infra.KindApacheKafka {
		t.Errorf("schema_version %d, kafka %q", back.SchemaVersion, back.Environment.Infra.Kafka.Kind)
	}
	if len(back.Architectures) != len(sc.Architectures) {
		t.Fatalf("%d architectures in the results, want %d", len(back.Architectures), len(sc.Architectures))
	}
	for _, a := range back.Architectures {
		ops := map[string]results.Op{}
		for _, op := range a.Ops {
			ops[op.Name] = op
		}
		for _, want := range sc.Mix.Ops() {
			op, ok := ops[string(want)]
			if !ok || op.Count == 0 || op.Latency.Count == 0 || op.Latency.Histogram == "" {
				t.Errorf("%s %s: %+v, want samples and a histogram", a.Name, want, op)
			}
		}
		if a.Load.Completed == 0 || a.Load.OfferedRate == 0 {
			t.Errorf("%s load %+v", a.Name, a.Load)
		}
		if a.Consistency == nil || a.Consistency.Violations != 0 {
			t.Errorf("%s: consistency %+v, want a clean check", a.Name, a.Consistency)
		}
		if a.Staleness.Reads == 0 {
			t.Errorf("%s: no list_orders read was classified", a.Name)
		}
		if a.Name != "crud" && a.Name != "cqrs-sync" && (a.Lag == nil || a.Lag.Visible.Count == 0) {
			t.Errorf("%s: no visibility-lag samples: %+v", a.Name, a.Lag)
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

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// TestDuplicatesNegativeControl runs the duplicates scenario (the relay
// publishes 20% of events twice) small and short: with the inbox the read
// models stay exact and the duplicates are counted; without it the checker
// reports the damage and the scenario's consistency threshold fails.
func TestDuplicatesNegativeControl(t *testing.T) {
	env := sharedEnv(t)
	ctx := t.Context()
	for _, inbox := range []bool{true, false} {
		base, err := scenarios.Builtin("duplicates")
		if err != nil {
			t.Fatal(err)
		}
		orders, duration := 2000, 6*time.Second
		sc, err := base.WithOverrides(scenarios.Overrides{Orders: &orders, Duration: &duration})
		if err != nil {
			t.Fatal(err)
		}
		sc.Load.Warmup = scenarios.Duration(time.Second)
		sc.Faults[0].Fraction = 0.2
		sc.Options.Kafka.Inbox = inbox
		run, err := bench.Run(ctx, bench.Config{Scenario: sc, Infra: env})
		if err != nil {
			t.Fatal(err)
		}
		c := run.Architectures[0].Consistency
		failed := results.Failed(results.Evaluate(run, sc.Thresholds))
		t.Logf("inbox %v: %+v", inbox, c)
		if c.DuplicatesDelivered == 0 && inbox {
			t.Errorf("inbox on: no duplicate delivered, the fault did not happen")
		}
		if inbox && (c.Violations != 0 || failed) {
			t.Errorf("inbox on: %d violations, thresholds failed %v; want a clean run", c.Violations, failed)
		}
		if inbox && c.DuplicatesApplied != 0 {
			t.Errorf("inbox on: %d duplicates applied", c.DuplicatesApplied)
		}
		if !inbox && (c.Violations == 0 || c.DuplicatesApplied == 0 || !failed) {
			t.Errorf("inbox off: %d violations, thresholds failed %v; want the damage reported", c.Violations, failed)
		}
	}
}
