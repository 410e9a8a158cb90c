package scenarios

import (
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/cqrsbench/cqrsbench/reference/catalog"
)

// Overrides are command-line changes to a scenario (`cqrsbench run --orders
// … --duration … --rate … --seed … --arch …`). A nil field, or a nil Arch,
// keeps the scenario's value.
type Overrides struct {
	// Orders replaces dataset.orders (--orders). Customers follow it
	// (orders/10) unless the scenario sets them.
	Orders *int
	// Duration replaces load.duration (--duration). Phases, and the at and
	// every of faults, are scaled by the same factor so the shape of the run
	// is kept.
	Duration *time.Duration
	// Rate replaces the offered rate (--rate). With several phases it is the
	// new peak: every phase rate and ramp is scaled by the same factor.
	// Not allowed in closed mode.
	Rate *float64
	// Seed replaces dataset.seed (--seed).
	Seed *uint64
	// Arch replaces the architectures (--arch); an element may itself be a
	// comma-separated list.
	Arch []string
	// Faults, when not nil, replace the scenario's faults (--fault, one per
	// fault): each is the fields of one fault as comma-separated key=value
	// pairs with the YAML names and values, e.g.
	// "kind=broker-restart,at=15s,duration=10s". An element "none" removes
	// every fault.
	Faults []string
	// Workload replaces the workload (--workload): a built-in workload's
	// name or a pack's directory, relative to the working directory. The
	// scenario's mix is kept if the new workload has all its operations,
	// else replaced by the workload's own; thresholds on operations the
	// workload lacks are dropped; its architectures (unless Arch sets
	// them) are narrowed to those that run the workload.
	Workload *string
	// StalenessBudget replaces verdict.staleness_budget
	// (--staleness-budget).
	StalenessBudget *time.Duration
	// FindMaxRate turns capacity.search on (--find-max-rate), with its
	// defaults for the fields the scenario does not set.
	FindMaxRate bool
	// Sweep replaces the sweep (--sweep PARAMETER=V1,V2,...).
	Sweep *Sweep
	// ReadYourWrites set read-your-writes policies (--read-your-writes,
	// one each): "POLICY" is every architecture's (read_your_writes.policy,
	// the scenario's read_your_writes.policies dropped); "ARCH=POLICY"
	// then gives one its own (read_your_writes.policies.ARCH), e.g.
	// "crud-replica/wait=wait-for-token".
	ReadYourWrites []string
	// Options set architectures' options (--option, one field each), as
	// options.ARCH.FIELD does in a scenario: each is "ARCH.FIELD=VALUE"
	// with the YAML names and values, e.g. "cqrs-kafka/wal.relay=wal";
	// the architecture's other options keep the scenario's values, or
	// their defaults.
	Options []string
}

