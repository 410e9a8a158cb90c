package report_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cqrsbench/cqrsbench/harness/report"
	"github.com/cqrsbench/cqrsbench/harness/results"
)

// withRelayLag gives a's rounds a committed→claimed and an end-to-end lag
// stage: claimed p50 (ms) in each round, end to end 2 ms more.
func withRelayLag(a results.Architecture, claimedP50 ...float64) results.Architecture {
	for i := range a.Rounds {
		c := claimedP50[i] * 1000
		a.Rounds[i].Lag = []results.RoundOp{
			{Name: "committed→claimed", Count: 2400, P50: c, P99: 3 * c},
			{Name: results.StageEndToEnd, Count: 2400, P50: c + 2000, P99: 3*c + 2000},
		}
	}
	return a
}

// TestVariantsCompareWithTheirArchitectureRoundByRound: a variant whose
// relay claims in half the time is called lower on that stage and on the
// end-to-end lag, its unchanged operations not distinguishable; an
// architecture without its variant, or a variant without its
// architecture, gives no comparison.
func TestVariantsCompareWithTheirArchitectureRoundByRound(t *testing.T) {
	base := withRelayLag(roundsArch("cqrs-kafka", []float64{2, 2.1, 2.03}, []float64{4, 4.2, 3.9}), 2.4, 2.6, 2.5)
	wal := withRelayLag(roundsArch("cqrs-kafka/wal", []float64{2.05, 2.0, 2.1}, []float64{4.1, 4.0, 4.0}), 1.2, 1.25, 1.3)
	got := report.Variants(&results.Run{Architectures: []results.Architecture{base, wal}})
	if len(got) != 1 || got[0].Variant != "cqrs-kafka/wal" || got[0].Of != "cqrs-kafka" || got[0].Rounds != 3 {
		t.Fatalf("Variants = %+v, want cqrs-kafka/wal against cqrs-kafka over 3 rounds", got)
	}
	calls := map[string]string{}
	for _, m := range got[0].Measures {
		calls[m.Kind+" "+m.Measure] = m.P50.Call
		if m.Measure == "committed→claimed" && (m.P50.Estimate < 0.45 || m.P50.Estimate > 0.55) {
			t.Errorf("committed→claimed p50 ratio %.2f, want about 0.5", m.P50.Estimate)
		}
	}
	want := map[string]string{
		"lag committed→claimed":  results.Better,
		"lag end_to_end":         results.Better,
		"operation list_orders":  results.Same,
		"operation create_order": results.Same,
	}
	for k, w := range want {
		if calls[k] != w {
			t.Errorf("%s: p50 call %q, want %q (all: %v)", k, calls[k], w, calls)
		}
	}

	var text strings.Builder
	run := payoffRun(base, wal)
	if err := (report.Text{}).Write(&text, run); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text.String(), "cqrs-kafka/wal against cqrs-kafka") || !strings.Contains(text.String(), "| lag committed→claimed | 2.0x lower") {
		t.Errorf("text report lacks the variant's table:\n%s", text.String())
	}
	_, table, _ := strings.Cut(text.String(), "cqrs-kafka/wal against")
	table, _, _ = strings.Cut(table, "\n\n")
	for _, line := range strings.Split(table, "\n") {
		if n := utf8.RuneCountInString(line); n > 100 {
			t.Errorf("line of %d columns (at most 100): %s", n, line)
		}
	}

	for _, alone := range [][]results.Architecture{{base}, {wal}} {
		if got := report.Variants(&results.Run{Architectures: alone}); got != nil {
			t.Errorf("Variants of %s alone = %+v, want none", alone[0].Name, got)
		}
	}
}
