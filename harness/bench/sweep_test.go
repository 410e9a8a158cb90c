package bench_test

import (
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/bench"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// TestSweepRunsEachPoint sweeps smoke's 2,000 orders over 1,000 and then
// 100 customers: each point loads its own dataset and runs every
// architecture, the points keep their own figures and verdicts, and the
// top-level figures are the last point's.
func TestSweepRunsEachPoint(t *testing.T) {
	env := sharedEnv(t)
	sc, err := scenarios.Builtin("smoke")
	if err != nil {
		t.Fatal(err)
	}
	sw, err := scenarios.ParseSweep("orders_per_customer=2,20")
	if err != nil {
		t.Fatal(err)
	}
	sc, err = sc.WithOverrides(scenarios.Overrides{Arch: []string{"crud,cqrs-sync"}, Sweep: sw})
	if err != nil {
		t.Fatal(err)
	}
	run, err := bench.Run(t.Context(), bench.Config{Scenario: sc, Infra: env, Progress: testWriter{t}})
	if err != nil {
		t.Fatal(err)
	}
	if run.Sweep == nil || run.Sweep.Parameter != "orders_per_customer" || len(run.Sweep.Points) != 2 {
		t.Fatalf("sweep %+v, want orders_per_customer at 2 points", run.Sweep)
	}
	for i, want := range []int{1000, 100} {
		p := run.Sweep.Points[i]
		if p.Dataset.Customers != want || p.Dataset.Orders != 2000 {
			t.Errorf("point %v: dataset %+v, want 2000 orders over %d customers", p.Value, p.Dataset, want)
		}
		if len(p.Architectures) != 2 || p.Payoff == nil {
			t.Fatalf("point %v: %d architectures, payoff %v; want crud and cqrs-sync judged", p.Value, len(p.Architectures), p.Payoff)
		}
		for _, a := range p.Architectures {
			if lo, ok := a.Op("list_orders"); !ok || lo.Count == 0 || a.Consistency == nil || a.Consistency.Violations != 0 {
				t.Errorf("point %v, %s: list_orders %+v, consistency %+v; want reads measured and a clean check", p.Value, a.Name, lo, a.Consistency)
			}
		}
	}
	last := run.Sweep.Points[1].Architectures
	if len(run.Architectures) != 2 || run.Architectures[0].Load != last[0].Load {
		t.Errorf("top-level architectures are not the last point's")
	}
}

// TestFullScreenOfLaterOrdersIsNotStale loads one customer with 20,000
// orders dated tomorrow (the dataset fills the whole of its day): every
// order the run creates sorts below a full screen of them and is rightly
// not shown, so no read is stale and the prober skips those writes instead
// of polling until its timeout.
func TestFullScreenOfLaterOrdersIsNotStale(t *testing.T) {
	env := sharedEnv(t)
	sc, err := scenarios.Builtin("smoke")
	if err != nil {
		t.Fatal(err)
	}
	orders := 20000
	sc, err = sc.WithOverrides(scenarios.Overrides{Arch: []string{"crud"}, Orders: &orders})
	if err != nil {
		t.Fatal(err)
	}
	sc.Dataset.Customers = 1
	if err := sc.Validate(); err != nil {
		t.Fatal(err)
	}
	tomorrow := func() time.Time { return time.Now().Add(24 * time.Hour) }
	run, err := bench.Run(t.Context(), bench.Config{Scenario: sc, Infra: env, Progress: testWriter{t}, Now: tomorrow})
	if err != nil {
		t.Fatal(err)
	}
	a := run.Architectures[0]
	if a.Staleness.Reads == 0 || a.Staleness.Stale != 0 {
		t.Errorf("crud: %d of %d reads stale, want none: its screen is full of later orders", a.Staleness.Stale, a.Staleness.Reads)
	}
	if a.Lag == nil || a.Lag.ProbesSkipped == 0 || a.Lag.ProbeTimeouts != 0 {
		t.Errorf("crud: prober %+v, want the created orders skipped as off screen, no timeout", a.Lag)
	}
}
