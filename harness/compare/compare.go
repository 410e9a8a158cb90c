// Package compare diffs a run against a baseline run of the same scenario
// and decides, metric by metric, whether it regressed: the check behind
// `cqrsbench compare BASELINE.json RESULT.json` and CI regression gates.
//
// Two single runs differ by noise, so a latency counts as regressed only
// when it is worse by more than a relative tolerance (a wider one for
// p99s, which swing more) and by more than an
// absolute floor, when the two percentiles' 95% confidence intervals
// (order statistics over the saved HdrHistograms) do not overlap, and when
// it rests on enough samples; percentiles of a few dozen operations are
// shown but never gate. Correctness is not a
// matter of tolerance: any consistency violation in the result is a
// regression. For small effects, run each side several times and compare
// the go-bench lines (`run --bench`) with benchstat.
//
//	rep, err := compare.Runs(baseline, result, compare.DefaultOptions())
//	if rep.Failed() { os.Exit(1) }
package compare

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/harness/services"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// Defaults of DefaultOptions.
const (
	DefaultTolerance     = 0.25
	DefaultTailTolerance = 0.50
	DefaultMinDelta      = 250 * time.Microsecond
	DefaultMinShareDelta = 0.005
	DefaultMinSamples    = 100
)

// Options set how much worse a metric may get before it is a regression.
// The zero value gates every change; DefaultOptions allows for noise.
type Options struct {
	// Tolerance is the relative worsening allowed of medians and rates:
	// 0.25 lets a p50 grow by 25%.
	Tolerance float64
	// TailTolerance is the relative worsening allowed of p99s (operations
	// and lag), which swing more from run to run: on a shared 2-core
	// machine, two runs of one build differed by up to 45%.
	TailTolerance float64
	// MinDelta is the absolute worsening of a latency below which a change
	// is noise, whatever its ratio.
	MinDelta time.Duration
	// MinShareDelta is the same floor for the shares of operations that
	// failed, started late or were dropped: 0.005 is half a percentage
	// point.
	MinShareDelta float64
	// MinSamples is the number of operations a p99 must rest on to gate
	// (a p50 needs a tenth of it).
	MinSamples int64
}

// DefaultOptions returns the options `cqrsbench compare` uses unless told
// otherwise: 25% (p99s: 50%), 250 µs (shares: half a point), 100 samples.
func DefaultOptions() Options {
	return Options{Tolerance: DefaultTolerance, TailTolerance: DefaultTailTolerance, MinDelta: DefaultMinDelta,
		MinShareDelta: DefaultMinShareDelta, MinSamples: DefaultMinSamples}
}

// Validate checks the options.
func (o Options) Validate() error {
	switch {
	case o.Tolerance < 0 || math.IsNaN(o.Tolerance):
		return fmt.Errorf("tolerance must be ≥ 0, got %v", o.Tolerance)
	case o.TailTolerance < 0 || math.IsNaN(o.TailTolerance):
		return fmt.Errorf("tail tolerance must be ≥ 0, got %v", o.TailTolerance)
	case o.MinDelta < 0:
		return fmt.Errorf("minimum delta must be ≥ 0, got %v", o.MinDelta)
	case o.MinShareDelta < 0 || math.IsNaN(o.MinShareDelta):
		return fmt.Errorf("minimum share delta must be ≥ 0, got %v", o.MinShareDelta)
	case o.MinSamples < 0:
		return fmt.Errorf("minimum samples must be ≥ 0, got %d", o.MinSamples)
	}
	return nil
}

// Verdict is what became of one metric.
type Verdict string

// Verdicts.
const (
	// Same is within the tolerance either way.
	Same Verdict = "same"
	// Better improved beyond the tolerance.
	Better Verdict = "better"
	// Worse regressed beyond the tolerance: the comparison fails.
	Worse Verdict = "REGRESSED"
	// Failed is a result the checker found damage in (consistency
	// violations), whatever the baseline: the comparison fails.
	Failed Verdict = "FAILED"
	// Noise changed beyond the tolerance, but the two percentiles'
	// confidence intervals overlap: the samples cannot tell the runs apart.
	Noise Verdict = "within noise"
	// FewSamples rests on too few samples to gate.
	FewSamples Verdict = "few samples"
	// Missing is in the baseline but not in the result.
	Missing Verdict = "missing"
)

// Unit says how a metric's values read.
type Unit string

// Units.
const (
	// Micros are latencies in microseconds; lower is better.
	Micros Unit = "us"
	// PerSecond is a rate; higher is better.
	PerSecond Unit = "/s"
	// Count is a number of events; lower is better.
	Count Unit = "count"
	// Share is a fraction of operations (0.01 is 1%); lower is better.
	Share Unit = "share"
)

