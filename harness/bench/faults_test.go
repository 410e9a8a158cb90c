package bench_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/bench"
	"github.com/cqrsbench/cqrsbench/harness/infra"
	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/reference/cqrskafka"
	"github.com/cqrsbench/cqrsbench/reference/cqrsrabbitmq"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// builtin returns the built-in scenario name shrunk to run in seconds:
// 3,000 orders, 1s of warmup and 6s measured (its fault times scale with
// it); faults, when given, replace its faults as --fault would (for
// down times and backlogs that do not scale).
func builtin(t *testing.T, name string, faults ...string) *scenarios.Scenario {
	t.Helper()
	base, err := scenarios.Builtin(name)
	if err != nil {
		t.Fatal(err)
	}
	orders, duration := 3000, 6*time.Second
	o := scenarios.Overrides{Orders: &orders, Duration: &duration}
	if len(faults) > 0 {
		o.Faults = faults
	}
	sc, err := base.WithOverrides(o)
	if err != nil {
		t.Fatal(err)
	}
	sc.Load.Warmup = scenarios.Duration(time.Second)
	return sc
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

// injected fails the test unless the architecture's faults were all
// injected as planned, and returns them.
func injected(t *testing.T, a results.Architecture, want int) []results.Fault {
	t.Helper()
	if len(a.Faults) != want {
		t.Fatalf("%s: %d faults in the results, want %d: %+v", a.Name, len(a.Faults), want, a.Faults)
	}
	for _, f := range a.Faults {
		t.Logf("%s %s: %+v", a.Name, f.Kind, f)
		if f.Injected == 0 || len(f.Errors) > 0 {
			t.Fatalf("%s %s (%s): injected %d, errors %v: the fault did not happen as planned", a.Name, f.Kind, f.Spec, f.Injected, f.Errors)
		}
	}
	return a.Faults
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

// TestDuplicatesScenario: the relay publishes a fraction of the events
// twice (republish), or a fraction of its batches again as if their ack
// had been lost (lost-ack); the inbox suppresses every copy.
func TestDuplicatesScenario(t *testing.T) {
	for _, fault := range []string{"", "kind=duplicates,method=lost-ack,fraction=20%"} {
		name := "republish"
		if fault != "" {
			name = "lost-ack"
		}
		t.Run(name, func(t *testing.T) {
			var faults []string
			if fault != "" {
				faults = append(faults, fault)
			}
			run := runScenario(t, builtin(t, "duplicates", faults...))
			for _, a := range run.Architectures {
				injected(t, a, 1)
				if a.Consistency.DuplicatesDelivered == 0 {
					t.Errorf("%s: no duplicate delivered: the fault did not happen", a.Name)
				}
			}
			assertClean(t, run)
		})
	}
}

// TestCrashesScenario crashes the relay after the broker's ack and the
// projector after its DB commit and before it: each crashed batch comes
// again, and the inbox suppresses what was applied already.
func TestCrashesScenario(t *testing.T) {
	run := runScenario(t, builtin(t, "crashes"))
	for _, a := range run.Architectures {
		for _, f := range injected(t, a, 4) {
			if f.Injected < 2 {
				t.Errorf("%s %s (%s): %d crashes, want at least 2", a.Name, f.Kind, f.Spec, f.Injected)
			}
		}
		if a.Consistency.DuplicatesDelivered == 0 {
			t.Errorf("%s: no duplicate delivered: the crashed batches were not delivered again", a.Name)
		}
		if a.Lag != nil && a.Lag.Slot != nil {
			t.Errorf("%s: slot samples %+v from a skip-locked relay, which has no slot", a.Name, a.Lag.Slot)
		}
	}
	assertClean(t, run)
}

// TestBrokerRestartScenario stops the real broker for two seconds mid-run:
// commands keep committing, the relay and the projector recover on their
// own, and nothing is lost or applied twice.
func TestBrokerRestartScenario(t *testing.T) {
	run := runScenario(t, builtin(t, "broker-restart", "kind=broker-restart,at=2s,duration=2s"))
	for _, a := range run.Architectures {
		f := injected(t, a, 1)[0]
		o := f.DuringOutage
		if o == nil || o.CommandsApplied == 0 {
			t.Fatalf("%s during the outage: %+v; want commands applied (the write side does not need the broker)", a.Name, o)
		}
		if f.RecoverySeconds <= 0 {
			t.Errorf("%s: recovery %v s", a.Name, f.RecoverySeconds)
		}
	}
	assertClean(t, run)
}

// TestPGRestartScenario restarts PostgreSQL under crud and cqrs-kafka: the
// commands issued while it is down fail and are reported as such, the
// others are applied exactly once, and the run completes on its own.
func TestPGRestartScenario(t *testing.T) {
	sc := builtin(t, "pg-restart", "kind=pg-restart,at=2s,duration=1s")
	sc.Architectures = []scenarios.Arch{"crud", "cqrs-kafka"}
	run := runScenario(t, sc)
	for _, a := range run.Architectures {
		o := injected(t, a, 1)[0].DuringOutage
		if o == nil || o.CommandsFailed == 0 || o.ErrorKinds["unavailable"] == 0 {
			t.Errorf("%s during the outage: %+v; want failed commands of kind unavailable", a.Name, o)
		}
	}
	assertClean(t, run)
}

// TestReplicaFaults pauses the replay of the replica crud-replica reads,
// and cqrs-sync and cqrs-kafka with read_from: replica, for 2s, and in a second run
// restarts crud-replica's replica. While replay is paused, the prober sees
// writes become visible only when it resumes (visible lag over a second),
// with the WAL waiting counted; while the replica is down, its screens
// fail and the commands, on the primary, are applied. Both recover,
// nothing is lost.
func TestReplicaFaults(t *testing.T) {
	// onPack runs the architectures on the helpdesk workload pack instead
	// of the shop.
	var onPack *string
	run := func(t *testing.T, fault string, archs ...string) []results.Architecture {
		base, err := scenarios.Builtin("smoke")
		if err != nil {
			t.Fatal(err)
		}
		orders, duration := 3000, 5*time.Second
		sc, err := base.WithOverrides(scenarios.Overrides{Orders: &orders, Duration: &duration, Arch: archs, Faults: []string{fault},
			Workload: onPack, Options: []string{"cqrs-kafka/replica.read_from=replica", "cqrs-sync/replica.read_from=replica"}})
		if err != nil {
			t.Fatal(err)
		}
		sc.Load.Warmup = scenarios.Duration(time.Second)
		// Probe every write, polling as often as it takes, so that some
		// probes fall into the pause and see its end.
		sc.Prober.Sample, sc.Prober.MaxShare = 1, 1
		r := runScenario(t, sc)
		assertClean(t, r)
		return r.Architectures
	}
	pause := func(t *testing.T) {
		for _, a := range run(t, "kind=replica-pause,at=1s,duration=2s", "crud-replica", "cqrs-sync/replica", "cqrs-kafka/replica") {
			f := injected(t, a, 1)[0]
			if f.RecoverySeconds <= 0 || !strings.HasSuffix(f.Injections[0].Detail, "KB of WAL to replay when resumed") || strings.HasPrefix(f.Injections[0].Detail, "0 KB") {
				t.Errorf("%s replica-pause: %+v, want a recovery time and the WAL waiting when resumed", a.Name, f)
			}
			if a.Lag == nil || a.Lag.Visible.Max < float64(time.Second/time.Microsecond) || a.Lag.Replica == nil {
				t.Errorf("%s: visible lag %+v, want writes probed during the 2s pause to become visible only when it ends (> 1s), and the replica's lag sampled", a.Name, a.Lag)
			}
		}
	}
	t.Run("pause", pause)
	t.Run("restart", func(t *testing.T) {
		f := injected(t, run(t, "kind=replica-restart,at=1s,duration=1s", "crud-replica")[0], 1)[0]
		// order_then_list's read fails on the replica after its order
		// was placed on the primary: an applied command and a failed read.
		if o := f.DuringOutage; o == nil || o.ReadsFailed == 0 || o.CommandsApplied == 0 || o.CommandsFailed != 0 {
			t.Errorf("replica-restart during the outage: %+v; want failed screens, applied commands and none failed (they run on the primary)", o)
		}
		if f.RecoverySeconds <= 0 {
			t.Errorf("replica-restart: recovery %v s", f.RecoverySeconds)
		}
	})
	helpdesk, err := filepath.Abs("../../workloads/helpdesk")
	if err != nil {
		t.Fatal(err)
	}
	onPack = &helpdesk
	t.Run("pause on a workload pack", pause)
}

// TestPoisonScenario puts ten undecodable events on the topic: each is
// dead-lettered and the projector keeps applying the rest.
func TestPoisonScenario(t *testing.T) {
	run := runScenario(t, builtin(t, "poison"))
	for _, a := range run.Architectures {
		if f := injected(t, a, 1)[0]; f.Injected != 10 || a.Consistency.DeadLettered != 10 {
			t.Errorf("%s: injected %d poison events, dead-lettered %d; want 10 and 10", a.Name, f.Injected, a.Consistency.DeadLettered)
		}
	}
	assertClean(t, run)
}

// TestWALRelayFaults runs the WAL relay (relay: wal) on Kafka and RabbitMQ
// through relay crashes after the transport's confirmation (the slot
// resends the batch: duplicates, suppressed by the inbox) and before
// publishing (the slot, never told, resends it), and a PostgreSQL
// restart: nothing is lost or applied twice. (A broker restart fails its
// publishes, which the relay handles as the crash: not run again here, to
// keep make test under 20 minutes; it ran clean.)
func TestWALRelayFaults(t *testing.T) {
	wal := func(sc *scenarios.Scenario) *scenarios.Scenario {
		sc.Options["cqrs-kafka"].(*cqrskafka.Options).Relay = "wal"
		sc.Options["cqrs-rabbitmq"].(*cqrsrabbitmq.Options).Relay = "wal"
		return sc
	}
	t.Run("relay-crash", func(t *testing.T) {
		run := runScenario(t, wal(builtin(t, "crashes", "kind=relay-crash,at=1s,every=2s", "kind=relay-crash,point=before-publish,at=2s,every=2s,count=2")))
		for _, a := range run.Architectures {
			f := injected(t, a, 2)
			if f[0].Injected < 2 || a.Consistency.DuplicatesDelivered == 0 {
				t.Errorf("%s: %d relay crashes after the ack, %d duplicates delivered; want crashes and their batches resent from the slot", a.Name, f[0].Injected, a.Consistency.DuplicatesDelivered)
			}
			if f[1].Injected < 2 {
				t.Errorf("%s: %d relay crashes before publishing, want at least 2", a.Name, f[1].Injected)
			}
			if s := a.Lag.Slot; s == nil || s.Samples == 0 || s.RetainedBytesMax <= 0 || s.Lost {
				t.Errorf("%s: slot samples %+v; want the WAL relay's slot sampled through the load", a.Name, s)
			}
		}
		assertClean(t, run)
	})
	t.Run("pg-restart", func(t *testing.T) {
		// PostgreSQL 15 may forget the slot's latest position over a
		// restart: the slot resends events whose rows the relay deleted.
		sc := builtin(t, "pg-restart", "kind=pg-restart,at=2s,duration=1s")
		sc.Architectures = []scenarios.Arch{"cqrs-kafka", "cqrs-rabbitmq"}
		run := runScenario(t, wal(sc))
		for _, a := range run.Architectures {
			injected(t, a, 1)
		}
		assertClean(t, run)
	})
}

// TestVisibilityGapScenario holds transactions open while later outbox ids
// commit. The skip-locked relay publishes every event; the naive-cursor
// relay (the negative control) loses the late ones, and the checker and
// the thresholds say so.
func TestVisibilityGapScenario(t *testing.T) {
	for _, mode := range []string{"skip-locked", "wal", "naive-cursor"} {
		t.Run(string(mode), func(t *testing.T) {
			sc := builtin(t, "visibility-gap")
			sc.Options["cqrs-kafka"].(*cqrskafka.Options).Relay = mode
			run := runScenario(t, sc)
			a := run.Architectures[0]
			if f := injected(t, a, 1)[0]; f.Injected < 3 {
				t.Errorf("injected %d held transactions, want at least 3", f.Injected)
			}
			if mode != "naive-cursor" {
				assertClean(t, run) // the WAL sends transactions in commit order: no gap
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

// TestCatchUpScenario pauses the projector until 1,000 records wait, then
// measures the catch-up: every record of the backlog is applied, or was a
// duplicate the inbox suppressed (a relay that republished under load; CI
// saw 1,027 applied of 1,029 once).
func TestCatchUpScenario(t *testing.T) {
	run := runScenario(t, builtin(t, "catch-up", "kind=catch-up,at=1s,events=1000,duration=4s"))
	for _, a := range run.Architectures {
		cu := injected(t, a, 1)[0].CatchUp
		var dups int64
		if a.Consistency != nil {
			dups = a.Consistency.DuplicatesDelivered
		}
		if cu == nil || cu.Backlog < 1000 || cu.Applied+dups < cu.Backlog || cu.EventsPerSecond <= 0 || cu.RejoinSeconds <= 0 || cu.DrainEventsPerSecond <= 0 {
			t.Fatalf("%s catch-up %+v; want a backlog of at least 1000 applied at a measured rate", a.Name, cu)
		}
	}
	assertClean(t, run)
}

// TestVersionGuardNegativeControl: competing workers apply a backlog of
// events in no particular order per order; without the version guard an
// older snapshot overwrites a newer one, and the checker and the
// thresholds report it (run exits 1).
func TestVersionGuardNegativeControl(t *testing.T) {
	sc := builtin(t, "catch-up", "kind=catch-up,at=1s,events=1500,duration=4s")
	sc.Architectures = []scenarios.Arch{"cqrs-rabbitmq"}
	o := sc.Options.For("cqrs-rabbitmq").(*cqrsrabbitmq.Options)
	o.VersionGuard = false // each of the 4 workers takes its own stretch of the backlog: versions of one order apply out of order
	sc.Options["cqrs-rabbitmq"] = o
	run := runScenario(t, sc)
	c := run.Architectures[0].Consistency
	t.Logf("version guard off: %+v", *c)
	if c.Mismatched == 0 || c.Violations == 0 || !results.Failed(run.Thresholds) {
		t.Errorf("negative control: %d rows mismatched, %d violations, thresholds failed %v; want the damage reported",
			c.Mismatched, c.Violations, results.Failed(run.Thresholds))
	}
}

// TestRebuildScenario rebuilds the read models from the topic after the
// load.
func TestRebuildScenario(t *testing.T) {
	run := runScenario(t, builtin(t, "rebuild"))
	for _, a := range run.Architectures {
		rb := injected(t, a, 1)[0].Rebuild
		if rb == nil || rb.Events < 3000 || rb.EventsPerSecond <= 0 {
			t.Fatalf("%s rebuild %+v; want at least the 3000 snapshot events replayed at a measured rate", a.Name, rb)
		}
	}
	assertClean(t, run)
}

// TestRebuildDuringLoad rebuilds the read models while commands keep
// coming and the relays keep publishing: events in flight during the
// rebuild (claimed, delivered, even acknowledged before it began) must all
// end up applied once.
func TestRebuildDuringLoad(t *testing.T) {
	run := runScenario(t, builtin(t, "rebuild", "kind=rebuild,at=2s"))
	for _, a := range run.Architectures {
		if rb := injected(t, a, 1)[0].Rebuild; rb == nil || rb.Events < 3000 {
			t.Fatalf("%s rebuild %+v; want at least the 3000 snapshot events replayed", a.Name, rb)
		}
	}
	assertClean(t, run)
}

// TestWALRelayNeedsLogicalDecodingExit3: relay: wal against a server
// whose wal_level is replica fails the run as an unavailable service
// (exit 3), naming the setting to change.
func TestWALRelayNeedsLogicalDecodingExit3(t *testing.T) {
	brokers := sharedEnv(t).KafkaBrokers()
	c, err := pglocal.Start(t.Context(), pglocal.Options{Settings: map[string]string{"wal_level": "replica"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	env, err := infra.Open(t.Context(), infra.Config{Provider: infra.ProviderExternal, PostgresDSN: c.DSN(), KafkaBrokers: brokers})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.Close(context.Background()) })
	sc := builtin(t, "smoke")
	sc.Architectures = []scenarios.Arch{"cqrs-kafka"}
	sc.Options["cqrs-kafka"].(*cqrskafka.Options).Relay = "wal"
	_, err = bench.Run(t.Context(), bench.Config{Scenario: sc, Infra: env})
	var coded interface{ ExitCode() int }
	if !errors.As(err, &coded) || coded.ExitCode() != 3 || !strings.Contains(err.Error(), "wal_level = logical") {
		t.Fatalf("run with relay wal on wal_level=replica: %v; want exit 3 saying to set wal_level = logical", err)
	}
	t.Log(err)
}
