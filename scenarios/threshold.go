package scenarios

import (
	"errors"
	"fmt"
	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ErrBadThreshold is wrapped by every error ParseThreshold returns.
var ErrBadThreshold = errors.New("bad threshold")

// Metrics a threshold can name besides an operation.
const (
	MetricLag         = "lag"         // projection lag, commit → read-model commit (cqrs-kafka)
	MetricVisibility  = "visibility"  // the prober's commit → visible lag
	MetricStaleness   = "staleness"   // stale reads: ratio, and the age of what they missed
	MetricConsistency = "consistency" // the checker's counts
	MetricRecovery    = "recovery"    // time to recover from faults
)

// Threshold is a pass/fail condition on a result, parsed from text of the
// form [ARCH.]METRIC.AGGREGATE OP VALUE[UNIT], like k6's thresholds:
//
//	cqrs-kafka.list_orders.p99 < 5ms
//	crud.create_order.error_rate < 1%
//	lag.p99 < 200ms
//	consistency.violations == 0
//
// METRIC is an operation (create_order … sales_dashboard), lag, visibility,
// staleness, consistency or recovery. Without ARCH the condition is checked
// for every architecture that reports the metric, each on its own.
//
// Aggregates: for operations, lag, visibility, staleness (the age of the
// write a stale read missed) and recovery, the latencies pN (p50, p99,
// p99.9; also written p(99.9)), min, max and mean, which take a time unit
// (ns, us, ms, s, m, h). For an operation's latency the clock starts at the
// operation's intended start. Operations also have count, errors, late and
// dropped (plain numbers), rate (ops/s, plain or "/s") and error_rate,
// late_rate and dropped_rate (a fraction or a percentage); lag and
// visibility have count; visibility has timeouts; staleness has ratio (the
// share of reads that were stale). consistency has violations (the sum of
// lost, extra, mismatched, events_lost and duplicates_applied), lost, extra,
// mismatched (read-model rows), duplicates_delivered, duplicates_applied,
// events_lost (committed, never published) and dead_lettered. recovery is
// the time from the end of each fault injection until the architecture
// caught up. lag exists only for cqrs-kafka.
//
// OP is one of < <= > >= == !=.
type Threshold struct {
	// Arch scopes the condition to one architecture; empty means each.
	Arch Arch
	// Metric is an operation name or one of the Metric* constants.
	Metric string
	// Aggregate is the statistic of the metric, e.g. "p99", "error_rate".
	// Percentiles are normalized to the form "p99.9".
	Aggregate string
	// Operator compares the observed statistic (left) with Value (right).
	Operator Operator
	// Value is the number as written, in Unit.
	Value float64
	// Unit is the unit Value was written in, normalized ("µs" → "us").
	Unit Unit
}

// Operator is a threshold's comparison.
type Operator string

// The comparison operators.
const (
	Less           Operator = "<"
	LessOrEqual    Operator = "<="
	Greater        Operator = ">"
	GreaterOrEqual Operator = ">="
	Equal          Operator = "=="
	NotEqual       Operator = "!="
)

// Unit is the unit of a threshold's value.
type Unit string

// The units a threshold value can carry; "" is a plain number.
const (
	UnitNone    Unit = ""
	UnitNano    Unit = "ns"
	UnitMicro   Unit = "us"
	UnitMilli   Unit = "ms"
	UnitSecond  Unit = "s"
	UnitMinute  Unit = "m"
	UnitHour    Unit = "h"
	UnitPercent Unit = "%"
	UnitPerSec  Unit = "/s"
)

// Dimension is what kind of quantity a threshold's statistic is, which fixes
// the units its value may use and the base unit of Limit.
type Dimension int

// The dimensions.
const (
	DimCount Dimension = iota // a plain count
	DimTime                   // a time; base unit seconds
	DimRatio                  // a share; base unit a fraction in [0, 1]
	DimRate                   // a rate; base unit per second
)

// String names the dimension.
func (d Dimension) String() string {
	switch d {
	case DimTime:
		return "time"
	case DimRatio:
		return "ratio"
	case DimRate:
		return "rate"
	default:
		return "count"
	}
}

// Path returns the metric path without the aggregate, e.g.
// "cqrs-kafka.list_orders" or "lag".
func (t Threshold) Path() string {
	if t.Arch == "" {
		return t.Metric
	}
	return string(t.Arch) + "." + t.Metric
}

// String formats the threshold in its canonical form, which ParseThreshold
// parses back to an equal Threshold.
func (t Threshold) String() string {
	return t.Path() + "." + t.Aggregate + " " + string(t.Operator) + " " +
		strconv.FormatFloat(t.Value, 'f', -1, 64) + string(t.Unit)
}

// MarshalText formats the threshold with String.
func (t Threshold) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText parses a threshold with ParseThreshold.
func (t *Threshold) UnmarshalText(b []byte) error {
	v, err := ParseThreshold(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// Percentile returns the percentile the aggregate names (99.9 for "p99.9"),
// and false when it is not a percentile.
func (t Threshold) Percentile() (float64, bool) { return parsePercentile(t.Aggregate) }

// Dimension returns the kind of quantity the statistic is.
func (t Threshold) Dimension() Dimension {
	d, _ := aggregateDimension(t.Metric, t.Aggregate)
	return d
}

// Limit returns Value in the base unit of the dimension: seconds for times,
// a fraction for ratios ("1%" → 0.01), per second for rates.
func (t Threshold) Limit() float64 {
	switch t.Unit {
	case UnitPercent:
		return t.Value / 100
	case UnitNano, UnitMicro, UnitMilli, UnitSecond, UnitMinute, UnitHour:
		return t.Value * unitSeconds(t.Unit)
	default:
		return t.Value
	}
}

// Check reports whether an observed statistic, in the base unit of the
// dimension (see Limit), satisfies the threshold.
func (t Threshold) Check(observed float64) bool {
	limit := t.Limit()
	switch t.Operator {
	case Less:
		return observed < limit
	case LessOrEqual:
		return observed <= limit
	case Greater:
		return observed > limit
	case GreaterOrEqual:
		return observed >= limit
	case Equal:
		return observed == limit
	case NotEqual:
		return observed != limit
	default:
		return false
	}
}

// CheckDuration is Check for a time statistic.
func (t Threshold) CheckDuration(observed time.Duration) bool {
	return t.Check(observed.Seconds())
}

// ParseThreshold parses a threshold such as "cqrs-kafka.list_orders.p99 <
// 5ms"; see Threshold for the grammar. Errors wrap ErrBadThreshold and say
// what to write instead.
func ParseThreshold(s string) (Threshold, error) {
	t, msg := parseThreshold(strings.TrimSpace(s))
	if msg != "" {
		return Threshold{}, fmt.Errorf("%w %q: %s", ErrBadThreshold, strings.TrimSpace(s), msg)
	}
	return t, nil
}

// parseThreshold does the work of ParseThreshold, returning a message
// instead of an error.
func parseThreshold(s string) (Threshold, string) {
	const want = `want [ARCH.]METRIC.AGGREGATE OP VALUE, like "cqrs-kafka.list_orders.p99 < 5ms"`
	if s == "" {
		return Threshold{}, "empty; " + want
	}
	i := strings.IndexAny(s, "<>=!")
	if i < 0 {
		return Threshold{}, "no comparison operator (< <= > >= == !=); " + want
	}
	op, n := Operator(s[i:i+1]), 1
	if i+1 < len(s) && s[i+1] == '=' {
		op, n = Operator(s[i:i+2]), 2
	}
	switch op {
	case "=":
		return Threshold{}, `"=" is not an operator; use "==" to compare`
	case "!":
		return Threshold{}, `"!" is not an operator; use "!=" to compare`
	}
	lhs, rhs := strings.TrimSpace(s[:i]), strings.TrimSpace(s[i+n:])
	if strings.ContainsAny(rhs, "<>=!") {
		return Threshold{}, "more than one comparison; write one condition per threshold"
	}
	if lhs == "" {
		return Threshold{}, "no metric before " + string(op) + "; " + want
	}
	if rhs == "" {
		return Threshold{}, "no value after " + string(op) + "; " + want
	}
	t := Threshold{Operator: op}
	if msg := t.parsePath(lhs); msg != "" {
		return Threshold{}, msg
	}
	if msg := t.parseValue(rhs); msg != "" {
		return Threshold{}, msg
	}
	return t, ""
}

// parsePath parses [ARCH.]METRIC.AGGREGATE into t.
func (t *Threshold) parsePath(lhs string) string {
	segs := splitPath(lhs)
	archs := strs(Architectures())
	switch {
	case len(segs) == 3:
		if msg := unknownArch(segs[0]); msg != "" {
			return msg
		}
		t.Arch = Arch(segs[0])
		segs = segs[1:]
	case len(segs) == 2 && slices.Contains(archs, segs[0]):
		return fmt.Sprintf("%q has no aggregate; write it after the metric, like %q", lhs, lhs+".p99")
	case len(segs) < 2:
		return fmt.Sprintf("%q has no aggregate; want [ARCH.]METRIC.AGGREGATE, like %q", lhs, "lag.p99")
	case len(segs) > 3:
		return fmt.Sprintf("%q has too many parts; want [ARCH.]METRIC.AGGREGATE", lhs)
	}
	metric, agg := segs[0], segs[1]
	if strings.IndexFunc(metric, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') }) >= 0 {
		return fmt.Sprintf("bad metric %q; use an operation of the workload, like list_orders, or one of %s", metric, strings.Join(runMetrics(), ", "))
	}
	t.Metric = metric
	if p, ok := parsePercentile(agg); ok {
		agg = "p" + strconv.FormatFloat(p, 'f', -1, 64)
	} else if strings.HasPrefix(agg, "p") && len(agg) > 1 && (agg[1] == '(' || agg[1] >= '0' && agg[1] <= '9') {
		return fmt.Sprintf("bad percentile %q; write p50, p99, p99.9 or p(99.9), between 0 and 100", agg)
	}
	if _, ok := aggregateDimension(metric, agg); !ok {
		names := aggregates(metric)
		return fmt.Sprintf("%s has no aggregate %q%s; use one of %s", metric, agg, didYouMean(agg, names), strings.Join(names, ", "))
	}
	t.Aggregate = agg
	if d, ok := t.Arch.Descriptor(); metric == MetricLag && ok && !catalog.Offers[reference.Pipeline](d) {
		return fmt.Sprintf("lag stages are measured only for architectures with an event pipeline, not %s; use %s.visibility.%s for the prober's view", t.Arch, t.Arch, agg)
	}
	return ""
}

// splitPath splits a metric path on dots, keeping "p99.9" and "p(99.9)" in
// one piece.
func splitPath(s string) []string {
	var segs []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '(':
			depth++
		case ')':
			depth--
		case '.':
			if depth == 0 {
				segs = append(segs, s[start:i])
				start = i + 1
			}
		}
	}
	segs = append(segs, s[start:])
	// Rejoin a decimal part split off a percentile: "p99", "9" → "p99.9".
	out := segs[:0]
	for _, seg := range segs {
		if n := len(out); n > 0 && isDigits(seg) && isPercentileHead(out[n-1]) {
			out[n-1] += "." + seg
			continue
		}
		out = append(out, seg)
	}
	return out
}

// isDigits reports whether s is a non-empty run of ASCII digits.
func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// isPercentileHead reports whether s is "p" followed by digits only.
func isPercentileHead(s string) bool { return len(s) > 1 && s[0] == 'p' && isDigits(s[1:]) }

// parsePercentile parses "p99", "p99.9" or "p(99.9)".
func parsePercentile(s string) (float64, bool) {
	if len(s) < 2 || s[0] != 'p' {
		return 0, false
	}
	num := s[1:]
	if strings.HasPrefix(num, "(") && strings.HasSuffix(num, ")") {
		num = num[1 : len(num)-1]
	}
	if num == "" || !(num[0] >= '0' && num[0] <= '9') {
		return 0, false
	}
	p, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(p) || p <= 0 || p > 100 {
		return 0, false
	}
	return p, true
}

// parseValue parses VALUE[UNIT] into t, checking the unit fits the
// aggregate.
func (t *Threshold) parseValue(rhs string) string {
	end := 0
	for end < len(rhs) && strings.IndexByte("0123456789.+-eE", rhs[end]) >= 0 {
		end++
	}
	// "e" may not end the number when no exponent digits follow ("5e" is not
	// a number, and no unit starts with e).
	num, unitText := rhs[:end], strings.TrimSpace(rhs[end:])
	v, err := strconv.ParseFloat(num, 64)
	if num == "" || err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return fmt.Sprintf("bad value %q; want a number with an optional unit, like 5ms, 1%% or 0", rhs)
	}
	if v < 0 {
		return fmt.Sprintf("value must be >= 0, got %s", rhs)
	}
	unit, ok := parseUnit(unitText)
	if !ok {
		return fmt.Sprintf("unknown unit %q in %q; use ns, us, ms, s, m, h, %% or /s", unitText, rhs)
	}
	t.Value, t.Unit = v, unit
	dim, _ := aggregateDimension(t.Metric, t.Aggregate)
	name := t.Metric + "." + t.Aggregate
	switch dim {
	case DimTime:
		if unitSeconds(unit) == 0 {
			if unit == UnitNone && v == 0 {
				return fmt.Sprintf("%s is a time: write a unit, like 0ms", name)
			}
			return fmt.Sprintf("%s is a time: write a unit, like %sms (ns, us, ms, s, m, h), got %q", name, num, rhs)
		}
	case DimRatio:
		switch unit {
		case UnitPercent:
			if v > 100 {
				return fmt.Sprintf("%s is a ratio: at most 100%%, got %s", name, rhs)
			}
		case UnitNone:
			if v > 1 {
				return fmt.Sprintf("%s is a ratio: a fraction at most 1 or a percentage, like %s%%; got %s", name, num, rhs)
			}
		default:
			return fmt.Sprintf("%s is a ratio: write a percentage like 1%% or a fraction like 0.01, got %q", name, rhs)
		}
	case DimRate:
		if unit != UnitNone && unit != UnitPerSec {
			return fmt.Sprintf("%s is a rate in ops/s: write a plain number or N/s, got %q", name, rhs)
		}
	case DimCount:
		if unit != UnitNone {
			return fmt.Sprintf("%s is a count: write a plain number, got %q", name, rhs)
		}
	}
	return ""
}

