package report

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"

	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
)

// sweepTable writes a sweep's points: per read, its p99 at each value for
// each architecture (with the ratio to crud's); then each CQRS
// architecture's verdict and predicted capacity over crud's at each value,
// and where a verdict or the capacity changes sides. Nothing without a
// sweep.
func sweepTable(b *page, run *results.Run) error {
	sw := run.Sweep
	if sw == nil || len(sw.Points) == 0 {
		return nil
	}
	names := sweepArchitectures(sw)
	last := sweepValue(sw.Points[len(sw.Points)-1].Value)
	fmt.Fprintf(b, "\nSweep over %s: the whole scenario once per value; the tables after the sweep's are\n"+
		"the last point's (%s = %s)\n", sw.Parameter, sw.Parameter, last)
	for _, op := range sweepReads(run) {
		header := append([]string{sw.Parameter}, names...)
		var rows [][]string
		for _, p := range sw.Points {
			crud, hasCrud := archOf(p.Architectures, catalog.Baseline())
			row := []string{sweepValue(p.Value)}
			for _, name := range names {
				a, ok := archOf(p.Architectures, name)
				o, hasOp := a.Op(op)
				if !ok || !hasOp || o.Latency.Count == 0 {
					row = append(row, noData)
					continue
				}
				cell := ms(o.Latency.P99)
				if c, ok := crud.Op(op); hasCrud && ok && name != catalog.Baseline() && c.Latency.P99 > 0 {
					cell += " " + ratio(o.Latency.P99/c.Latency.P99)
				}
				row = append(row, cell)
			}
			rows = append(rows, row)
		}
		title := op + " p99, ms, from the intended start, at each point (after a CQRS figure: its ratio to crud's)"
		if err := render(b, table{title, header, rows, strings.Repeat("r", len(header)), nil}); err != nil {
			return err
		}
	}
	var cqrs []string
	for _, name := range names {
		if name != catalog.Baseline() {
			cqrs = append(cqrs, name)
		}
	}
	var rows [][]string
	for _, p := range sw.Points {
		row := []string{sweepValue(p.Value)}
		for _, name := range cqrs {
			cell := outcomeAt(p.Payoff, name)
			if c := capacityAt(p.Payoff, name); c != nil {
				cell += ", " + ratio(c.Estimate)
				if c.Call == results.Same || c.TooFewSamples {
					cell += " (same)"
				}
			}
			row = append(row, cell)
		}
		rows = append(rows, row)
	}
	if len(cqrs) > 0 {
		title := "Payoff at each point (yes: pays off; no: does not; same: not distinguishable), then the\n" +
			"predicted capacity over crud's ((same): its interval includes 1 ± 10%)"
		if err := render(b, table{title, append([]string{sw.Parameter}, cqrs...), rows, strings.Repeat("r", len(cqrs)+1), nil}); err != nil {
			return err
		}
	}
	for _, line := range sweepCrossovers(sw) {
		writeWrapped(b, line, "  - ", "    ", 100)
	}
	return nil
}

// archOf returns the architecture called name among archs.
func archOf(archs []results.Architecture, name string) (results.Architecture, bool) {
	for _, a := range archs {
		if a.Name == name {
			return a, true
		}
	}
	return results.Architecture{}, false
}

// sweepReads returns the run's queries (its reads) that ran at some
// point of its sweep, in the workload's order; every operation when the
// run does not say which are queries.
func sweepReads(run *results.Run) []string {
	ran := map[string]bool{}
	for _, p := range run.Sweep.Points {
		for _, a := range p.Architectures {
			for _, o := range a.Ops {
				ran[o.Name] = ran[o.Name] || o.Count > 0
			}
		}
	}
	var reads []string
	for _, op := range run.Operations {
		if op.Query && ran[op.Name] {
			reads = append(reads, op.Name)
		}
	}
	if len(reads) == 0 {
		return opOrder(run)
	}
	return reads
}

