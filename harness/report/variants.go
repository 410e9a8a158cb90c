package report

import (
	"fmt"
	"strings"

	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
)

// Variants compares each variant of run (an architecture run again under
// "<name>/<label>" with options of its own, like cqrs-kafka/wal) with its
// architecture, round by round as Payoff compares with crud: the p50 and
// p99 ratios, variant over architecture, of every lag stage and every
// operation both recorded, each with its 95% interval and called only
// beyond minEffect. Nil when no variant ran beside its architecture.
func Variants(run *results.Run) []results.VariantComparison {
	if run == nil {
		return nil
	}
	var out []results.VariantComparison
	for i := range run.Architectures {
		v := &run.Architectures[i]
		of, _, ok := catalog.Variant(v.Name)
		if !ok {
			continue
		}
		base, ok := run.Arch(of)
		if !ok {
			continue
		}
		c := results.VariantComparison{Variant: v.Name, Of: of, Rounds: pairedRounds(v, base)}
		add := func(kind, name string, pick func(results.Round) (results.RoundOp, bool)) {
			// Lower is better for both: worseIfAbove.
			if p50, p99, ok50, ok99 := percentileRatios(v, base, pick, true); ok50 && ok99 {
				c.Measures = append(c.Measures, results.MeasureRatio{Measure: name, Kind: kind, P50: p50, P99: p99})
			}
		}
		for _, stage := range lagStages(base) {
			add(results.MeasureLag, stage, lagIn(stage))
		}
		for _, op := range base.Ops {
			add(results.MeasureOperation, op.Name, opIn(op.Name))
		}
		out = append(out, c)
	}
	return out
}

// pairedRounds counts the rounds a and b both ran.
func pairedRounds(a, b *results.Architecture) int {
	n := 0
	for _, ra := range roundsOf(a) {
		for _, rb := range roundsOf(b) {
			if ra.Round == rb.Round {
				n++
			}
		}
	}
	return n
}

// lagStages names a's lag stages in the order its rounds recorded them.
func lagStages(a *results.Architecture) []string {
	var names []string
	seen := map[string]bool{}
	for _, r := range roundsOf(a) {
		for _, st := range r.Lag {
			if !seen[st.Name] {
				seen[st.Name] = true
				names = append(names, st.Name)
			}
		}
	}
	return names
}

// variantTables writes one table per variant: its ratios to its
// architecture, with their intervals and calls.
func variantTables(b *page, run *results.Run) error {
	comparisons := run.Variants
	if comparisons == nil {
		comparisons = Variants(run)
	}
	for _, c := range comparisons {
		t := table{
			title: strings.TrimSuffix(wrap(fmt.Sprintf("%s against %s (p50 and p99 ratios, variant ÷ architecture, [%.0f%% intervals] across %s; differences under %s are not called; %s: too few samples a round to call)",
				c.Variant, c.Of, confidence*100, plural(int64(c.Rounds), "round", "interleaved rounds"), pct(minEffect), tooFewMark), "", 100), "\n"),
			header: []string{"measure", "p50", "p99", "the variant's"},
			align:  "llll",
		}
		for _, m := range c.Measures {
			name := m.Measure
			if m.Kind == results.MeasureLag {
				name = "lag " + name
			}
			t.rows = append(t.rows, []string{name, variantRatio(m.P50), variantRatio(m.P99), variantCall(m)})
		}
		if len(t.rows) == 0 {
			continue
		}
		if err := render(b, t); err != nil {
			return err
		}
	}
	return nil
}

// tooFewMark follows a ratio that had too few samples a round to call.
const tooFewMark = "†"

// variantRatio says r as ratioWords does, marking a ratio with too few
// samples with tooFewMark.
func variantRatio(r results.Ratio) string {
	few := r.TooFewSamples
	r.TooFewSamples = false
	s := ratioWords(r, "higher", "lower")
	if few {
		s += " " + tooFewMark
	}
	return s
}

// variantCall says whether m is lower or higher for the variant, or
// neither.
func variantCall(m results.MeasureRatio) string {
	switch combine(m.P50.Call, m.P99.Call) {
	case results.Better:
		return "lower"
	case results.Worse:
		return "higher"
	}
	return "not distinguishable"
}