// WithOverrides returns a copy of s with o applied and validated again; s is
// not changed. Errors name the flag that set the bad value ("--rate:
// load.rate: must be > 0 ops/s, got -5"), or the file and line of a field
// the override made invalid.
func (s *Scenario) WithOverrides(o Overrides) (*Scenario, error) {
	c := s.Clone()
	if c.src == nil {
		c.src = newSource(c.File)
	}
	var errs ErrorList
	bad := func(flag, path, format string, args ...any) {
		errs = append(errs, &Error{File: c.File, Flag: flag, Path: path, Msg: fmt.Sprintf(format, args...)})
	}

	if o.Orders != nil {
		if *o.Orders <= 0 {
			bad("--orders", "dataset.orders", "must be > 0, got %d", *o.Orders)
		} else {
			c.Dataset.Orders = *o.Orders
			if !c.src.present("dataset.customers") {
				c.Dataset.Customers = max(1, c.Dataset.Orders/defaultCustomersPerOrder)
			}
			c.src.flags["dataset.orders"] = "--orders"
		}
	}
	if o.Seed != nil {
		c.Dataset.Seed = *o.Seed
		c.src.flags["dataset.seed"] = "--seed"
	}
	if o.Duration != nil {
		if *o.Duration <= 0 {
			bad("--duration", "load.duration", "must be > 0, got %s", *o.Duration)
		} else {
			c.scaleDuration(Duration(*o.Duration))
		}
	}
	if o.Rate != nil {
		switch r := *o.Rate; {
		case r <= 0 || math.IsNaN(r) || math.IsInf(r, 0):
			bad("--rate", "load.rate", "must be > 0 ops/s, got %s", got(r))
		case c.Load.Mode == ModeClosed:
			bad("--rate", "load.rate", "not used in closed mode, where workers loop as fast as they can")
		default:
			c.scaleRate(r)
		}
	}
	if o.FindMaxRate && !c.Capacity.Search {
		c.Capacity.Search = true
		c.Capacity.setDefaults(func(_ string, zero bool) bool { return zero })
		c.src.flags["capacity.search"] = "--find-max-rate"
	}
	if o.StalenessBudget != nil {
		if *o.StalenessBudget <= 0 {
			bad("--staleness-budget", "verdict.staleness_budget", "must be > 0, got %s", *o.StalenessBudget)
		} else {
			c.Verdict.StalenessBudget = Duration(*o.StalenessBudget)
			c.src.flags["verdict.staleness_budget"] = "--staleness-budget"
		}
	}
	errs = append(errs, c.setReadYourWrites(o.ReadYourWrites)...)
	if o.Workload != nil {
		c.useWorkload(*o.Workload, o.Arch == nil)
	}
	if o.Sweep != nil {
		c.Sweep = o.Sweep
		c.src.flags["sweep"] = "--sweep"
		c.src.flags["sweep.parameter"] = "--sweep"
		c.src.flags["sweep.values"] = "--sweep"
	}
	if o.Arch != nil {
		archs, ok := parseArchFlag(o.Arch, bad)
		if ok {
			c.Architectures = archs
			c.src.flags["architectures"] = "--arch"
			for i := range archs {
				c.src.flags[index("architectures", i)] = "--arch"
			}
		}
	}
	if o.Faults != nil {
		errs = append(errs, c.replaceFaults(o.Faults)...)
	}
	errs = append(errs, c.setOptions(o.Options)...)
	// Flags that failed left their fields as they were, so the rest can be
	// validated: every problem is reported at once.
	v := &validator{s: c}
	v.validate()
	if err := append(errs, v.errs...).err(); err != nil {
		return nil, err
	}
	return c, nil
}

// parseArchFlag parses --arch values, reporting problems through bad.
func parseArchFlag(values []string, bad func(flag, path, format string, args ...any)) ([]Arch, bool) {
	var archs []Arch
	ok := true
	for _, v := range values {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			switch {
			case unknownArch(name) != "":
				bad("--arch", "architectures", "%s", unknownArch(name))
				ok = false
			case slices.Contains(archs, Arch(name)):
				bad("--arch", "architectures", "%s is listed twice", name)
				ok = false
			default:
				archs = append(archs, Arch(name))
			}
		}
	}
	if len(archs) == 0 && ok {
		bad("--arch", "architectures", "empty; name at least one of %s", oneOf(Architectures()))
		ok = false
	}
	return archs, ok
}

// scaleDuration sets the measured duration to d, scaling the phases and the
// fault times by the same factor (rounded to the millisecond; the last phase
// takes the remainder so the phases add up to d exactly).
func (s *Scenario) scaleDuration(d Duration) {
	old := s.Load.Duration
	s.Load.Duration = d
	s.src.flags["load.duration"] = "--duration"
	factor := 1.0
	if old > 0 {
		factor = float64(d) / float64(old)
	}
	scale := func(x Duration) Duration {
		return Duration(time.Duration(float64(x) * factor).Round(time.Millisecond))
	}
	ph := s.Load.Phases
	var sum Duration
	for i := range ph {
		if i == len(ph)-1 {
			ph[i].Duration = d - sum
		} else {
			ph[i].Duration = scale(ph[i].Duration)
			sum += ph[i].Duration
		}
		s.src.flags[index("load.phases", i)+".duration"] = "--duration"
	}
	for i := range s.Faults {
		s.Faults[i].At = scale(s.Faults[i].At)
		s.Faults[i].Every = scale(s.Faults[i].Every)
	}
}

