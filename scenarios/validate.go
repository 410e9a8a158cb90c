package scenarios

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/runner"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// validator collects the errors of one scenario.
type validator struct {
	s    *Scenario
	errs ErrorList
}

// errorf records an error at path, unless path already failed to decode.
func (v *validator) errorf(path, format string, args ...any) {
	if v.s.src.failed(path) {
		return
	}
	v.errs = append(v.errs, v.s.src.errorAt(path, fmt.Sprintf(format, args...)))
}

// given reports whether a field was set: present in the source, or
// non-zero.
func (v *validator) given(path string, nonZero bool) bool {
	return nonZero || v.s.src.present(path)
}

// Validate checks every field of a defaulted scenario and returns an
// ErrorList naming each bad value with its file and line, or nil.
func (s *Scenario) Validate() error {
	v := &validator{s: s}
	v.validate()
	return v.errs.err()
}

func (v *validator) validate() {
	s := v.s
	if s.Name == "" {
		v.errorf("name", "missing; name the scenario (letters, digits, '-', '_', '.')")
	} else if i := strings.IndexFunc(s.Name, func(r rune) bool { return !isNameRune(r) }); i >= 0 {
		v.errorf("name", "%q has %q; use letters, digits, '-', '_' and '.'", s.Name, s.Name[i:i+1])
	}
	if strings.ContainsAny(s.Description, "\r\n") {
		v.errorf("description", "must be one line; `cqrsbench scenarios` prints it next to the name")
	}

	d := s.Dataset
	if d.Orders <= 0 {
		v.errorf("dataset.orders", "must be > 0, got %d", d.Orders)
	}
	if d.Customers <= 0 {
		v.errorf("dataset.customers", "must be > 0, got %d", d.Customers)
	}
	if d.Skew < 0 || (d.Skew > 0 && d.Skew <= 1) {
		v.errorf("dataset.skew", "must be 0 (uniform) or a Zipf exponent > 1, like 1.1, got %s", got(d.Skew))
	}

	v.architectures()
	v.workload()
	v.mix()
	v.load()

	in := s.Interleaving
	switch in.Mode {
	case Sequential:
		if in.Rounds != 1 {
			v.errorf("interleaving.rounds", "must be 1 in sequential mode, got %d; set interleaving.mode: interleaved for rounds", in.Rounds)
		}
	case Interleaved:
		if in.Rounds < 2 {
			v.errorf("interleaving.rounds", "must be >= 2 in interleaved mode, got %d", in.Rounds)
		}
	default:
		v.enum("interleaving.mode", "interleaving mode", string(in.Mode), strs([]InterleaveMode{Sequential, Interleaved}))
	}

	for _, arch := range slices.Sorted(maps.Keys(s.Options)) {
		for _, fe := range s.Options[arch].Validate() {
			v.errorf("options."+string(arch)+"."+fe.Field, "%s", fe.Msg)
		}
	}

	p := s.Prober
	if p.Sample < 0 || p.Sample > 1 {
		v.errorf("prober.sample", "must be between 0 and 1 (or 0%% and 100%%), got %s", got(float64(p.Sample)))
	}
	if p.Poll <= 0 {
		v.errorf("prober.poll", "must be > 0, got %s", p.Poll)
	}
	if p.MaxShare <= 0 || p.MaxShare > 1 {
		v.errorf("prober.max_share", "must be above 0 and at most 1 (or 100%%) of the offered rate, got %s", got(float64(p.MaxShare)))
	}
	if p.Timeout < p.Poll || p.Timeout <= 0 {
		v.errorf("prober.timeout", "must be > 0 and at least prober.poll (%s), got %s", p.Poll, p.Timeout)
	}

	rw := s.ReadYourWrites
	if !slices.Contains(workload.RYWPolicies(), rw.Policy) {
		v.enum("read_your_writes.policy", "read-your-writes policy", rw.Policy, workload.RYWPolicies())
	}
	for _, a := range slices.Sorted(maps.Keys(rw.Policies)) {
		path := "read_your_writes.policies." + string(a)
		// A policy nothing runs under is a typo, unless --arch or
		// --workload left out the architecture the file gave it to.
		narrowed := s.src != nil && (s.src.flags["architectures"] != "" || s.src.flags["workload"] != "") && s.src.flags[path] == ""
		if p := rw.Policies[a]; !slices.Contains(workload.RYWPolicies(), p) {
			v.enum(path, "read-your-writes policy", p, workload.RYWPolicies())
		} else if !s.runsUnder(a) && !narrowed {
			v.errorf(path, "no architecture run (%s) is %s or a variant of it; add it to the architectures (--arch), or drop its policy", oneOf(s.Architectures), a)
		}
	}
	if rw.Window <= 0 {
		v.errorf("read_your_writes.window", "must be > 0, got %s", rw.Window)
	}
	if rw.Timeout <= 0 {
		v.errorf("read_your_writes.timeout", "must be > 0, got %s", rw.Timeout)
	}

	if c := s.Capacity; c.Search {
		if c.Step < Duration(time.Second) {
			v.errorf("capacity.step", "must be at least 1s for a rate to be measured, got %s", c.Step)
		}
		if c.MaxP99 <= 0 {
			v.errorf("capacity.max_p99", "must be > 0, got %s", c.MaxP99)
		}
		if s.Load.Mode == ModeClosed {
			v.errorf("capacity.search", "needs an open load: a closed run has no rate to raise")
		}
	}
	if sw := s.Sweep; sw != nil {
		v.sweep(sw)
	}
	if s.Verdict.StalenessBudget <= 0 {
		v.errorf("verdict.staleness_budget", "must be > 0, got %s", s.Verdict.StalenessBudget)
	}

	for i := range s.Faults {
		v.fault(i)
	}
	for i, t := range s.Thresholds {
		if _, err := ParseThreshold(t.String()); err != nil && !s.src.failed(index("thresholds", i)) {
			e := s.src.errorAt(index("thresholds", i), err.Error())
			e.Err = err
			v.errs = append(v.errs, e)
		} else if err == nil {
			v.thresholdMetric(i, t)
		}
	}
}