// parseUnit normalizes a unit.
func parseUnit(s string) (Unit, bool) {
	switch s {
	case "µs", "μs":
		return UnitMicro, true
	case "", "ns", "us", "ms", "s", "m", "h", "%", "/s":
		return Unit(s), true
	}
	return "", false
}

// unitSeconds is the length of a time unit in seconds, or 0 when the unit
// is not a time.
func unitSeconds(u Unit) float64 {
	switch u {
	case UnitNano:
		return 1e-9
	case UnitMicro:
		return 1e-6
	case UnitMilli:
		return 1e-3
	case UnitSecond:
		return 1
	case UnitMinute:
		return 60
	case UnitHour:
		return 3600
	}
	return 0
}

// runMetrics returns the metrics a threshold can use besides the
// workload's operations.
func runMetrics() []string {
	return []string{MetricLag, MetricVisibility, MetricStaleness, MetricConsistency, MetricRecovery}
}

// aggregates returns the aggregates of a metric, for messages.
func aggregates(metric string) []string {
	latency := []string{"p50", "p90", "p95", "p99", "p99.9", "min", "max", "mean"}
	switch metric {
	case MetricLag:
		return append(latency, "count")
	case MetricVisibility:
		return append(latency, "count", "timeouts")
	case MetricStaleness:
		return append([]string{"ratio"}, latency...)
	case MetricRecovery:
		return latency
	case MetricConsistency:
		return []string{"violations", "lost", "extra", "mismatched", "duplicates_delivered", "duplicates_applied", "events_lost", "dead_lettered"}
	default:
		return append(latency, "count", "errors", "late", "dropped", "rate", "error_rate", "late_rate", "dropped_rate")
	}
}

// aggregateDimension returns the dimension of metric.agg, and false when the
// metric has no such aggregate.
func aggregateDimension(metric, agg string) (Dimension, bool) {
	if metric != MetricConsistency {
		if _, ok := parsePercentile(agg); ok || agg == "min" || agg == "max" || agg == "mean" {
			return DimTime, true
		}
	}
	if !slices.Contains(aggregates(metric), agg) {
		return 0, false
	}
	switch agg {
	case "rate":
		return DimRate, true
	case "ratio", "error_rate", "late_rate", "dropped_rate":
		return DimRatio, true
	}
	return DimCount, true
}
