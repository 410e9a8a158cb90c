package results

import (
	"fmt"
	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/cqrsbench/cqrsbench/scenarios"
)

// Evaluate checks every threshold against run and returns one result per
// threshold and architecture it applies to, in the order given.
//
// A threshold scoped to an architecture ("cqrs-kafka.list_orders.p99 <
// 5ms") gives one result; an unscoped one ("list_orders.p99 < 5ms") gives
// one per architecture that reports the metric, in run order, each written
// scoped ("crud.list_orders.p99 < 5ms"). Metrics map onto the document as:
//
//   - an operation: its Op (latency from the intended start of successful
//     operations; count, errors, late, dropped, rate; error_rate is errors
//     over completed, late_rate and dropped_rate are over completed plus
//     dropped);
//   - lag: the StageEndToEnd stage of cqrs-kafka's Lag;
//   - visibility: the prober's Lag.Visible, timeouts its ProbeTimeouts;
//   - staleness: ratio is Staleness.Rate, the time aggregates its Age (0
//     when no read was stale);
//   - consistency: the checker's Consistency (duplicates_applied and
//     events_lost are counted for cqrs-kafka, 0 elsewhere);
//   - recovery: the injections' recovery times of the architecture's
//     faults (max, min, mean or a percentile over the injections).
//
// A threshold that cannot be evaluated is Skipped with the reason — its
// architecture did not run, the metric was not recorded, there were no
// samples — and neither passes nor fails. Value is the observed statistic
// in the threshold's unit (Unit): "ms" for a threshold written in ms, "%"
// for one written as a percentage.
func Evaluate(run *Run, ths []scenarios.Threshold) []ThresholdResult {
	if run == nil {
		run = &Run{}
	}
	var out []ThresholdResult
	for _, t := range ths {
		out = append(out, evaluate(run, t)...)
	}
	return out
}

// Failed reports whether any evaluated threshold failed. Skipped ones do
// not count.
func Failed(results []ThresholdResult) bool {
	for _, r := range results {
		if !r.Passed && r.Skipped == "" {
			return true
		}
	}
	return false
}

// evaluate evaluates one threshold.
func evaluate(run *Run, t scenarios.Threshold) []ThresholdResult {
	skip := func(t scenarios.Threshold, reason string) []ThresholdResult {
		return []ThresholdResult{{Threshold: t.String(), Unit: displayUnit(t), Skipped: reason}}
	}
	var archs []*Architecture
	switch {
	case t.Arch != "":
		a, ok := run.Arch(string(t.Arch))
		if !ok {
			return skip(t, "architecture not run")
		}
		archs = append(archs, a)
	default:
		for i := range run.Architectures {
			if a := &run.Architectures[i]; reports(a, t.Metric) {
				archs = append(archs, a)
			}
		}
		if len(archs) == 0 {
			return skip(t, "no architecture reported "+t.Metric)
		}
	}

	out := make([]ThresholdResult, 0, len(archs))
	for _, a := range archs {
		scoped := t
		scoped.Arch = scenarios.Arch(a.Name)
		v, reason := observe(a, t)
		if reason != "" {
			out = append(out, skip(scoped, reason)...)
			continue
		}
		out = append(out, ThresholdResult{
			Threshold: scoped.String(),
			Value:     display(t, v),
			Unit:      displayUnit(t),
			Passed:    t.Check(v),
		})
	}
	return out
}

// reports reports whether a has data for metric, for unscoped thresholds.
func reports(a *Architecture, metric string) bool {
	switch metric {
	case scenarios.MetricLag: // the pipeline's stages
		d, ok := catalog.Lookup(a.Name)
		return ok && catalog.Offers[reference.Pipeline](d)
	case scenarios.MetricVisibility:
		return a.Lag != nil
	case scenarios.MetricStaleness:
		return a.Staleness.Reads > 0
	case scenarios.MetricConsistency:
		return a.Consistency != nil
	case scenarios.MetricRecovery:
		return len(a.Faults) > 0
	default:
		_, ok := a.Op(metric)
		return ok
	}
}

