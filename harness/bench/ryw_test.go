package bench_test

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/workload"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// TestReadYourWritesPolicies runs order_then_list (a read right after the
// reader's own order) on crud-replica and cqrs-kafka under each policy,
// all in one run: each policy but none on a variant named after it
// (read_your_writes.policies), as a user compares them in the same
// rounds. With none some of those reads miss the new order on both (the
// replica and the pipeline lag); primary-after-write (reads redirected to
// the write model) and wait-for-token (reads retried until they show it)
// let none miss it. On the helpdesk workload pack, assign_then_my_tickets
// (an agent takes a ticket and opens their list) does the same.
func TestReadYourWritesPolicies(t *testing.T) {
	helpdesk, err := filepath.Abs("../../workloads/helpdesk")
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct {
		name string
		dir  *string
		mix  scenarios.Mix // nil: the scenario's
	}{
		{"shop", nil, nil},
		{"helpdesk", &helpdesk, scenarios.Mix{"assign_then_my_tickets": 40, "my_tickets": 40, "add_comment": 20}},
	} {
		t.Run(w.name, func(t *testing.T) { readYourWrites(t, w.dir, w.mix) })
	}
}

// readYourWrites runs the read-your-writes scenario with every policy, on
// the pack in dir with mix when dir is not nil, and checks what each
// policy did to the own-write reads.
func readYourWrites(t *testing.T, dir *string, mix scenarios.Mix) {
	base, err := scenarios.Builtin("read-your-writes")
	if err != nil {
		t.Fatal(err)
	}
	var archs, policies []string
	want := map[string]string{} // architecture → its policy
	for _, arch := range []string{"crud-replica", "cqrs-kafka"} {
		for _, policy := range workload.RYWPolicies() {
			name := arch
			if policy != workload.RYWNone {
				name = arch + "/" + policy
				policies = append(policies, name+"="+policy)
			}
			archs, want[name] = append(archs, name), policy
		}
	}
	orders, duration := 3000, 3*time.Second
	sc, err := base.WithOverrides(scenarios.Overrides{Orders: &orders, Duration: &duration,
		Arch: []string{strings.Join(archs, ",")}, ReadYourWrites: policies, Workload: dir})
	if err != nil {
		t.Fatal(err)
	}
	if mix != nil {
		sc.Mix = mix
	}
	sc.Load.Warmup = scenarios.Duration(time.Second)
	sc.Interleaving = scenarios.Interleaving{Mode: scenarios.Sequential, Rounds: 1}
	run := runScenario(t, sc)
	if len(run.Architectures) != len(archs) {
		t.Fatalf("%d architectures in the results, want %d (%v)", len(run.Architectures), len(archs), archs)
	}
	for _, a := range run.Architectures {
		s, rw, policy := a.Staleness, a.ReadYourWrites, want[a.Name]
		t.Logf("%s %s: %d own-write reads, %d stale; %+v", a.Name, policy, s.OwnWriteReads, s.OwnWriteStale, rw)
		if s.OwnWriteReads < 80 {
			t.Fatalf("%s: %d own-write reads, want order_then_list's (20%% of 600)", a.Name, s.OwnWriteReads)
		}
		if policy != workload.RYWNone && (rw == nil || rw.Policy != policy) {
			t.Fatalf("%s: policy stats %+v, want %s's", a.Name, rw, policy)
		}
		switch policy {
		case workload.RYWNone:
			if s.OwnWriteStale == 0 || rw != nil {
				t.Errorf("%s without a policy: %d own-write reads stale, policy stats %+v; want some stale (its reads lag), no stats", a.Name, s.OwnWriteStale, rw)
			}
		case workload.RYWPrimaryAfterWrite:
			if s.OwnWriteStale != 0 || rw.Redirected < s.OwnWriteReads {
				t.Errorf("%s: %d own-write reads stale, %+v; want none stale, each own-write read redirected", a.Name, s.OwnWriteStale, rw)
			}
		case workload.RYWWaitForToken:
			if s.OwnWriteStale != 0 || rw.Waited == 0 || rw.TimedOut != 0 {
				t.Errorf("%s: %d own-write reads stale, %+v; want none stale, some reads waited, none timed out", a.Name, s.OwnWriteStale, rw)
			}
		}
	}
}