// Row is one metric of one architecture on both sides.
type Row struct {
	// Arch is the architecture, e.g. cqrs-kafka.
	Arch string
	// Metric names what is compared: "list_orders p99", "lag end_to_end
	// p99", "achieved rate", "consistency violations".
	Metric string
	// Unit of Baseline and Result.
	Unit Unit
	// Baseline and Result are the values.
	Baseline, Result float64
	// Samples is the smaller sample count of the two sides, for
	// percentiles; 0 otherwise.
	Samples int64
	// Verdict is the decision.
	Verdict Verdict
}

// Change returns the relative change from Baseline to Result (0.1 is
// +10%); NaN when the baseline is 0.
func (r Row) Change() float64 {
	if r.Baseline == 0 {
		return math.NaN()
	}
	return (r.Result - r.Baseline) / r.Baseline
}

// Report is the outcome of a comparison.
type Report struct {
	// Options are the ones applied.
	Options Options
	// Rows in the result's architecture order, then metric order.
	Rows []Row
	// Warnings are differences that weaken the comparison without
	// invalidating it: another machine, other server versions, kfake.
	Warnings []string
}

// Failed reports whether any metric regressed or failed.
func (r *Report) Failed() bool { return len(r.Failures()) > 0 }

// Failures returns the rows that regressed or failed.
func (r *Report) Failures() []Row {
	var out []Row
	for _, row := range r.Rows {
		if row.Verdict == Worse || row.Verdict == Failed {
			out = append(out, row)
		}
	}
	return out
}

// NotComparableError says that the two runs measured different things
// (another scenario, dataset, mix, load, options or faults), so their
// numbers cannot be set side by side.
type NotComparableError struct {
	// Differences lists each differing part as "dataset: {...} vs {...}".
	Differences []string
}

// Error implements error.
func (e *NotComparableError) Error() string {
	msg := "the runs are not comparable:"
	for _, d := range e.Differences {
		msg += "\n  " + d
	}
	return msg + "\ncompare two runs of the same scenario, with the same --orders, --rate, --duration and --seed"
}

// Runs compares result against baseline. It fails with a
// *NotComparableError when they ran different scenarios or settings.
func Runs(baseline, result *results.Run, opts Options) (*Report, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	if err := comparable(baseline, result); err != nil {
		return nil, err
	}
	rep := &Report{Options: opts, Warnings: environmentWarnings(baseline, result)}
	for _, b := range baseline.Architectures {
		r, ok := result.Arch(b.Name)
		if !ok {
			rep.Rows = append(rep.Rows, Row{Arch: b.Name, Metric: "(architecture)", Verdict: Missing})
			continue
		}
		rep.Rows = append(rep.Rows, rep.archRows(&b, r)...)
	}
	return rep, nil
}

// archRows compares one architecture.
func (rep *Report) archRows(b, r *results.Architecture) []Row {
	var rows []Row
	for _, bo := range b.Ops {
		ro, ok := r.Op(bo.Name)
		if !ok {
			rows = append(rows, Row{Arch: b.Name, Metric: bo.Name, Verdict: Missing})
			continue
		}
		rows = append(rows,
			rep.latency(b.Name, bo.Name+" p50", bo.Latency, ro.Latency, 0.5, rep.Options.MinSamples/10),
			rep.latency(b.Name, bo.Name+" p99", bo.Latency, ro.Latency, 0.99, rep.Options.MinSamples))
	}
	if b.Lag != nil && r.Lag != nil {
		for _, bs := range b.Lag.Stages {
			if bs.Name != "end_to_end" {
				continue
			}
			if rs, ok := r.Lag.Stage(bs.Name); ok {
				rows = append(rows, rep.latency(b.Name, "lag end_to_end p99", bs.Stats, rs.Stats, 0.99, rep.Options.MinSamples))
			}
		}
		rows = append(rows, rep.latency(b.Name, "lag visible p99", b.Lag.Visible, r.Lag.Visible, 0.99, rep.Options.MinSamples))
	}
	rows = append(rows, rep.rate(b.Name, "achieved rate", b.Load.AchievedRate, r.Load.AchievedRate))
	bl, rl := b.Load, r.Load
	rows = append(rows,
		rep.share(b.Name, "failed ops", fraction(bl.Errors, bl.Completed), fraction(rl.Errors, rl.Completed)),
		rep.share(b.Name, "late ops", fraction(bl.Late, bl.Scheduled), fraction(rl.Late, rl.Scheduled)),
		rep.share(b.Name, "dropped ops", fraction(bl.Dropped, bl.Scheduled), fraction(rl.Dropped, rl.Scheduled)))
	rows = append(rows, violations(b, r))
	return rows
}

