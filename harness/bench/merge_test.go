package bench

import (
	"testing"

	"github.com/cqrsbench/cqrsbench/harness/hist"
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

// TestMergeRoundsMergesLagAndRefreshes: every lag stage and the
// materialized-view refreshes of both rounds count, not the first round's
// alone.
func TestMergeRoundsMergesLagAndRefreshes(t *testing.T) {
	stats := func(us ...int64) results.Stats {
		h := hist.New()
		for _, v := range us {
			_ = h.RecordValue(v)
		}
		st, err := results.StatsFrom(hist.Merge(hist.Snapshot{Hist: h}))
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	a := results.Architecture{Name: "cqrs-kafka",
		Lag:     &results.Lag{Stages: []results.Stage{{Name: results.StageEndToEnd, Stats: stats(1000, 2000)}}, Visible: stats(1500), ProbeTimeouts: 1},
		Refresh: &results.Refresh{Count: 2, Stats: stats(40_000, 50_000)}}
	b := results.Architecture{Name: "cqrs-kafka",
		Lag:     &results.Lag{Stages: []results.Stage{{Name: results.StageEndToEnd, Stats: stats(3000, 90_000)}}, Visible: stats(2500, 2600)},
		Refresh: &results.Refresh{Count: 1, Errors: 1, Stats: stats(60_000)}}
	m := mergeArchitecture([]results.Architecture{a}, b)[0]
	e2e, ok := m.Lag.Stage(results.StageEndToEnd)
	if !ok || e2e.Stats.Count != 4 || e2e.Stats.Max < 89_000 {
		t.Errorf("end_to_end after two rounds: %+v, want all 4 samples, max from round 2", e2e.Stats)
	}
	if m.Lag.Visible.Count != 3 || m.Lag.ProbeTimeouts != 1 {
		t.Errorf("visible %+v, timeouts %d", m.Lag.Visible, m.Lag.ProbeTimeouts)
	}
	if r := m.Refresh; r.Count != 3 || r.Errors != 1 || r.Stats.Count != 3 {
		t.Errorf("refreshes %+v, want both rounds'", *r)
	}
	// A round without lag does not drop the other's.
	if got := mergeArchitecture([]results.Architecture{{Name: "x"}}, results.Architecture{Name: "x", Lag: b.Lag})[0].Lag; got == nil {
		t.Error("the second round's lag was dropped because the first had none")
	}
}