// thresholdMetric checks that a threshold's metric is an operation of the
// workload or a metric every run has (ParseThreshold cannot: it knows no
// workload).
func (v *validator) thresholdMetric(i int, t Threshold) {
	if v.s.workErr != nil {
		return // the workload is wrong: its operations are unknown
	}
	ops := v.operationNames()
	metrics := append(slices.Clone(ops), runMetrics()...)
	if slices.Contains(metrics, t.Metric) {
		return
	}
	msg := fmt.Sprintf("%s %q: unknown metric %q%s; use an operation of workload %s (%s) or one of %s",
		ErrBadThreshold, t.String(), t.Metric, didYouMean(t.Metric, metrics), v.s.Workload().Name(),
		strings.Join(ops, ", "), strings.Join(runMetrics(), ", "))
	e := v.s.src.errorAt(index("thresholds", i), msg)
	e.Err = ErrBadThreshold
	v.errs = append(v.errs, e)
}

func isNameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
}

// enum reports an unknown value of an enumerated field.
func (v *validator) enum(path, what, value string, options []string) {
	if value == "" {
		v.errorf(path, "missing; use one of %s", strings.Join(options, ", "))
		return
	}
	v.errorf(path, "unknown %s %q%s; use one of %s", what, value, didYouMean(value, options), strings.Join(options, ", "))
}

func (v *validator) architectures() {
	archs := v.s.Architectures
	if len(archs) == 0 {
		v.errorf("architectures", "empty; name at least one of %s (or remove the key to run all)", oneOf(Architectures()))
		return
	}
	for i, a := range archs {
		p := index("architectures", i)
		switch {
		case unknownArch(string(a)) != "":
			v.errorf(p, "%s", unknownArch(string(a)))
		case slices.Index(archs, a) < i:
			v.errorf(p, "%s is listed twice", a)
		case !catalog.Runs(catalog.MustLookup(string(a)), v.s.Workload()):
			v.errorf(p, "%s does not run workload packs yet; use %s", a, oneOf(ArchitecturesOf(v.s.Workload())))
		}
	}
}