// latency compares percentile q (0.5 or 0.99) of two latency samples;
// lower is better. A change beyond the tolerance and the floor counts only
// when the two percentiles' 95% confidence intervals do not overlap:
// otherwise the samples cannot tell the runs apart (Noise).
func (rep *Report) latency(arch, metric string, bs, rs results.Stats, q float64, minSamples int64) Row {
	row := Row{Arch: arch, Metric: metric, Unit: Micros, Baseline: summary(bs, q), Result: summary(rs, q), Samples: min(bs.Count, rs.Count)}
	bv, rv := row.Baseline, row.Result
	floor := float64(rep.Options.MinDelta.Microseconds())
	tol := rep.Options.Tolerance
	if q > 0.5 {
		tol = rep.Options.TailTolerance
	}
	worse := rv > bv*(1+tol) && rv-bv > floor
	better := bv > rv*(1+tol) && bv-rv > floor
	switch {
	case row.Samples < max(minSamples, 1):
		row.Verdict = FewSamples
	case (worse || better) && overlap(bs, rs, q):
		row.Verdict = Noise
	case worse:
		row.Verdict = Worse
	case better:
		row.Verdict = Better
	default:
		row.Verdict = Same
	}
	return row
}

// summary returns the recorded percentile q of s.
func summary(s results.Stats, q float64) float64 {
	if q == 0.5 {
		return s.P50
	}
	return s.P99
}

// overlap reports whether the 95% confidence intervals of percentile q of
// a and b overlap; false when either has no histogram (the tolerance and
// floor alone then decide).
func overlap(a, b results.Stats, q float64) bool {
	aLo, aHi, okA := interval(a, q)
	bLo, bHi, okB := interval(b, q)
	if !okA || !okB {
		return false // no histograms: the tolerance alone decides
	}
	return aLo <= bHi && bLo <= aHi
}

// interval returns a distribution-free 95% confidence interval of
// percentile q (0 to 1) of the distribution s was sampled from: the
// values at ranks nq ± 1.96·√(nq(1−q)) of the n samples (order
// statistics, normal approximation of the binomial; the upper rank one
// further, to the next order statistic), read off the stored histogram.
// For 833 samples the interval of the p99 runs from the 98.3th to the
// 99.8th percentile. The samples are taken as independent; latencies under
// load are not (one stall delays many consecutive operations), so the
// interval is narrower than the truth — which is why the tolerance and the
// floor must also be exceeded. ok is false without a histogram.
func interval(s results.Stats, q float64) (lo, hi float64, ok bool) {
	if s.Count == 0 || s.Histogram == "" {
		return 0, 0, false
	}
	snap, err := s.Snapshot()
	if err != nil {
		return 0, 0, false
	}
	n := float64(s.Count)
	half := 1.96 * math.Sqrt(n*q*(1-q))
	pLo := math.Max(0, (n*q-half)/n) * 100
	pHi := math.Min(1, (n*q+half+1)/n) * 100 // +1: the next order statistic
	return float64(snap.Percentile(pLo).Microseconds()), float64(snap.Percentile(pHi).Microseconds()), true
}

// rate compares a throughput (higher is better).
func (rep *Report) rate(arch, metric string, bv, rv float64) Row {
	row := Row{Arch: arch, Metric: metric, Unit: PerSecond, Baseline: bv, Result: rv}
	switch {
	case rv < bv/(1+rep.Options.Tolerance):
		row.Verdict = Worse
	case rv > bv*(1+rep.Options.Tolerance):
		row.Verdict = Better
	default:
		row.Verdict = Same
	}
	return row
}

// share compares a share of operations (failed, late, dropped); lower is
// better. Operations that fail fast would otherwise pass for an
// improvement: their latency is not in the percentiles.
func (rep *Report) share(arch, metric string, bv, rv float64) Row {
	row := Row{Arch: arch, Metric: metric, Unit: Share, Baseline: bv, Result: rv}
	tol, floor := rep.Options.Tolerance, rep.Options.MinShareDelta
	switch {
	case rv > bv*(1+tol) && rv-bv > floor:
		row.Verdict = Worse
	case bv > rv*(1+tol) && bv-rv > floor:
		row.Verdict = Better
	default:
		row.Verdict = Same
	}
	return row
}