// scaleRate makes r the peak offered rate, scaling every phase by the same
// factor.
func (s *Scenario) scaleRate(r float64) {
	peak := 0.0
	for _, p := range s.Load.Phases {
		peak = max(peak, p.peakRate())
	}
	factor := 1.0
	if peak > 0 {
		factor = r / peak
	}
	if len(s.Load.Phases) <= 1 {
		s.Load.Rate = r
	} else {
		s.Load.Rate *= factor
	}
	s.src.flags["load.rate"] = "--rate"
	for i := range s.Load.Phases {
		p := &s.Load.Phases[i]
		path := index("load.phases", i)
		if p.Ramp != nil {
			p.Ramp = &Ramp{From: p.Ramp.From * factor, To: p.Ramp.To * factor}
			s.src.flags[path+".ramp"] = "--rate"
			continue
		}
		p.Rate *= factor
		s.src.flags[path+".rate"] = "--rate"
	}
	if len(s.Load.Phases) == 1 && s.Load.Phases[0].Ramp == nil {
		s.Load.Phases[0].Rate = r
	}
}

// replaceFaults replaces the faults with the --fault specs, decoded like the
// file's (unknown keys and bad values are errors naming the flag) and
// defaulted the same way.
func (s *Scenario) replaceFaults(specs []string) ErrorList {
	for k := range s.src.lines {
		if k == "faults" || strings.HasPrefix(k, "faults[") {
			delete(s.src.lines, k)
		}
	}
	for k := range s.src.bad {
		if strings.HasPrefix(k, "faults[") {
			delete(s.src.bad, k)
		}
	}
	s.Faults = nil
	var errs ErrorList
	d := &decoder{src: s.src}
	for _, spec := range specs {
		spec = strings.TrimSpace(spec)
		if spec == "none" {
			continue
		}
		i := len(s.Faults)
		path := index("faults", i)
		s.Faults = append(s.Faults, Fault{})
		node, err := keyValueNode(spec, "write the fault as kind=KIND,at=5s,... with the YAML field names")
		if err != nil {
			s.src.bad[path] = true // a placeholder: validation leaves it alone
			errs = append(errs, &Error{Flag: "--fault", Path: path, Msg: err.Error()})
			continue
		}
		before := len(d.errs)
		d.value(node, reflect.ValueOf(&s.Faults[i]).Elem(), path)
		for _, e := range d.errs[before:] {
			e.File, e.Line, e.Flag = "", 0, "--fault"
			errs = append(errs, e)
		}
		for k := range s.src.lines {
			if k == path || strings.HasPrefix(k, path+".") {
				s.src.flags[k] = "--fault"
				delete(s.src.lines, k)
			}
		}
		s.src.flags[path] = "--fault"
	}
	for i := range s.Faults {
		s.defaultFault(i)
	}
	return errs
}

// setReadYourWrites applies --read-your-writes values
// (Overrides.ReadYourWrites): a POLICY first, wherever it is given, then
// each ARCH=POLICY; the policies are checked by Validate.
func (s *Scenario) setReadYourWrites(specs []string) ErrorList {
	var errs ErrorList
	for _, spec := range specs {
		if !strings.Contains(spec, "=") {
			s.ReadYourWrites.Policy, s.ReadYourWrites.Policies = strings.TrimSpace(spec), nil
			s.src.flags["read_your_writes.policy"] = "--read-your-writes"
		}
	}
	for _, spec := range specs {
		arch, policy, perArch := strings.Cut(strings.TrimSpace(spec), "=")
		if !perArch {
			continue
		}
		arch, policy = strings.TrimSpace(arch), strings.TrimSpace(policy)
		if msg := unknownArch(arch); msg != "" {
			errs = append(errs, &Error{Flag: "--read-your-writes", Path: "read_your_writes.policies", Msg: msg})
			continue
		}
		if s.ReadYourWrites.Policies == nil {
			s.ReadYourWrites.Policies = Policies{}
		}
		s.ReadYourWrites.Policies[Arch(arch)] = policy
		s.src.flags["read_your_writes.policies."+arch] = "--read-your-writes"
	}
	return errs
}

