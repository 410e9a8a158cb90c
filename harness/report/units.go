package report

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
)

// Placeholders in tables.
const (
	// notRun marks an operation or architecture that did not run.
	notRun = "-"
	// noData marks a statistic that ran but has no samples to show.
	noData = "n/a"
)

// ms formats a duration given in microseconds as milliseconds with about
// three significant digits: 0.412, 6.10, 41.2, 1234.
func ms(us float64) string {
	v := us / 1000
	switch {
	case v == 0:
		return "0"
	case v < 1:
		return strconv.FormatFloat(v, 'f', 3, 64)
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case v < 100:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 0, 64)
	}
}

// human formats a duration given in microseconds for a sentence: "0.412 ms",
// "41.2 ms", "1.01 s", "12.3 s".
func human(us float64) string {
	switch {
	case us >= 9.995e6:
		return strconv.FormatFloat(us/1e6, 'f', 1, 64) + " s"
	case us >= 999.5e3:
		return strconv.FormatFloat(us/1e6, 'f', 2, 64) + " s"
	}
	return ms(us) + " ms"
}

// dur formats a duration in milliseconds like ms, with its unit.
func dur(d time.Duration) string {
	return ms(float64(d)/float64(time.Microsecond)) + "ms"
}

// pct formats a fraction as a percentage: 0%, 0.04%, 0.8%, 12%.
func pct(f float64) string {
	p := f * 100
	switch {
	case p == 0:
		return "0%"
	case p < 0.1:
		return strconv.FormatFloat(p, 'f', 2, 64) + "%"
	case p < 10:
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	default:
		return strconv.FormatFloat(p, 'f', 0, 64) + "%"
	}
}

// rate formats operations per second.
func rate(r float64) string {
	if r < 100 {
		return strconv.FormatFloat(r, 'f', 1, 64)
	}
	return strconv.FormatFloat(r, 'f', 0, 64)
}

// ratio formats a ratio to crud with two significant digits: 0.085x,
// 0.15x, 1.4x, 12x.
func ratio(r float64) string {
	var s string
	switch {
	case r >= 9.95:
		s = strconv.FormatFloat(r, 'f', 0, 64)
	case r >= 0.995:
		s = strconv.FormatFloat(r, 'f', 1, 64)
	case r >= 0.0995:
		s = strconv.FormatFloat(r, 'f', 2, 64)
	default:
		s = strconv.FormatFloat(r, 'f', 3, 64)
	}
	return s + "x"
}

// factor formats how many times larger one value is than another, for
// verdicts: 1.4, 11.8, 250.
func factor(f float64) string {
	if f >= 99.95 {
		return strconv.FormatFloat(f, 'f', 0, 64)
	}
	return strconv.FormatFloat(f, 'f', 1, 64)
}

// count formats an integer.
func count(n int64) string { return strconv.FormatInt(n, 10) }

// percentile formats percentile v (µs) of s in ms: notRun when s has no
// samples, noData when the summary lacks percentiles (a summary recorded
// with count and max only).
func percentile(v float64, s results.Stats) string {
	switch {
	case s.Count == 0:
		return notRun
	case v == 0 && s.Max > 0:
		return noData
	}
	return ms(v)
}

// workloadOps returns the operations of the run's workload: as the run
// recorded them, or the default workload's for files written before runs
// recorded them (they all ran it).
func workloadOps(run *results.Run) []results.Operation {
	if len(run.Operations) > 0 {
		return run.Operations
	}
	var ops []results.Operation
	for _, op := range catalog.DefaultWorkload().Operations() {
		ops = append(ops, results.Operation{Name: op.Name, Query: op.Query})
	}
	return ops
}

// opOrder returns the names of every operation any architecture ran: reads
// first (what CQRS is for), then commands, in the workload's order, then
// unknown names as first met.
func opOrder(run *results.Run) []string {
	seen := map[string]bool{}
	for _, a := range run.Architectures {
		for _, op := range a.Ops {
			seen[op.Name] = true
		}
	}
	var known []string
	for _, read := range []bool{true, false} {
		for _, op := range workloadOps(run) {
			if op.Query == read && seen[op.Name] {
				known = append(known, op.Name)
			}
		}
	}
	out := slices.Clone(known)
	for _, a := range run.Architectures {
		for _, op := range a.Ops {
			if !slices.Contains(out, op.Name) {
				out = append(out, op.Name)
			}
		}
	}
	return out
}

// plural returns "1 thing" or "n things".
func plural(n int64, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
