package report_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/compare"
	"github.com/cqrsbench/cqrsbench/harness/report"
)

// TestCompareGolden renders a comparison of the fixture with a later run
// of it in which cqrs-kafka's list_orders p99 and lag grew and crud got
// faster, on a machine with more CPUs.
func TestCompareGolden(t *testing.T) {
	t.Parallel()
	base, res := fixture(t), fixture(t)
	res.StartedAt = res.StartedAt.Add(24 * time.Hour)
	res.Environment.Host.CPUs = 4
	for i := range res.Architectures {
		a := &res.Architectures[i]
		switch a.Name {
		case "crud":
			for j := range a.Ops {
				a.Ops[j].Latency.P99 *= 0.5
			}
		case "cqrs-kafka":
			for j := range a.Ops {
				if a.Ops[j].Name == "list_orders" {
					a.Ops[j].Latency.P99 *= 1.6
				}
			}
			a.Lag.Stages[len(a.Lag.Stages)-1].Stats.P99 *= 2
		}
	}
	rep, err := compare.Runs(base, res, compare.DefaultOptions())
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := report.CompareText(&b, report.Side{Path: "results/baselines/mixed.json", Run: base},
		report.Side{Path: "results/mixed-20260315T092653Z.json", Run: res}, rep); err != nil {
		t.Fatal(err)
	}
	golden(t, "compare.golden", b.Bytes())
}
