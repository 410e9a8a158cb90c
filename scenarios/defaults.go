package scenarios

import (
	"path/filepath"
	"strconv"
	"strings"

	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// SetDefaults fills every field the scenario did not set with its default
// (each field's doc comment states it). For a scenario decoded from YAML,
// "not set" means absent from the file, so an explicit zero is kept (and
// Validate judges it); for one built in Go it means the zero value. Call it
// once, before changing fields by hand: it cannot tell a zero set in Go from
// an unset field.
func (s *Scenario) SetDefaults() {
	unset := func(path string, zero bool) bool { return zero && !s.src.present(path) }

	if unset("name", s.Name == "") && s.File != "" {
		s.Name = strings.TrimSuffix(filepath.Base(s.File), filepath.Ext(s.File))
	}

	if unset("workload", s.WorkloadName == "") {
		s.WorkloadName = catalog.DefaultWorkload().Name()
	}

	d := &s.Dataset
	if unset("dataset.orders", d.Orders == 0) {
		d.Orders = defaultOrders
	}
	if unset("dataset.customers", d.Customers == 0) {
		d.Customers = max(1, d.Orders/defaultCustomersPerOrder)
	}
	if unset("dataset.seed", d.Seed == 0) {
		d.Seed = defaultSeed
	}

	if unset("architectures", s.Architectures == nil) {
		s.Architectures = DefaultArchitectures(s.Workload())
	}
	if unset("mix", s.Mix == nil) {
		s.Mix = defaultMix(s.Workload())
	}

	s.defaultLoad()

	in := &s.Interleaving
	if unset("interleaving.mode", in.Mode == "") {
		in.Mode = Sequential
	}
	if unset("interleaving.rounds", in.Rounds == 0) {
		in.Rounds = 1
		if in.Mode == Interleaved {
			in.Rounds = defaultRounds
		}
	}

	s.Capacity.setDefaults(unset)

	s.defaultOptions()

	p := &s.Prober
	if unset("prober.sample", p.Sample == 0) {
		p.Sample = defaultProbeSample
	}
	if unset("prober.poll", p.Poll == 0) {
		p.Poll = Duration(defaultProbePoll)
	}
	if unset("prober.timeout", p.Timeout == 0) {
		p.Timeout = Duration(defaultProbeTimeout)
	}
	if unset("prober.max_share", p.MaxShare == 0) {
		p.MaxShare = defaultProbeMaxShare
	}

	rw := &s.ReadYourWrites
	if unset("read_your_writes.policy", rw.Policy == "") {
		rw.Policy = workload.RYWNone
	}
	if unset("read_your_writes.window", rw.Window == 0) {
		rw.Window = Duration(defaultRYWWait)
	}
	if unset("read_your_writes.timeout", rw.Timeout == 0) {
		rw.Timeout = Duration(defaultRYWWait)
	}

	if unset("verdict.staleness_budget", s.Verdict.StalenessBudget == 0) {
		s.Verdict.StalenessBudget = Duration(DefaultStalenessBudget)
	}

	for i := range s.Faults {
		s.defaultFault(i)
	}
}

// setDefaults fills the search's unset fields when it is on.
func (c *Capacity) setDefaults(unset func(path string, zero bool) bool) {
	if !c.Search {
		return
	}
	if unset("capacity.step", c.Step == 0) {
		c.Step = Duration(defaultCapacityStep)
	}
	if unset("capacity.max_p99", c.MaxP99 == 0) {
		c.MaxP99 = Duration(defaultCapacityMaxP99)
	}
}

// defaultLoad fills the load, deriving the phases from rate and duration
// when none are given.
func (s *Scenario) defaultLoad() {
	unset := func(path string, zero bool) bool { return zero && !s.src.present(path) }
	l := &s.Load
	if unset("load.mode", l.Mode == "") {
		l.Mode = ModeOpen
	}
	open := l.Mode != ModeClosed
	if open && unset("load.rate", l.Rate == 0) {
		l.Rate = defaultRate
	}
	if open && unset("load.arrival", l.Arrival == "") {
		l.Arrival = ArrivalUniform
	}
	if unset("load.workers", l.Workers == 0) {
		l.Workers = defaultOpenWorkers
		if !open {
			l.Workers = defaultClosedWorkers
		}
	}
	if unset("load.connections", l.Connections == 0) {
		l.Connections = defaultConnections
	}
	if unset("load.warmup", l.Warmup == 0) {
		l.Warmup = Duration(defaultWarmup)
	}
	if unset("load.phases", l.Phases == nil) {
		if unset("load.duration", l.Duration == 0) {
			l.Duration = Duration(defaultDuration)
		}
		l.Phases = []Phase{{Name: steadyPhase, Duration: l.Duration}}
		if open {
			l.Phases[0].Rate = l.Rate
		}
		return
	}
	var total Duration
	for i := range l.Phases {
		p := &l.Phases[i]
		path := index("load.phases", i)
		if unset(path+".name", p.Name == "") {
			p.Name = "phase-" + strconv.Itoa(i+1)
		}
		if open && p.Ramp == nil && unset(path+".rate", p.Rate == 0) && !s.src.present(path+".ramp") {
			p.Rate = l.Rate
		}
		total += p.Duration
	}
	if unset("load.duration", l.Duration == 0) {
		l.Duration = total
	}
}

// defaultOptions gives every architecture run that takes options its
// defaults, so results record the options each one ran with.
func (s *Scenario) defaultOptions() {
	for _, arch := range s.Architectures {
		if _, given := s.Options[arch]; given {
			continue
		}
		if opts := s.Options.For(arch); opts != nil {
			if s.Options == nil {
				s.Options = Options{}
			}
			s.Options[arch] = opts
		}
	}
}

// defaultFault fills the fields of fault i that apply to its kind; the
// others stay zero so Validate can reject them when set.
func (s *Scenario) defaultFault(i int) {
	f := &s.Faults[i]
	path := index("faults", i)
	unset := func(name string, zero bool) bool { return zero && !s.src.present(path+"."+name) }
	spec, known := specOf(f.Kind)
	if !known {
		return // unknown kind: Validate says so
	}
	takes := spec.fields
	if takes.has("count") && unset("count", f.Count == 0) && f.Every == 0 {
		f.Count = 1
	}
	if takes.has("fraction") && unset("fraction", f.Fraction == 0) {
		f.Fraction = defaultDupFraction
	}
	if takes.has("method") && unset("method", f.Method == "") {
		f.Method = DuplicateRepublish
	}
	if takes.has("point") && unset("point", f.Point == "") {
		f.Point = spec.points[0]
	}
	if takes.has("events") && unset("events", f.Events == 0) {
		f.Events = defaultBacklogEvents
	}
	if takes.has("after_load") && unset("after_load", !f.AfterLoad) && unset("at", f.At == 0) {
		f.AfterLoad = true
	}
	if takes.has("duration") && unset("duration", f.Duration == 0) {
		f.Duration = Duration(spec.duration)
	}
}

// fieldSet is a set of fault field names.
type fieldSet []string

func (fs fieldSet) has(name string) bool {
	for _, f := range fs {
		if f == name {
			return true
		}
	}
	return false
}
