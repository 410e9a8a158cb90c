package bench

import (
	"testing"

	"github.com/cqrsbench/cqrsbench/harness/results"
)

// TestMergeRoundsKeepsDamageAndFaults: interleaved rounds of one
// architecture merge into one result in which damage found in either round
// counts and every injection of each fault is kept.
func TestMergeRoundsKeepsDamageAndFaults(t *testing.T) {
	a := results.Architecture{Name: "cqrs-kafka",
		Consistency: &results.Consistency{EventsCommitted: 100, DuplicatesDelivered: 3},
		Faults: []results.Fault{{Kind: "pg-restart", Injected: 1, RecoverySeconds: 2,
			Injections:   []results.Injection{{RecoverySeconds: 2}},
			DuringOutage: &results.OutageOps{CommandsFailed: 5, ErrorKinds: map[string]int64{"unavailable": 5}}}}}
	b := results.Architecture{Name: "cqrs-kafka",
		Consistency: &results.Consistency{EventsCommitted: 90, Violations: 2, EventsLost: 2,
			Tables: []results.TableDiff{{Table: "order_read_model", Missing: 2}}},
		Faults: []results.Fault{{Kind: "pg-restart", Injected: 1, RecoverySeconds: 3,
			Injections:   []results.Injection{{RecoverySeconds: 3}},
			DuringOutage: &results.OutageOps{CommandsFailed: 4, CommandsApplied: 1, ErrorKinds: map[string]int64{"unavailable": 4}}}}}
	m := mergeArchitecture([]results.Architecture{a}, b)
	if len(m) != 1 {
		t.Fatalf("%d architectures after merging two rounds of one", len(m))
	}
	c := m[0].Consistency
	if c.Violations != 2 || c.EventsLost != 2 || c.EventsCommitted != 190 || c.DuplicatesDelivered != 3 || len(c.Tables) != 1 {
		t.Errorf("consistency %+v: the second round's damage must count", *c)
	}
	f := m[0].Faults
	if len(f) != 1 || f[0].Injected != 2 || len(f[0].Injections) != 2 || f[0].RecoverySeconds != 3 {
		t.Fatalf("faults %+v", f)
	}
	if o := f[0].DuringOutage; o.CommandsFailed != 9 || o.CommandsApplied != 1 || o.ErrorKinds["unavailable"] != 9 {
		t.Errorf("during outage %+v", *o)
	}
	if a.Consistency.Violations != 0 || a.Faults[0].Injected != 1 {
		t.Error("merging changed the first round's result")
	}
}
