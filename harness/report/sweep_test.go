package report_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cqrsbench/cqrsbench/harness/report"
	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// sweepRun is a sweep over orders per customer where crud's list_orders
// grows with the page and cqrs-sync's stays flat, and cqrs-sync's
// predicted capacity goes from 0.6x crud's to 1.5x: it does not pay off
// at 5, it does from 50.
func sweepRun() *results.Run {
	run := payoffRun()
	run.Sweep = &results.Sweep{Parameter: "orders_per_customer"}
	for _, pt := range []struct {
		value      float64
		crud, sync []float64
		capacity   float64 // cqrs-sync's over crud's 1000/s
	}{
		{5, []float64{2, 2.1, 2.05}, []float64{1.95, 2.05, 2}, 0.6},
		{50, []float64{6, 7, 6.5}, []float64{1.2, 1.4, 1.3}, 1.5},
		{500, []float64{30, 33, 31}, []float64{1.3, 1.5, 1.4}, 1.5},
	} {
		writes := []float64{4, 4.2, 3.9}
		c := pt.capacity * 1000
		p := results.SweepPoint{Value: pt.value, Architectures: []results.Architecture{
			withCapacity(roundsArch("crud", pt.crud, writes), 1000, 1050, 980),
			withCapacity(roundsArch("cqrs-sync", pt.sync, writes), c, c*1.05, c*0.98)}}
		p.Payoff = report.Payoff(run.Point(p))
		run.Sweep.Points = append(run.Sweep.Points, p)
	}
	last := run.Sweep.Points[len(run.Sweep.Points)-1]
	run.Architectures, run.Payoff = last.Architectures, last.Payoff
	return run
}

// TestSweepReport: the text report leads with a row per point and
// architecture, each read's p99 over crud's and the point's verdict, then
// says where the verdict changes; the HTML report charts each read's p99
// against the swept value, a dot per point and architecture.
func TestSweepReport(t *testing.T) {
	run := sweepRun()
	var text bytes.Buffer
	if err := (report.Text{}).Write(&text, run); err != nil {
		t.Fatal(err)
	}
	out := text.String()
	for _, want := range []string{
		"Sweep over orders_per_customer",
		"the last point's (orders_per_customer = 500)",
		"| orders_per_customer | crud |  cqrs-sync  |",
		"|                   5 | no, 0.60x |",
		"|                  50 | yes, 1.5x |",
		"cqrs-sync: does not pay off at orders_per_customer = 5, then pays off from orders_per_customer =\n    50",
		"cqrs-sync: its predicted capacity crosses crud's at orders_per_customer ≈ 25",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	// The p99 over crud's at 500 orders per customer, from the merged
	// figures (roundsArch's are round 0's): 1.3 / 30.
	if !strings.Contains(out, "| 30.0 | 1.30 0.043x |") {
		t.Errorf("text report lacks cqrs-sync's p99 ratio at 500 (1.3/30 → 0.043x):\n%s", out)
	}

	var page bytes.Buffer
	if err := report.HTML(&page, []report.Side{{Run: run, Path: "sweep.json"}}); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	if !strings.Contains(html, "list_orders p99 against orders_per_customer") {
		t.Errorf("HTML report has no sweep chart for list_orders")
	}
	if n := strings.Count(html, "<circle"); n != 6 {
		t.Errorf("HTML report has %d points in its sweep charts, want 6 (2 architectures × 3 values)", n)
	}
	for _, tick := range []string{">5<", ">50<", ">500<"} {
		if !strings.Contains(html, tick) {
			t.Errorf("HTML sweep chart lacks the x tick %s", tick)
		}
	}
}

// readShareRun is a read-share sweep at 10%, 50% and 90% reads where crud
// costs 2,000 µs of CPU per read and 500 per command, cqrs-sync 300 and
// 900: their capacities meet where 500 + 1500·s = 900 − 600·s, at 19%
// reads.
func readShareRun() *results.Run {
	run := payoffRun()
	run.Sweep = &results.Sweep{Parameter: "read_share"}
	demand := map[string][2]float64{"crud": {2000e-6, 500e-6}, "cqrs-sync": {300e-6, 900e-6}}
	for _, s := range []float64{0.1, 0.5, 0.9} {
		p := results.SweepPoint{Value: s, ReadShare: s, Mix: scenarios.Mix{"list_orders": s, "create_order": 1 - s}}
		for _, name := range []string{"crud", "cqrs-sync"} {
			d := s*demand[name][0] + (1-s)*demand[name][1]
			a := withCapacity(roundsArch(name, []float64{2, 2.1, 2}, []float64{4, 4.2, 3.9}), 2/d, 2/d*1.03, 2/d*0.98)
			a.Cost = &results.Cost{Seconds: 10, Ops: 1000, HostCPUs: 2, HostCPUSeconds: d * 1000, PredictedMaxRate: 2 / d}
			p.Architectures = append(p.Architectures, a)
		}
		p.Payoff = report.Payoff(run.Point(p))
		run.Sweep.Points = append(run.Sweep.Points, p)
	}
	return run
}

// TestReadShareCrossover: the demands per read and per command are fitted
// back from the points, the crossover read share is found and confirmed
// by the points' own calls, and the HTML report charts the capacities
// with the crossover marked.
func TestReadShareCrossover(t *testing.T) {
	run := readShareRun()
	var text bytes.Buffer
	if err := (report.Text{}).Write(&text, run); err != nil {
		t.Fatal(err)
	}
	out := text.String()
	for _, want := range []string{
		"| crud         |    2000 |        500 |",
		"| cqrs-sync    |     300 |        900 |",
		"| cqrs-sync    |     300 |        900 |     2222 |      3333 |       6667 |            19% |",
		"cqrs-sync: predicted capacity above crud's above 19% reads (confirmed: the points' intervals\n    call it lower below and higher above)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("text report lacks %q:\n%s", want, out)
		}
	}
	for _, p := range run.Sweep.Points {
		if p.Payoff.ReadShare != p.ReadShare {
			t.Errorf("the verdict at %v reads weighs %v reads: want the point's own mix", p.ReadShare, p.Payoff.ReadShare)
		}
	}
	var page bytes.Buffer
	if err := report.HTML(&page, []report.Side{{Run: run, Path: "rs.json"}}); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	for _, want := range []string{"capacity by read share (line: model; dot: a point&#39;s prediction; ring: measured)", "cqrs-sync = crud at 19%", `class="mark"`} {
		if !strings.Contains(html, want) {
			t.Errorf("HTML report lacks %q", want)
		}
	}
}