// sweepValue formats a swept value: 5, 0.35, 1e+06 as 1000000.
func sweepValue(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// outcomeAt is an architecture's verdict at one point in a word: yes,
// no, same (not distinguishable), or no data.
func outcomeAt(p *results.Payoff, name string) string {
	if p != nil {
		for _, a := range p.Architectures {
			if a.Architecture == name {
				switch a.Outcome {
				case results.PaysOff:
					return "yes"
				case results.DoesNotPayOff:
					return "no"
				}
				return "same"
			}
		}
	}
	return noData
}

// sweepCrossovers says, per CQRS architecture, where along the sweep its
// verdict changes and where its predicted capacity crosses crud's
// (interpolated between the two points on either side).
func sweepCrossovers(sw *results.Sweep) []string {
	var lines []string
	for _, name := range sweepArchitectures(sw) {
		if name == catalog.Baseline() {
			continue
		}
		var changes []string
		prev := ""
		for _, p := range sw.Points {
			o := outcomeAt(p.Payoff, name)
			if prev != "" && o != prev {
				changes = append(changes, fmt.Sprintf("%s from %s = %s", outcomePhrase(o), sw.Parameter, sweepValue(p.Value)))
			}
			prev = o
		}
		if len(changes) > 0 {
			lines = append(lines, fmt.Sprintf("%s: %s at %s = %s, then %s", name, outcomePhrase(outcomeAt(sw.Points[0].Payoff, name)),
				sw.Parameter, sweepValue(sw.Points[0].Value), strings.Join(changes, ", then ")))
		}
		if x, ok := capacityCrossing(sw, name); ok {
			lines = append(lines, fmt.Sprintf("%s: its predicted capacity crosses crud's at %s ≈ %s", name, sw.Parameter, strconv.FormatFloat(x, 'g', 3, 64)))
		}
	}
	return lines
}

// capacityAt returns name's capacity ratio in p; nil without one.
func capacityAt(p *results.Payoff, name string) *results.Ratio {
	if p != nil {
		for _, a := range p.Architectures {
			if a.Architecture == name {
				return a.Capacity
			}
		}
	}
	return nil
}

// outcomePhrase turns outcomeAt's word back into words.
func outcomePhrase(word string) string {
	switch word {
	case "yes":
		return "pays off"
	case "no":
		return "does not pay off"
	case "same":
		return "not distinguishable from crud"
	}
	return "no verdict"
}

// sweepArchitectures returns every architecture of the sweep's points, in
// first-seen order.
func sweepArchitectures(sw *results.Sweep) []string {
	var names []string
	seen := map[string]bool{}
	for _, p := range sw.Points {
		for _, a := range p.Architectures {
			if !seen[a.Name] {
				seen[a.Name] = true
				names = append(names, a.Name)
			}
		}
	}
	return names
}

// joinValues lists a sweep's values: "5, 50, 500".
func joinValues(vs []float64) string {
	var out []string
	for _, v := range vs {
		out = append(out, sweepValue(v))
	}
	return strings.Join(out, ", ")
}

// capacityCrossing returns the value at which name's predicted capacity
// over crud's crosses 1: between two neighbouring points whose verdicts
// called it worse on one side and better on the other (a ratio inside
// the noise crosses nothing), linearly interpolated between their
// estimates.
func capacityCrossing(sw *results.Sweep, name string) (float64, bool) {
	type at struct {
		x float64
		r results.Ratio
	}
	var pts []at
	for _, p := range sw.Points {
		if c := capacityAt(p.Payoff, name); c != nil && c.Call != results.Same && !c.TooFewSamples {
			pts = append(pts, at{p.Value, *c})
		}
	}
	for i := 1; i < len(pts); i++ {
		l, r := pts[i-1], pts[i]
		if l.r.Call != r.r.Call {
			return l.x + (1-l.r.Estimate)/(r.r.Estimate-l.r.Estimate)*(r.x-l.x), true
		}
	}
	return 0, false
}

// sweepCharts draws, per read, its p99 against the swept value, a line per
// architecture with a dot per point; the x axis is logarithmic when the
// values span a factor of 10 or more.
func sweepCharts(run *results.Run) []template.HTML {
	sw := run.Sweep
	if sw == nil || len(sw.Points) < 2 {
		return nil
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range sw.Points {
		lo, hi = math.Min(lo, p.Value), math.Max(hi, p.Value)
	}
	pos := func(v float64) float64 { return (v - lo) / (hi - lo) }
	if lo > 0 && hi/lo >= 10 {
		pos = func(v float64) float64 { return math.Log(v/lo) / math.Log(hi/lo) }
	}
	if hi == lo {
		pos = func(float64) float64 { return 0.5 }
	}
	axis := xAxis{label: sw.Parameter, pos: func(v float64) float64 { return 0.04 + 0.92*pos(v) }}
	for _, p := range sw.Points {
		axis.ticks = append(axis.ticks, tick{p.Value, sweepValue(p.Value)})
	}
	var charts []template.HTML
	for _, op := range sweepReads(run) {
		var curves []curve
		for j, name := range sweepArchitectures(sw) {
			c := curve{name: name, color: archColor(name, j), dots: true}
			for _, p := range sw.Points {
				if a, ok := archOf(p.Architectures, name); ok {
					if o, ok := a.Op(op); ok && o.Latency.Count > 0 {
						c.points = append(c.points, point{p.Value, o.Latency.P99 / 1000})
					}
				}
			}
			curves = append(curves, c)
		}
		// lineChart escapes every text it holds.
		charts = append(charts, template.HTML(lineChart(op+" p99 against "+sw.Parameter, axis, "p99 ms (log)", curves)))
	}
	return charts
}