// operationNames returns the names of the workload's operations.
func (v *validator) operationNames() []string {
	var names []string
	for _, op := range v.s.Workload().Operations() {
		names = append(names, op.Name)
	}
	return names
}

func (v *validator) workload() {
	v.s.Workload()
	if err := v.s.workErr; err != nil {
		var names []string
		for _, w := range catalog.Workloads() {
			names = append(names, w.Name())
		}
		if _, bad := err.(interface{ ExitCode() int }); bad {
			v.errorf("workload", "%s: %v", v.s.WorkloadName, err)
			return
		}
		v.errorf("workload", "unknown workload %q%s; use one of %s, or the directory of a workload pack (like workloads/helpdesk)",
			v.s.WorkloadName, didYouMean(v.s.WorkloadName, names), strings.Join(names, ", "))
	}
}

func (v *validator) mix() {
	if v.s.workErr != nil {
		return // the workload is wrong: its operations are unknown
	}
	ops := v.operationNames()
	if len(ops) == 0 {
		v.errorf("workload", "workload %s has no operations; give it commands: and screens: (format: workloads/README.md)", v.s.Workload().Name())
		return
	}
	var total float64
	for _, op := range slices.Sorted(maps.Keys(v.s.Mix)) {
		w := v.s.Mix[op]
		p := join("mix", string(op))
		switch {
		case !slices.Contains(ops, string(op)):
			v.enum(p, "operation", string(op), ops)
		case w < 0:
			v.errorf(p, "weight must be >= 0, got %s", got(w))
		default:
			total += w
		}
	}
	if total <= 0 && !v.s.src.failed("mix") {
		v.errorf("mix", "weights sum to 0; give at least one operation a positive weight, like %s", v.mixExample())
	}
}

