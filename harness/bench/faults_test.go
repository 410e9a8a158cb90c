package bench_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cqrsbench/cqrsbench/harness/bench"
	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// faultScenario is a small, short scenario (cqrs-kafka unless archs names
// others) with a write-leaning mix and the given YAML faults and options.
func faultScenario(t *testing.T, archs, faults, options string) *scenarios.Scenario {
	t.Helper()
	if archs == "" {
		archs = "[cqrs-kafka]"
	}
	doc := fmt.Sprintf(`name: fault-test
dataset:
  orders: 3000
architectures: %s
mix:
  create_order: 35
  add_line: 20
  confirm_order: 15
  ship_order: 10
  cancel_order: 5
  list_orders: 15
load:
  rate: 300
  warmup: 1s
  duration: 6s
options:
  cqrs-kafka:
%s
faults:
%s
thresholds:
  - consistency.violations == 0
  - consistency.events_lost == 0
  - consistency.duplicates_applied == 0
`, archs, indent(options, "    "), indent(faults, "  "))
	sc, err := scenarios.Parse("fault-test.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("scenario:\n%s\n%v", doc, err)
	}
	return sc
}

// indent prefixes every line of the YAML fragment s (its relative
// indentation kept); an empty fragment is the default option.
func indent(s, prefix string) string {
	s = strings.Trim(s, "\n")
	if strings.TrimSpace(s) == "" {
		s = "inbox: true"
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n")
}

// runScenario runs sc on the shared infrastructure.
func runScenario(t *testing.T, sc *scenarios.Scenario) *results.Run {
	t.Helper()
	env := sharedEnv(t)
	run, err := bench.Run(t.Context(), bench.Config{Scenario: sc, Infra: env, Progress: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	run.Thresholds = results.Evaluate(run, sc.Thresholds)
	return run
}

// onlyFault returns the architecture's single fault, failing the test if
// it was not injected as planned.
func onlyFault(t *testing.T, a results.Architecture) results.Fault {
	t.Helper()
	if len(a.Faults) != 1 {
		t.Fatalf("%s: %d faults in the results, want 1: %+v", a.Name, len(a.Faults), a.Faults)
	}
	f := a.Faults[0]
	t.Logf("%s %s: %+v", a.Name, f.Kind, f)
	if f.Injected == 0 || len(f.Errors) > 0 {
		t.Fatalf("%s %s: injected %d, errors %v: the fault did not happen as planned", a.Name, f.Kind, f.Injected, f.Errors)
	}
	return f
}

// assertClean fails the test unless the checker found nothing lost and
// nothing applied twice, and the thresholds passed.
func assertClean(t *testing.T, run *results.Run) {
	t.Helper()
	for _, a := range run.Architectures {
		c := a.Consistency
		if c == nil {
			t.Fatalf("%s: the checker did not run", a.Name)
		}
		t.Logf("%s consistency: %+v", a.Name, *c)
		if c.Violations != 0 || c.EventsLost != 0 || c.DuplicatesApplied != 0 || c.Lost != 0 || c.Mismatched != 0 {
			t.Errorf("%s: violations %d, events lost %d, duplicates applied %d, rows lost %d, mismatched %d; want none",
				a.Name, c.Violations, c.EventsLost, c.DuplicatesApplied, c.Lost, c.Mismatched)
		}
	}
	if results.Failed(run.Thresholds) {
		t.Errorf("thresholds failed: %+v", run.Thresholds)
	}
}

// TestRelayCrashFault crashes the relay three times after the broker's
// ack: each crashed batch is published again, and the inbox suppresses
// the copies.
func TestRelayCrashFault(t *testing.T) {
	skipShort(t)
	run := runScenario(t, faultScenario(t, "", `
- kind: relay-crash
  at: 1s
  every: 1s
  count: 3`, ""))
	a := run.Architectures[0]
	if f := onlyFault(t, a); f.Injected != 3 {
		t.Errorf("injected %d relay crashes, want 3", f.Injected)
	}
	if a.Consistency.DuplicatesDelivered == 0 {
		t.Error("no duplicate delivered: the crashed batches were not published again")
	}
	assertClean(t, run)
}

// TestProjectorCrashFaults crashes the projector after its DB commit (the
// batch is redelivered: duplicates the inbox suppresses) and between the
// inbox insert and the commit (rolled back: nothing suppressed needed).
func TestProjectorCrashFaults(t *testing.T) {
	skipShort(t)
	for _, point := range []string{"after-commit", "after-inbox"} {
		t.Run(point, func(t *testing.T) {
			run := runScenario(t, faultScenario(t, "", `
- kind: projector-crash
  point: `+point+`
  at: 1s
  every: 2s
  count: 2`, ""))
			a := run.Architectures[0]
			if f := onlyFault(t, a); f.Injected != 2 {
				t.Errorf("injected %d projector crashes, want 2", f.Injected)
			}
			if point == "after-commit" && a.Consistency.DuplicatesDelivered == 0 {
				t.Error("no duplicate delivered: the committed batch was not redelivered")
			}
			assertClean(t, run)
		})
	}
}

// TestBrokerRestartFault stops the real broker for two seconds mid-run:
// commands keep committing, the relay and the projector recover on their
// own, and nothing is lost or applied twice.
func TestBrokerRestartFault(t *testing.T) {
	skipShort(t)
	run := runScenario(t, faultScenario(t, "", `
- kind: broker-restart
  at: 2s
  duration: 2s`, ""))
	a := run.Architectures[0]
	f := onlyFault(t, a)
	o := f.DuringOutage
	if o == nil || o.CommandsApplied == 0 {
		t.Fatalf("during the outage: %+v; want commands applied (the write side does not need Kafka)", o)
	}
	if f.RecoverySeconds <= 0 {
		t.Errorf("recovery %v s", f.RecoverySeconds)
	}
	assertClean(t, run)
}

// TestPGRestartFault restarts PostgreSQL under crud and cqrs-kafka: the
// commands issued while it is down fail and are reported as such, the
// others are applied exactly once, and the run completes on its own.
func TestPGRestartFault(t *testing.T) {
	skipShort(t)
	run := runScenario(t, faultScenario(t, "[crud, cqrs-kafka]", `
- kind: pg-restart
  at: 2s
  duration: 1s`, ""))
	for _, a := range run.Architectures {
		f := onlyFault(t, a)
		o := f.DuringOutage
		if o == nil || o.CommandsFailed == 0 || o.ErrorKinds["unavailable"] == 0 {
			t.Errorf("%s during the outage: %+v; want failed commands of kind unavailable", a.Name, o)
		}
		if a.Load.Completed == 0 {
			t.Errorf("%s: no operation completed", a.Name)
		}
	}
	assertClean(t, run)
}

// TestPoisonFault puts three undecodable events on the topic: each is
// dead-lettered and the projector keeps applying the rest.
func TestPoisonFault(t *testing.T) {
	skipShort(t)
	run := runScenario(t, faultScenario(t, "", `
- kind: poison
  at: 1s
  every: 1s
  count: 3`, ""))
	a := run.Architectures[0]
	if f := onlyFault(t, a); f.Injected != 3 {
		t.Errorf("injected %d poison events, want 3", f.Injected)
	}
	if a.Consistency.DeadLettered != 3 {
		t.Errorf("dead-lettered %d, want 3", a.Consistency.DeadLettered)
	}
	assertClean(t, run)
}

// TestVisibilityGapFault holds transactions open while later outbox ids
// commit. The skip-locked relay publishes every event; the naive-cursor
// relay (the negative control) loses the late ones, and the checker and
// the thresholds say so.
func TestVisibilityGapFault(t *testing.T) {
	skipShort(t)
	for _, mode := range []string{"skip-locked", "naive-cursor"} {
		t.Run(mode, func(t *testing.T) {
			run := runScenario(t, faultScenario(t, "", `
- kind: visibility-gap
  at: 1s
  every: 2s
  duration: 500ms`, "relay: "+mode+"\nrelays: 1"))
			a := run.Architectures[0]
			if f := onlyFault(t, a); f.Injected < 3 {
				t.Errorf("injected %d held transactions, want at least 3", f.Injected)
			}
			if mode == "skip-locked" {
				assertClean(t, run)
				return
			}
			c := a.Consistency
			t.Logf("naive-cursor consistency: %+v", *c)
			if c.EventsLost == 0 || c.Violations == 0 || !results.Failed(run.Thresholds) {
				t.Errorf("negative control: naive-cursor lost %d events, %d violations, thresholds failed %v; want the loss reported",
					c.EventsLost, c.Violations, results.Failed(run.Thresholds))
			}
		})
	}
}

// TestCatchUpFault pauses the projector until 500 records wait, then
// measures the catch-up.
func TestCatchUpFault(t *testing.T) {
	skipShort(t)
	run := runScenario(t, faultScenario(t, "", `
- kind: catch-up
  at: 1s
  events: 500
  duration: 5s`, ""))
	a := run.Architectures[0]
	cu := onlyFault(t, a).CatchUp
	if cu == nil || cu.Backlog < 500 || cu.Applied < cu.Backlog || cu.EventsPerSecond <= 0 {
		t.Fatalf("catch-up %+v; want a backlog of at least 500 applied at a measured rate", cu)
	}
	assertClean(t, run)
}

// TestRebuildFault rebuilds the read models from the topic after the load.
func TestRebuildFault(t *testing.T) {
	skipShort(t)
	run := runScenario(t, faultScenario(t, "", `
- kind: rebuild
  after_load: true`, ""))
	a := run.Architectures[0]
	rb := onlyFault(t, a).Rebuild
	if rb == nil || rb.Events < 3000 || rb.EventsPerSecond <= 0 {
		t.Fatalf("rebuild %+v; want at least the 3000 snapshot events replayed at a measured rate", rb)
	}
	assertClean(t, run)
}