// setOptions applies --option values (Overrides.Options).
func (s *Scenario) setOptions(specs []string) ErrorList {
	var errs ErrorList
	d := &decoder{src: s.src}
	for _, spec := range specs {
		target, value, _ := strings.Cut(strings.TrimSpace(spec), "=")
		arch, field, _ := strings.Cut(strings.TrimSpace(target), ".")
		fail := func(format string, args ...any) {
			errs = append(errs, &Error{Flag: "--option", Path: "options", Msg: fmt.Sprintf(format, args...)})
		}
		if arch == "" || field == "" || strings.TrimSpace(value) == "" {
			fail("%q is not ARCH.FIELD=VALUE; write it like cqrs-kafka/wal.relay=wal, with the YAML field names", spec)
			continue
		}
		if msg := unknownArch(arch); msg != "" {
			fail("%s", msg)
			continue
		}
		desc, _ := catalog.Lookup(arch)
		if desc.Options == nil {
			fail("%s takes no options", arch)
			continue
		}
		if s.Options == nil {
			s.Options = Options{}
		}
		opts := s.Options.For(Arch(arch)) // a variant's starts from its architecture's
		if opts == nil {
			opts = desc.Options()
		}
		node, err := keyValueNode(field+"="+value, "write it like cqrs-kafka/wal.relay=wal")
		if err != nil {
			fail("%v", err)
			continue
		}
		path := "options." + arch
		before := len(d.errs)
		d.value(node, reflect.ValueOf(opts).Elem(), path)
		for _, e := range d.errs[before:] {
			e.File, e.Line, e.Flag = "", 0, "--option"
			errs = append(errs, e)
		}
		if len(d.errs) == before {
			s.Options[Arch(arch)] = opts
			s.src.flags[path+"."+field] = "--option"
		}
	}
	return errs
}

// keyValueNode turns "key=value,key=value" into a YAML mapping node; hint
// says how to write it when a pair is not key=value.
func keyValueNode(spec, hint string) (*yaml.Node, error) {
	node := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Line: 1}
	for _, pair := range strings.Split(spec, ",") {
		key, value, ok := strings.Cut(strings.TrimSpace(pair), "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok || key == "" || value == "" {
			return nil, fmt.Errorf("%q is not key=value; %s", pair, hint)
		}
		var v yaml.Node
		if err := yaml.Unmarshal([]byte(value), &v); err != nil || len(v.Content) != 1 {
			return nil, fmt.Errorf("%s=%s: not a value", key, value)
		}
		node.Content = append(node.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: key, Line: 1},
			v.Content[0])
	}
	return node, nil
}

// useWorkload makes the scenario drive the workload nameOrDir (a relative
// directory is the working directory's): the mix becomes the workload's own
// unless the workload has every operation it weighs, and, when narrow is
// set, architectures that do not run the workload are dropped.
func (s *Scenario) useWorkload(nameOrDir string, narrow bool) {
	if abs, err := filepath.Abs(nameOrDir); err == nil && looksLikePath(nameOrDir) {
		nameOrDir = abs
	}
	s.WorkloadName, s.work, s.workErr = nameOrDir, nil, nil
	s.src.flags["workload"] = "--workload"
	w := s.Workload()
	if s.workErr != nil {
		return // Validate reports it
	}
	ops := map[string]bool{}
	for _, op := range w.Operations() {
		ops[op.Name] = true
	}
	for op := range s.Mix {
		if !ops[string(op)] {
			s.Mix = defaultMix(w)
			break
		}
	}
	// Thresholds on operations the workload lacks cannot be judged: they
	// go with the mix they were written for.
	s.Thresholds = slices.DeleteFunc(s.Thresholds, func(t Threshold) bool {
		return !ops[t.Metric] && !slices.Contains(runMetrics(), t.Metric)
	})
	if narrow {
		// None left: keep them, so that Validate says which run the workload.
		if kept := slices.DeleteFunc(slices.Clone(s.Architectures), func(a Arch) bool {
			return !catalog.Runs(catalog.MustLookup(string(a)), w)
		}); len(kept) > 0 {
			s.Architectures = kept
		}
	}
}