// mixExample is a mix of the workload's first screen and first command.
func (v *validator) mixExample() string {
	var parts []string
	for _, query := range []bool{true, false} {
		for _, op := range v.s.Workload().Operations() {
			if op.Query == query {
				parts = append(parts, fmt.Sprintf("%s: %d", op.Name, map[bool]int{true: 80, false: 20}[query]))
				break
			}
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

func (v *validator) load() {
	l := v.s.Load
	open := true
	switch l.Mode {
	case ModeOpen:
	case ModeClosed:
		open = false
		if v.given("load.rate", l.Rate != 0) {
			v.errorf("load.rate", "not used in closed mode, where workers loop as fast as they can; remove it or set load.mode: open")
		}
		if v.given("load.arrival", l.Arrival != "") {
			v.errorf("load.arrival", "not used in closed mode; remove it or set load.mode: open")
		}
		if v.s.src.present("load.phases") || len(l.Phases) > 1 || slices.ContainsFunc(l.Phases, func(p Phase) bool { return p.Rate != 0 || p.Ramp != nil }) {
			v.errorf("load.phases", "not used in closed mode; use load.duration, or set load.mode: open")
		}
	default:
		open = false
		v.enum("load.mode", "load mode", string(l.Mode), strs([]Mode{ModeOpen, ModeClosed}))
	}
	if open {
		if l.Rate <= 0 {
			v.errorf("load.rate", "must be > 0 ops/s, got %s", got(l.Rate))
		}
		v.schedulable("load.rate", l.Rate)
		if l.Arrival != ArrivalUniform && l.Arrival != ArrivalPoisson {
			v.enum("load.arrival", "arrival", string(l.Arrival), strs([]Arrival{ArrivalUniform, ArrivalPoisson}))
		}
	}
	if l.Workers <= 0 {
		v.errorf("load.workers", "must be > 0, got %d", l.Workers)
	}
	if l.Connections <= 0 {
		v.errorf("load.connections", "must be > 0, got %d", l.Connections)
	}
	if l.Duration <= 0 {
		v.errorf("load.duration", "must be > 0, got %s", l.Duration)
	}
	if l.Warmup < 0 {
		v.errorf("load.warmup", "must be >= 0, got %s", l.Warmup)
	}
	if len(l.Phases) == 0 {
		if v.s.src.present("load.phases") {
			v.errorf("load.phases", "empty; give at least one phase, or remove the key to run load.duration at load.rate")
		}
		return
	}
	if v.s.src != nil && !v.s.src.present("load.phases") {
		return // the one phase was derived from load.rate and load.duration, checked above
	}
	var total Duration
	for i, p := range l.Phases {
		path := index("load.phases", i)
		total += p.Duration
		if p.Name == "" {
			v.errorf(path+".name", "must not be empty")
		} else if j := slices.IndexFunc(l.Phases, func(q Phase) bool { return q.Name == p.Name }); j < i {
			v.errorf(path+".name", "%q is already the name of load.phases[%d]", p.Name, j)
		}
		if p.Duration <= 0 {
			v.errorf(path+".duration", "must be > 0, got %s", p.Duration)
		}
		if !open {
			continue
		}
		switch {
		case p.Ramp != nil && v.given(path+".rate", p.Rate != 0):
			v.errorf(path, "give rate or ramp, not both")
		case p.Ramp != nil:
			r := *p.Ramp
			if r.From < 0 {
				v.errorf(path+".ramp.from", "must be >= 0, got %s", got(r.From))
			}
			if r.To < 0 {
				v.errorf(path+".ramp.to", "must be >= 0, got %s", got(r.To))
			}
			if r.From == 0 && r.To == 0 {
				v.errorf(path+".ramp", "from and to are both 0; give the rates to ramp between, like {from: 100, to: 800}")
			}
			v.schedulable(path+".ramp.from", r.From)
			v.schedulable(path+".ramp.to", r.To)
		case p.Rate <= 0:
			v.errorf(path+".rate", "must be > 0 ops/s, got %s", got(p.Rate))
		default:
			v.schedulable(path+".rate", p.Rate)
		}
	}
	if total != l.Duration && !v.s.src.failed("load.phases") {
		v.errorf("load.duration", "%s, but load.phases add up to %s; remove load.duration or make them agree", l.Duration, total)
	}
}

// schedulable refuses a rate beyond what the load generator schedules
// without measuring itself (runner.MaxRate).
func (v *validator) schedulable(path string, rate float64) {
	if rate > runner.MaxRate {
		v.errorf(path, "%s ops/s is more than cqrsbench's load generator schedules faithfully (%d ops/s: above it, its own dispatch takes a core's noticeable share and the latencies measure it); lower the rate, or split the load over several cqrsbench processes", got(rate), runner.MaxRate)
	}
}

// faultArch checks the architecture a fault targets: one of the run's that
// offers what the kind needs, or none, meaning every such architecture of
// the run (at least one).
func (v *validator) faultArch(f Fault, path string) {
	s := v.s
	if f.Arch == "" {
		if len(s.Architectures) == 0 {
			return // architectures() reports it
		}
		w := s.Workload()
		applies := func(a Arch) bool { return f.AppliesTo(a, s) }
		var capable []Arch
		for _, a := range ArchitecturesOf(w) {
			if applies(a) {
				capable = append(capable, a)
			}
		}
		if !slices.ContainsFunc(s.Architectures, applies) {
			d, _ := s.Descriptor(s.Architectures[0])
			what, _ := f.Kind.Needs(d)
			hint := "run one of " + oneOf(capable)
			if len(capable) == 0 {
				hint = "no architecture offers it on workload " + w.Name() + " yet; drop this fault"
			}
			v.errorf(path+".kind", "%s faults need %s, which none of the architectures run (%s) offers; %s",
				f.Kind, what, oneOf(s.Architectures), hint)
		}
		return
	}
	d, known := s.Descriptor(f.Arch)
	if !known {
		v.errorf(path+".arch", "%s", unknownArch(string(f.Arch)))
		return
	}
	if what, ok := f.Kind.Needs(d); !ok {
		v.errorf(path+".arch", "%s faults need %s, which %s does not offer", f.Kind, what, f.Arch)
		return
	}
	if !s.Has(f.Arch) {
		v.errorf(path+".arch", "%s is not among the architectures run (%s); add it, or drop this fault", f.Arch, oneOf(s.Architectures))
	}
}

func (v *validator) fault(i int) {
	s := v.s
	f := s.Faults[i]
	path := index("faults", i)
	spec, known := specOf(f.Kind)
	if !known {
		v.enum(path+".kind", "fault kind", string(f.Kind), strs(FaultKinds()))
		return
	}
	takes := spec.fields
	// Fields that do not apply to this kind.
	for _, c := range []struct {
		name string
		set  bool
	}{
		{"at", f.At != 0}, {"after_load", f.AfterLoad}, {"every", f.Every != 0}, {"count", f.Count != 0},
		{"fraction", f.Fraction != 0}, {"duration", f.Duration != 0}, {"events", f.Events != 0},
		{"method", f.Method != ""}, {"point", f.Point != ""},
	} {
		if !takes.has(c.name) && v.given(path+"."+c.name, c.set) {
			v.errorf(path+"."+c.name, "not used by %s faults, which take %s", f.Kind, strings.Join(takes, ", "))
		}
	}

	v.faultArch(f, path)

	end := s.Load.Duration
	switch {
	case f.At < 0:
		v.errorf(path+".at", "must be >= 0, got %s", f.At)
	case f.AfterLoad && v.given(path+".at", f.At != 0):
		v.errorf(path+".at", "give at or after_load, not both")
	case !f.AfterLoad && end > 0 && f.At >= end:
		v.errorf(path+".at", "%s is past the end of the measured run (load.duration %s)", f.At, end)
	}
	if f.Every < 0 {
		v.errorf(path+".every", "must be >= 0, got %s", f.Every)
	}
	if takes.has("count") {
		switch {
		case f.Count < 0:
			v.errorf(path+".count", "must be >= 0, got %d", f.Count)
		case f.Count == 0 && f.Every == 0:
			v.errorf(path+".count", "0 means repeat until the run ends, which needs every > 0")
		case f.Count > 1 && f.Every == 0:
			v.errorf(path+".every", "missing; %d injections need a period between them, like every: 5s", f.Count)
		}
	}
	if takes.has("fraction") && (f.Fraction <= 0 || f.Fraction > 1) {
		v.errorf(path+".fraction", "must be in (0, 1] (or a percentage up to 100%%), got %s", got(float64(f.Fraction)))
	}
	if takes.has("duration") {
		switch {
		case f.Duration < 0:
			v.errorf(path+".duration", "must be >= 0, got %s", f.Duration)
		case f.Duration == 0 && spec.durationRequired:
			v.errorf(path+".duration", "must be > 0 for %s faults", f.Kind)
		}
	}
	if takes.has("events") && f.Events <= 0 {
		v.errorf(path+".events", "must be > 0, got %d", f.Events)
	}
	if takes.has("method") && f.Method != DuplicateRepublish && f.Method != DuplicateLostAck {
		v.enum(path+".method", "duplicate method", string(f.Method), strs([]DuplicateMethod{DuplicateRepublish, DuplicateLostAck}))
	}
	if takes.has("point") && !slices.Contains(spec.points, f.Point) {
		v.enum(path+".point", string(f.Kind)+" point", string(f.Point), strs(spec.points))
	}
}

// sweep checks the sweep's parameter and that every value makes a valid
// scenario.
func (v *validator) sweep(sw *Sweep) {
	if _, ok := sweepParameters()[sw.Parameter]; !ok {
		v.errorf("sweep.parameter", "unknown %q; use one of %s", sw.Parameter, sweepParameterNames())
		return
	}
	if len(sw.Values) < 2 {
		v.errorf("sweep.values", "a sweep needs at least 2 values, got %d", len(sw.Values))
		return
	}
	points, err := v.s.SweepPoints()
	if err != nil {
		v.errorf("sweep.values", "%v", err)
		return
	}
	for i, p := range points {
		if err := p.Validate(); err != nil {
			v.errorf(index("sweep.values", i), "%s=%s makes the scenario invalid: %v", sw.Parameter, got(sw.Values[i]), err)
		}
	}
}