// fraction is n/of, 0 when of is 0.
func fraction(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// violations compares the checker's findings — read-model rows lost,
// extra or wrong, events lost, events applied twice: any in the result
// regresses.
func violations(b, r *results.Architecture) Row {
	row := Row{Arch: b.Name, Metric: "consistency violations", Unit: Count,
		Baseline: damage(b.Consistency), Result: damage(r.Consistency)}
	switch {
	case row.Result > 0:
		row.Verdict = Failed
	case row.Baseline > 0:
		row.Verdict = Better
	default:
		row.Verdict = Same
	}
	return row
}

// damage sums what the checker found wrong; 0 when it did not run.
func damage(c *results.Consistency) float64 {
	if c == nil {
		return 0
	}
	return float64(c.Violations + c.EventsLost + c.DuplicatesApplied)
}

// comparable checks that both runs measured the same thing.
func comparable(baseline, result *results.Run) error {
	if baseline.Scenario == nil || result.Scenario == nil {
		return &NotComparableError{Differences: []string{"a results file records no scenario"}}
	}
	b, r := baseline.Scenario, result.Scenario
	var diffs []string
	if b.Name != r.Name {
		diffs = append(diffs, fmt.Sprintf("scenario: %s vs %s", b.Name, r.Name))
	}
	for _, part := range []struct {
		name string
		b, r any
	}{
		{"dataset", b.Dataset, r.Dataset},
		{"mix", b.Mix, r.Mix},
		{"load", b.Load, r.Load},
		{"options", b.Options, r.Options},
		{"faults", b.Faults, r.Faults},
	} {
		bj, rj := canonical(part.b), canonical(part.r)
		if bj != rj {
			diffs = append(diffs, fmt.Sprintf("%s: %s vs %s", part.name, bj, rj))
		}
	}
	for _, ra := range result.Architectures {
		if ba, ok := baseline.Arch(ra.Name); ok {
			if bp, rp := policyOf(ba), policyOf(&ra); bp != rp {
				diffs = append(diffs, fmt.Sprintf("%s's read-your-writes policy: %s vs %s", ra.Name, bp, rp))
			}
		}
	}
	if len(diffs) > 0 {
		return &NotComparableError{Differences: diffs}
	}
	return nil
}

// policyOf is the read-your-writes policy a ran under, as its results
// record it (none when they record no policy's work).
func policyOf(a *results.Architecture) string {
	if a.ReadYourWrites == nil {
		return workload.RYWNone
	}
	return a.ReadYourWrites.Policy
}

// canonical is v as compact JSON, for equality and messages.
func canonical(v any) string {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(data)
}

// environmentWarnings lists how the two runs' environments differ.
func environmentWarnings(baseline, result *results.Run) []string {
	be, re := baseline.Environment, result.Environment
	var w []string
	differs := func(what, b, r string) {
		if b != r {
			w = append(w, fmt.Sprintf("%s differs: %s vs %s", what, orUnknown(b), orUnknown(r)))
		}
	}
	differs("provider", be.Infra.Provider, re.Infra.Provider)
	for _, role := range roles(be.Infra, re.Infra) {
		bs, bok := be.Infra.Find(role)
		rs, rok := re.Infra.Find(role)
		differs(role, serviceLine(bs, bok), serviceLine(rs, rok))
		if bok && rok && canonical(bs.Settings) != canonical(rs.Settings) {
			w = append(w, role+" settings differ")
		}
	}
	differs("host", hostLine(be.Host), hostLine(re.Host))
	differs("cqrsbench", baseline.Tool.Version, result.Tool.Version)
	for _, side := range []struct {
		name string
		in   services.Description
	}{{"baseline", be.Infra}, {"result", re.Infra}} {
		for _, s := range side.in.Fakes() {
			w = append(w, fmt.Sprintf("the %s ran on %s, an in-process fake, NOT real %s: its figures of architectures that need %[3]s say nothing about %[3]s",
				side.name, s.Name(), s.Role))
		}
	}
	for _, a := range result.Architectures {
		if _, ok := baseline.Arch(a.Name); !ok {
			w = append(w, a.Name+" is not in the baseline: not compared")
		}
	}
	return w
}

// roles lists the roles of the services either run used, the baseline's
// first, in their order.
func roles(baseline, result services.Description) []string {
	var out []string
	for _, d := range []services.Description{baseline, result} {
		for _, s := range d.Services {
			if !slices.Contains(out, s.Role) {
				out = append(out, s.Role)
			}
		}
	}
	return out
}

// serviceLine describes the service of a role and how it was provided
// (a fake says so itself); "none" when the run used none.
func serviceLine(s services.Service, used bool) string {
	switch {
	case !used:
		return "none"
	case s.IsFake():
		return s.String()
	}
	return fmt.Sprintf("%s (%s)", s, orUnknown(s.Kind))
}

func hostLine(h results.Host) string {
	return fmt.Sprintf("%d CPUs %s/%s", h.CPUs, h.OS, h.Arch)
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