// observe returns the statistic t names for a, in the base unit of its
// dimension (seconds, a fraction, per second, a count), or why it cannot.
func observe(a *Architecture, t scenarios.Threshold) (float64, string) {
	switch t.Metric {
	case scenarios.MetricLag:
		st, ok := a.Lag.Stage(StageEndToEnd)
		if !ok {
			return 0, "no " + StageEndToEnd + " lag recorded"
		}
		if t.Aggregate == "count" {
			return float64(st.Stats.Count), ""
		}
		return latency(st.Stats, t.Aggregate, "no lag samples recorded")
	case scenarios.MetricVisibility:
		if a.Lag == nil {
			return 0, "no prober samples recorded"
		}
		switch t.Aggregate {
		case "count":
			return float64(a.Lag.Visible.Count), ""
		case "timeouts":
			return float64(a.Lag.ProbeTimeouts), ""
		}
		return latency(a.Lag.Visible, t.Aggregate, "no prober samples recorded")
	case scenarios.MetricConsistency:
		c := a.Consistency
		if c == nil {
			return 0, "the checker did not run"
		}
		switch t.Aggregate {
		case "violations":
			return float64(c.Violations), ""
		case "lost":
			return float64(c.Lost), ""
		case "extra":
			return float64(c.Extra), ""
		case "mismatched":
			return float64(c.Mismatched), ""
		case "duplicates_delivered":
			return float64(c.DuplicatesDelivered), ""
		case "duplicates_applied":
			return float64(c.DuplicatesApplied), ""
		case "events_lost":
			return float64(c.EventsLost), ""
		case "dead_lettered":
			return float64(c.DeadLettered), ""
		}
		return 0, "unknown consistency aggregate " + t.Aggregate
	case scenarios.MetricRecovery:
		return recovery(a.Faults, t.Aggregate)
	case scenarios.MetricStaleness:
		s := a.Staleness
		if s.Reads == 0 {
			return 0, "no reads classified"
		}
		switch t.Aggregate {
		case "ratio", "rate":
			return s.Rate, ""
		}
		if s.Stale == 0 || s.Age.Count == 0 {
			return 0, "" // nothing was stale: no age
		}
		return latency(s.Age, t.Aggregate, "")
	}

	op, ok := a.Op(t.Metric)
	if !ok {
		return 0, "operation not run"
	}
	scheduled := op.Count + op.Dropped
	switch t.Aggregate {
	case "count":
		return float64(op.Count), ""
	case "errors":
		return float64(op.Errors), ""
	case "late":
		return float64(op.Late), ""
	case "dropped":
		return float64(op.Dropped), ""
	case "rate":
		return op.Rate, ""
	case "error_rate":
		return ratio(op.Errors, op.Count, "no completed operations")
	case "late_rate":
		return ratio(op.Late, scheduled, "no scheduled operations")
	case "dropped_rate":
		return ratio(op.Dropped, scheduled, "no scheduled operations")
	}
	return latency(op.Latency, t.Aggregate, "no successful operations recorded")
}

// latency returns the time aggregate agg of s in seconds, or why it cannot.
func latency(s Stats, agg, empty string) (float64, string) {
	if s.Count == 0 {
		if empty == "" {
			return 0, ""
		}
		return 0, empty
	}
	var us float64
	switch agg {
	case "min":
		us = s.Min
	case "max":
		us = s.Max
	case "mean":
		us = s.Mean
	default:
		p, ok := parsePercentile(agg)
		if !ok {
			return 0, fmt.Sprintf("unknown aggregate %q", agg)
		}
		v, err := s.Percentile(p)
		if err != nil {
			return 0, err.Error()
		}
		us = v
	}
	return us / 1e6, ""
}

// parsePercentile parses a normalized percentile aggregate ("p99.9").
func parsePercentile(agg string) (float64, bool) {
	num, ok := strings.CutPrefix(agg, "p")
	if !ok {
		return 0, false
	}
	p, err := strconv.ParseFloat(num, 64)
	if err != nil || p <= 0 || p > 100 {
		return 0, false
	}
	return p, true
}

// ratio returns n/d, or why it cannot.
func ratio(n, d int64, empty string) (float64, string) {
	if d <= 0 {
		return 0, empty
	}
	return float64(n) / float64(d), ""
}

// displayUnit is the unit observed values of t are shown in: its own unit,
// or "/s" for a rate written as a plain number.
func displayUnit(t scenarios.Threshold) string {
	if t.Dimension() == scenarios.DimRate {
		return string(scenarios.UnitPerSec)
	}
	return string(t.Unit)
}

// display converts an observed value v from the base unit of t's dimension
// into t's unit.
func display(t scenarios.Threshold, v float64) float64 {
	var out float64
	switch t.Unit {
	case scenarios.UnitPercent:
		out = v * 100
	case scenarios.UnitNano:
		out = v * 1e9
	case scenarios.UnitMicro:
		out = v * 1e6
	case scenarios.UnitMilli:
		out = v * 1e3
	case scenarios.UnitMinute:
		out = v / 60
	case scenarios.UnitHour:
		out = v / 3600
	default:
		out = v
	}
	if math.IsNaN(out) || math.IsInf(out, 0) {
		return 0
	}
	return out
}

// recovery aggregates the recovery times of the injections of faults, in
// seconds: max, min, mean or a percentile (nearest rank).
func recovery(faults []Fault, agg string) (float64, string) {
	var secs []float64
	for _, f := range faults {
		for _, in := range f.Injections {
			secs = append(secs, in.RecoverySeconds)
		}
	}
	if len(secs) == 0 {
		return 0, "no fault was injected"
	}
	slices.Sort(secs)
	switch agg {
	case "min":
		return secs[0], ""
	case "max":
		return secs[len(secs)-1], ""
	case "mean":
		var sum float64
		for _, v := range secs {
			sum += v
		}
		return sum / float64(len(secs)), ""
	}
	p, ok := parsePercentile(agg)
	if !ok {
		return 0, fmt.Sprintf("unknown aggregate %q", agg)
	}
	rank := int(math.Ceil(p / 100 * float64(len(secs))))
	return secs[min(max(rank, 1), len(secs))-1], ""
}
