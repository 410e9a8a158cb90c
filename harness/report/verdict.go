package report

import (
	"cmp"
	"fmt"
	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"maps"
	"slices"
	"strings"

	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/harness/services"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// Limits beyond which Verdicts says a result cannot be taken at face value.
const (
	// errorWarn is the share of failed operations worth a warning: failed
	// operations are not in the latencies.
	errorWarn = 0.05
	// fewSamples is the sample count below which a p99 is not stable.
	fewSamples = 100
	// sameBand is how close to 1 a ratio is "about the same".
	sameBand = 0.05
	// warnPrefix starts every verdict that flags an untrustworthy result.
	warnPrefix = "WARNING "
)

// headlineOps returns the operations verdicts compare, reads then writes,
// each in the workload's order, its order of preference: the first one an
// architecture ran is its headline.
func headlineOps(run *results.Run) [2][]string {
	var out [2][]string
	for _, op := range workloadOps(run) {
		if op.Query {
			out[0] = append(out[0], op.Name)
		} else {
			out[1] = append(out[1], op.Name)
		}
	}
	return out
}

// Verdicts returns one-line conclusions computed from run's numbers.
//
// First, for each CQRS architecture, what it buys on reads and costs on
// writes against crud, then its lag and staleness:
//
//	cqrs-kafka: list_orders p99 is 11.8x lower than crud (0.52 vs 6.10 ms); create_order p99 is 1.4x higher (5.80 vs 4.10 ms); projection lag p99 41 ms; 0.8% of reads stale
//
// The headline read is list_orders (else sales_dashboard), the headline
// write create_order (else the first command run). What cannot be compared
// says n/a and why: crud not run, an operation without successful samples.
//
// Then, each starting with "WARNING ", what makes numbers untrustworthy:
// Kafka being kfake; offered load not sustained (late or dropped
// operations, so latencies include queueing); many failed operations;
// probed writes never seen; failed refreshes; percentiles resting on few
// samples.
func Verdicts(run *results.Run) []string {
	if run == nil || len(run.Architectures) == 0 {
		return []string{"no architecture ran: nothing to compare"}
	}
	crud, hasCRUD := run.Arch(catalog.Baseline())
	var out []string
	compared := 0
	for i := range run.Architectures {
		a := &run.Architectures[i]
		if a.Name == catalog.Baseline() {
			continue
		}
		compared++
		d, _ := descriptorIn(run, a.Name)
		out = append(out, archVerdict(headlineOps(run), a, crud, d))
	}
	if compared == 0 && hasCRUD {
		out = append(out, crudOnly(headlineOps(run), crud))
	}
	return append(out, warnings(run)...)
}

// archVerdict compares a with crud (nil when crud did not run).
func archVerdict(headlines [2][]string, a, crud *results.Architecture, d catalog.Descriptor) string {
	var parts []string
	thanCRUD := " than crud"
	for _, ops := range headlines {
		name, ok := headline(a, ops)
		if !ok {
			continue
		}
		s, comparedToCRUD := compareOp(a, crud, name, thanCRUD)
		if comparedToCRUD {
			thanCRUD = ""
		}
		parts = append(parts, s)
	}
	if crud == nil && len(parts) > 0 {
		parts[len(parts)-1] += " (n/a vs crud: crud not run)"
	}
	if s := lagVerdict(a, d); s != "" {
		parts = append(parts, s)
	}
	parts = append(parts, staleVerdict(a))
	return a.Name + ": " + strings.Join(parts, "; ")
}

// headline returns the first of ops that a ran.
func headline(a *results.Architecture, ops []string) (string, bool) {
	for _, name := range ops {
		if _, ok := a.Op(name); ok {
			return name, true
		}
	}
	return "", false
}

// compareOp says how a's p99 of operation name compares with crud's, and
// whether it could compare.
func compareOp(a, crud *results.Architecture, name, thanCRUD string) (string, bool) {
	op, _ := a.Op(name)
	if op.Latency.Count == 0 {
		return name + " p99 n/a (no successful operations)", false
	}
	mine := op.Latency.P99
	if crud == nil {
		return fmt.Sprintf("%s p99 %s", name, human(mine)), false
	}
	base, ok := crud.Op(name)
	if !ok || base.Latency.Count == 0 || base.Latency.P99 == 0 {
		why := "crud did not run it"
		if ok {
			why = "no successful crud operations"
		}
		return fmt.Sprintf("%s p99 %s (n/a vs crud: %s)", name, human(mine), why), false
	}
	theirs := base.Latency.P99
	r := mine / theirs
	nums := fmt.Sprintf("(%s vs %s ms)", ms(mine), ms(theirs))
	switch {
	case r >= 1-sameBand && r <= 1+sameBand:
		return fmt.Sprintf("%s p99 is about the same as crud %s", name, nums), true
	case r < 1:
		return fmt.Sprintf("%s p99 is %sx lower%s %s", name, factor(1/r), thanCRUD, nums), true
	default:
		return fmt.Sprintf("%s p99 is %sx higher%s %s", name, factor(r), thanCRUD, nums), true
	}
}

// lagVerdict states a's projection or visibility lag; empty for an
// architecture that has neither and is not eventually consistent.
func lagVerdict(a *results.Architecture, d catalog.Descriptor) string {
	st, hasStage := a.Lag.Stage(results.StageEndToEnd)
	hasStage = hasStage && st.Stats.Count > 0
	hasVisible := a.Lag != nil && a.Lag.Visible.Count > 0
	switch {
	case hasStage && hasVisible:
		return fmt.Sprintf("projection lag p99 %s (prober: %s)", human(st.Stats.P99), human(a.Lag.Visible.P99))
	case hasStage:
		return "projection lag p99 " + human(st.Stats.P99)
	case hasVisible && d.Consistency.Lags():
		return "visible lag p99 " + human(a.Lag.Visible.P99) + " (prober)"
	case catalog.Offers[reference.Pipeline](d):
		return "projection lag n/a (no samples)"
	case d.Consistency.Lags():
		return "visible lag n/a (no prober samples)"
	}
	return ""
}

// staleVerdict states the share of a's reads that were stale.
func staleVerdict(a *results.Architecture) string {
	s := a.Staleness
	if s.Reads == 0 {
		return "staleness n/a (no reads classified)"
	}
	out := pct(s.Rate) + " of reads stale"
	if s.Stale > 0 && s.Age.Count > 0 {
		out += " (age p99 " + human(s.Age.P99) + ")"
	}
	return out
}

// crudOnly summarises a run of crud alone.
func crudOnly(headlines [2][]string, crud *results.Architecture) string {
	var parts []string
	for _, ops := range headlines {
		if name, ok := headline(crud, ops); ok {
			op, _ := crud.Op(name)
			if op.Latency.Count == 0 {
				parts = append(parts, name+" p99 n/a")
				continue
			}
			parts = append(parts, name+" p99 "+human(op.Latency.P99))
		}
	}
	s := "crud only"
	if len(parts) > 0 {
		s += ": " + strings.Join(parts, ", ")
	}
	return s + "; no CQRS architecture ran to compare with"
}

// warnings flags what makes run's numbers untrustworthy.
func warnings(run *results.Run) []string {
	var out []string
	for _, s := range run.Environment.Infra.Fakes() {
		if len(usedBy(run, s.Role)) > 0 {
			out = append(out, warnPrefix+fakeWarning(run, s, ""))
		}
	}
	var few []string
	for i := range run.Architectures {
		a := &run.Architectures[i]
		if s := loadWarning(a); s != "" {
			out = append(out, s)
		}
		if s := errorWarning(a); s != "" {
			out = append(out, s)
		}
		if a.Lag != nil && a.Lag.ProbeTimeouts > 0 {
			out = append(out, fmt.Sprintf("%s%s: %s never became visible within the prober's timeout; visible lag understates the tail",
				warnPrefix, a.Name, plural(a.Lag.ProbeTimeouts, "probed write", "probed writes")))
		}
		if s := slotWarning(a); s != "" {
			out = append(out, s)
		}
		if c := a.Consistency; c != nil && c.Violations > 0 {
			out = append(out, fmt.Sprintf("%s%s: read models INCONSISTENT with the write model after catch-up: %d lost, %d extra, %d mismatched rows",
				warnPrefix, a.Name, c.Lost, c.Extra, c.Mismatched))
		}
		if a.Refresh != nil && a.Refresh.Errors > 0 {
			out = append(out, fmt.Sprintf("%s%s: %s of %d failed; the views were staler than the period",
				warnPrefix, a.Name, plural(a.Refresh.Errors, "refresh", "refreshes"), a.Refresh.Count))
		}
		for _, ops := range headlineOps(run) {
			if name, ok := headline(a, ops); ok {
				if op, _ := a.Op(name); op.Latency.Count > 0 && op.Latency.Count < fewSamples {
					few = append(few, fmt.Sprintf("%s %s %d", a.Name, name, op.Latency.Count))
				}
			}
		}
	}
	if len(few) > 0 {
		out = append(out, fmt.Sprintf("%sp99 rests on fewer than %d samples (%s): run longer for a stable tail",
			warnPrefix, fewSamples, strings.Join(few, ", ")))
	}
	return out
}

// loadWarning flags an open-model run whose offered load was not
// sustained: fewer operations completed than offered, or the system kept
// every worker busy when operations were due (queued) or dropped them.
// Operations the load generator itself started late, with a worker idle,
// do not count.
func loadWarning(a *results.Architecture) string {
	l := a.Load
	if sustained(l) {
		return ""
	}
	queued := float64(l.Queued) / float64(l.Scheduled)
	dropped := float64(l.Dropped) / float64(l.Scheduled)
	behind := l.AchievedRate < results.AchievedShare*l.OfferedRate
	var what []string
	if l.Queued > 0 {
		what = append(what, pct(queued)+" of ops queued (every worker busy when due)")
	}
	if l.Dropped > 0 {
		what = append(what, pct(dropped)+" dropped")
	}
	if behind {
		what = append(what, fmt.Sprintf("achieved %s of %s ops/s offered", rate(l.AchievedRate), rate(l.OfferedRate)))
	}
	return fmt.Sprintf("%s%s: offered load not sustained: %s — latencies include queueing",
		warnPrefix, a.Name, strings.Join(what, "; "))
}

// slotWarning says when a's WAL relay was down while its slot kept WAL
// for it (a relay down too long fills the server's disk, or, past
// max_slot_wal_keep_size, loses events); "" otherwise.
func slotWarning(a *results.Architecture) string {
	if a.Lag == nil || a.Lag.Slot == nil {
		return ""
	}
	s := a.Lag.Slot
	switch {
	case s.Lost:
		return fmt.Sprintf("%s%s: its WAL relay's slot went past max_slot_wal_keep_size (%s MB kept): the server removes WAL the relay has not read, and the events in it",
			warnPrefix, a.Name, rate(float64(s.RetainedBytesMax)/(1<<20)))
	case s.InactiveSamples > 0:
		return fmt.Sprintf("%s%s: no WAL relay was connected to its slot in %d of %d samples, while the server kept up to %s MB of WAL for it (it grows for as long as the relay is down)",
			warnPrefix, a.Name, s.InactiveSamples, s.Samples, rate(float64(s.RetainedBytesMax)/(1<<20)))
	}
	return ""
}

// sustained reports whether l kept up with the offered rate
// (results.LoadSummary.Sustained).
func sustained(l results.LoadSummary) bool { return l.Sustained() }

// errorWarning flags an architecture where many operations failed.
func errorWarning(a *results.Architecture) string {
	l := a.Load
	if l.Completed == 0 || float64(l.Errors)/float64(l.Completed) < errorWarn {
		return ""
	}
	kinds := map[string]int64{}
	for _, op := range a.Ops {
		for k, n := range op.ErrorKind {
			kinds[k] += n
		}
	}
	names := slices.SortedFunc(maps.Keys(kinds), func(x, y string) int {
		return cmp.Or(cmp.Compare(kinds[y], kinds[x]), cmp.Compare(x, y))
	})
	var top []string
	for i, k := range names {
		if i == 3 {
			top = append(top, "…")
			break
		}
		top = append(top, fmt.Sprintf("%s %d", k, kinds[k]))
	}
	s := fmt.Sprintf("%s%s: %s of operations failed", warnPrefix, a.Name, pct(float64(l.Errors)/float64(l.Completed)))
	if len(top) > 0 {
		s += " (" + strings.Join(top, ", ") + ")"
	}
	return s + "; failed operations are not in the latencies"
}

// descriptorIn returns the named architecture's descriptor as run ran it,
// with the run's options for it (catalog.Descriptor.With: read_from:
// replica needs a replica and lags); ok is false for a name this build's
// table lacks.
func descriptorIn(run *results.Run, name string) (catalog.Descriptor, bool) {
	d, ok := catalog.Lookup(name)
	if ok && run.Scenario != nil {
		d = d.With(run.Scenario.Options.For(scenarios.Arch(name)))
	}
	return d, ok
}

// usedBy lists the architectures of run that used the service of the given
// role: every architecture uses PostgreSQL, the others the services their
// table entry needs with the run's options (catalog.Descriptor.With;
// catalog.Service names a role).
func usedBy(run *results.Run, role string) []string {
	var out []string
	for _, a := range run.Architectures {
		d, ok := descriptorIn(run, a.Name)
		if role == services.RolePostgres || ok && slices.Contains(d.Needs, catalog.Service(role)) {
			out = append(out, a.Name)
		}
	}
	return out
}

// fakeWarning says that the architectures of run that used s, an
// in-process fake, measured nothing of the real service; none names them
// when no architecture of run used it.
func fakeWarning(run *results.Run, s services.Service, none string) string {
	return archList(usedBy(run, s.Role), none) + " ran on " + s.Name() + ", an in-process fake, NOT real " + s.Role +
		": their latencies and lag say nothing about " + s.Role
}
