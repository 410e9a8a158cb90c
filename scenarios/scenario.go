package scenarios

import (
	"encoding/json"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"github.com/cqrsbench/cqrsbench/reference/settings"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// DefaultName is the built-in scenario `cqrsbench run` uses when given none.
const DefaultName = "mixed"

// Defaults of the fields whose default is a fixed value. The doc comment of
// each field states its default, including the derived ones.
const (
	defaultOrders            = 200_000
	defaultCustomersPerOrder = 10 // customers default to orders/10
	defaultSeed              = 1
	defaultRate              = 400.0
	defaultDuration          = 40 * time.Second
	defaultWarmup            = 5 * time.Second
	defaultOpenWorkers       = 64
	defaultClosedWorkers     = 4
	defaultConnections       = 8
	defaultRounds            = 2 // interleaved mode
	defaultProbeSample       = 0.05
	defaultProbePoll         = time.Millisecond
	defaultProbeTimeout      = 30 * time.Second
	defaultProbeMaxShare     = 0.05
	defaultRYWWait           = time.Second // read_your_writes window and timeout
	defaultDupFraction       = 0.05
	defaultBacklogEvents     = 10_000
	steadyPhase              = "steady"
)

// Scenario is one benchmark: the dataset, the architectures to compare, the
// operation mix and the load to drive them with, the faults to inject and
// the thresholds that decide pass or fail.
//
// A Scenario from Parse, Load, Resolve or Builtin is fully defaulted and
// valid: every field below holds the value the run will use. A Scenario built
// in Go should go through SetDefaults and Validate before use.
type Scenario struct {
	// Name identifies the scenario in output and result file names: letters,
	// digits, '-', '_' and '.'. Default: the file name without its extension.
	Name string `yaml:"name" json:"name"`
	// Description is one line saying what the scenario shows, printed by
	// `cqrsbench scenarios`. Default: empty.
	Description string `yaml:"description" json:"description,omitempty"`
	// WorkloadName names the workload driven: its operations, data and
	// read models (reference/catalog lists them). Default: the order shop.
	WorkloadName string `yaml:"workload" json:"workload,omitempty"`
	// Dataset is the generated data every architecture is loaded with.
	Dataset Dataset `yaml:"dataset" json:"dataset"`
	// Architectures to measure, in order. Default: every architecture of
	// the table (reference/catalog), in its order. An empty list is an
	// error.
	Architectures []Arch `yaml:"architectures" json:"architectures"`
	// Mix is the relative weight of each of the workload's operations.
	// Default: the workload's own mix; the shop's is the "mixed" suite's,
	// 60% reads: list_orders 55, sales_dashboard 5, create_order 15,
	// add_line 10, confirm_order 8, ship_order 5, cancel_order 2. Given, it
	// replaces the default entirely; omitted operations get weight 0.
	Mix Mix `yaml:"mix" json:"mix"`
	// Load is how operations are offered: rate, arrivals, phases, duration.
	Load LoadProfile `yaml:"load" json:"load"`
	// Interleaving is the order the architectures are measured in.
	Interleaving Interleaving `yaml:"interleaving" json:"interleaving"`
	// Capacity is the search for each architecture's highest sustainable
	// rate, after its measured run. Default: off.
	Capacity Capacity `yaml:"capacity" json:"capacity,omitzero"`
	// Options are per-architecture settings.
	Options Options `yaml:"options" json:"options"`
	// Prober is the black-box read-your-writes prober.
	Prober Prober `yaml:"prober" json:"prober"`
	// ReadYourWrites is how every architecture's reads right after the
	// reader's own command are served. Default: policy none.
	ReadYourWrites ReadYourWrites `yaml:"read_your_writes" json:"read_your_writes,omitzero"`
	// Sweep runs the scenario once per value of a parameter (the orders
	// per customer, the orders, the read share). Default: none.
	Sweep *Sweep `yaml:"sweep" json:"sweep,omitempty"`
	// Verdict is how the payoff verdict judges the CQRS architectures.
	Verdict Verdict `yaml:"verdict" json:"verdict,omitzero"`
	// Faults to inject during the run. Default: none.
	Faults []Fault `yaml:"faults" json:"faults,omitempty"`
	// Thresholds are pass/fail conditions on the results, such as
	// "cqrs-kafka.list_orders.p99 < 5ms"; a failed one makes the run exit 1.
	// Default: none.
	Thresholds []Threshold `yaml:"thresholds" json:"thresholds,omitempty"`

	// File is where the scenario was read from: a path, or
	// "scenarios/NAME.yaml" for a built-in. Empty for one built in Go.
	File string `yaml:"-" json:"file,omitempty"`
	// Builtin reports whether the scenario is one of the embedded built-ins.
	Builtin bool `yaml:"-" json:"builtin,omitempty"`

	src *source // where each field came from, for error messages

	// work is WorkloadName resolved (by Workload), workErr why it could
	// not be (Validate reports it).
	work    workload.Workload
	workErr error
}

// Dataset is the generated data: the same seed and sizes give the same rows.
type Dataset struct {
	// Orders is the number of orders loaded before the run (each with 1–5
	// lines). Default: 200000.
	Orders int `yaml:"orders" json:"orders"`
	// Customers is the number of customers the orders belong to. Default:
	// orders/10 (at least 1).
	Customers int `yaml:"customers" json:"customers"`
	// Skew is the Zipf exponent with which operations pick a customer (and
	// through it an order): 0 picks uniformly, a value above 1 makes a few
	// customers hot (1.1 is mild, 2 extreme). Default: 0.
	Skew float64 `yaml:"skew" json:"skew"`
	// Seed seeds the data generator and the operation stream: the same seed
	// gives the same data and the same sequence of operations. Default: 1.
	Seed uint64 `yaml:"seed" json:"seed"`
}

// LoadProfile is how operations are offered to each architecture.
type LoadProfile struct {
	// Mode is "open" (operations arrive on a schedule, independent of how
	// fast they complete; latency counts from the intended start) or
	// "closed" (Workers loop, each starting its next operation when the
	// previous one ends: for capacity search). Default: open.
	Mode Mode `yaml:"mode" json:"mode"`
	// Rate is the offered load in operations per second (open mode): the
	// rate of phases that set neither rate nor ramp. Must not be set in
	// closed mode. Default: 400 (0 in closed mode).
	Rate float64 `yaml:"rate" json:"rate,omitempty"`
	// Arrival is the spacing of operations in open mode: "uniform" (op i at
	// start + i/rate) or "poisson" (exponential gaps with the same mean).
	// Must not be set in closed mode. Default: uniform.
	Arrival Arrival `yaml:"arrival" json:"arrival,omitempty"`
	// Workers is the number of goroutines executing operations: in open
	// mode the most operations in flight (an operation due when all are
	// busy starts late, and is counted late), in closed mode the number of
	// looping clients. Default: 64 in open mode, 4 in closed mode.
	Workers int `yaml:"workers" json:"workers"`
	// Connections is the PostgreSQL connection pool size of each
	// architecture. Default: 8.
	Connections int `yaml:"connections" json:"connections"`
	// Duration is the measured time per architecture per round, after the
	// warmup. With phases it is their total; giving both is an error unless
	// they agree. Default: 40s.
	Duration Duration `yaml:"duration" json:"duration"`
	// Warmup is run before the measured time at the rate the first phase
	// starts with; its statistics are discarded. Default: 5s.
	Warmup Duration `yaml:"warmup" json:"warmup"`
	// Phases are consecutive stretches of the measured time, each at a
	// constant rate or ramping linearly between two rates. Not allowed in
	// closed mode. Default: one phase named "steady" of Duration at Rate.
	Phases []Phase `yaml:"phases" json:"phases"`
}

// Phase is one stretch of the measured time.
type Phase struct {
	// Name labels the phase in output. Default: "phase-N" (1-based).
	Name string `yaml:"name" json:"name"`
	// Duration is the length of the phase; required, > 0.
	Duration Duration `yaml:"duration" json:"duration"`
	// Rate is the constant offered rate in operations per second.
	// Exclusive with Ramp. Default (neither given): load.rate.
	Rate float64 `yaml:"rate" json:"rate,omitempty"`
	// Ramp changes the rate linearly over the phase. Exclusive with Rate.
	// Default: none.
	Ramp *Ramp `yaml:"ramp" json:"ramp,omitempty"`
}

// Ramp is a linear change of rate over a phase.
type Ramp struct {
	// From is the rate at the start of the phase, ops/s, >= 0. Required.
	From float64 `yaml:"from" json:"from"`
	// To is the rate at the end of the phase, ops/s, >= 0. Required.
	To float64 `yaml:"to" json:"to"`
}

// RateAt returns the offered rate elapsed into the phase (0 in closed mode).
func (p Phase) RateAt(elapsed time.Duration) float64 {
	if p.Ramp == nil {
		return p.Rate
	}
	if p.Duration <= 0 {
		return p.Ramp.To
	}
	f := min(max(float64(elapsed)/float64(p.Duration), 0), 1)
	return p.Ramp.From + (p.Ramp.To-p.Ramp.From)*f
}

// startRate is the rate at the start of the phase.
func (p Phase) startRate() float64 { return p.RateAt(0) }

// peakRate is the highest rate of the phase.
func (p Phase) peakRate() float64 {
	if p.Ramp == nil {
		return p.Rate
	}
	return max(p.Ramp.From, p.Ramp.To)
}

// Capacity is the search for the highest rate an architecture sustains:
// after its measured run (the first round's), open-model steps of the scenario's mix at rising
// rates (from half the rate its CPU cost predicts, ×1.25 a step, then
// halving the gap between the last sustained and the first failed rate
// twice), as OpenMessaging Benchmark does. A step is sustained when the
// load is (achieved ≥ 99% of offered, < 1% queued, < 0.1% dropped), every
// operation's p99 is within MaxP99 or 5× its p99 in the measured run,
// whichever is longer (an operation slow at any load does not stop the
// search), and, for a pipeline, the lag p99 is within the verdict's
// staleness budget.
type Capacity struct {
	// Search turns the search on (--find-max-rate). Default: false.
	Search bool `yaml:"search" json:"search,omitempty"`
	// Step is how long each rate is measured, after a warmup of a fifth
	// of it. Default: 8s.
	Step Duration `yaml:"step" json:"step,omitempty"`
	// MaxP99 is the p99 any operation may reach in a sustained step (or
	// 5× its p99 in the measured run, when that is longer). Default:
	// 100ms.
	MaxP99 Duration `yaml:"max_p99" json:"max_p99,omitempty"`
}

// Interleaving is the order architectures are measured in.
type Interleaving struct {
	// Mode is "sequential" (each architecture runs once: A B C D) or
	// "interleaved" (Rounds rounds of every architecture: A B A B, so a
	// machine that drifts, warming up or throttling, does not favour one).
	// Each round runs the whole load profile (warmup, then phases); the
	// statistics of an architecture's rounds are merged. Default:
	// sequential.
	Mode InterleaveMode `yaml:"mode" json:"mode"`
	// Rounds is the number of rounds: 1 in sequential mode (the only value
	// allowed), >= 2 in interleaved mode. Default: 1, or 2 when interleaved.
	Rounds int `yaml:"rounds" json:"rounds"`
}

// Options are per-architecture settings, keyed by architecture name: each
// value is that architecture's own options type (reference/catalog's
// Descriptor.Options), filled with its defaults and then with what the
// scenario gives. An architecture that is not run ignores its options.
type Options map[Arch]settings.Options

// For returns arch's options: those the scenario gave; for a variant
// without options of its own, a copy of its architecture's; or the
// defaults (nil when the architecture takes none).
func (o Options) For(arch Arch) settings.Options {
	if opts, found, own := entryFor(o, arch); own {
		return opts
	} else if found {
		return cloneOptions(opts)
	}
	if d, ok := catalog.Lookup(string(arch)); ok && d.Options != nil {
		return d.Options()
	}
	return nil
}

// UnmarshalJSON reads options back from a results file, each into its
// architecture's type; an architecture this build does not know keeps its
// raw JSON.
func (o *Options) UnmarshalJSON(b []byte) error {
	var raw map[Arch]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil || raw == nil {
		*o = nil
		return err
	}
	out := make(Options, len(raw))
	for arch, msg := range raw {
		d, ok := catalog.Lookup(string(arch))
		if !ok || d.Options == nil {
			out[arch] = rawOptions(msg)
			continue
		}
		opts := d.Options()
		if err := json.Unmarshal(msg, opts); err != nil {
			return fmt.Errorf("options.%s: %w", arch, err)
		}
		out[arch] = opts
	}
	*o = out
	return nil
}

// rawOptions are the options of an architecture this build does not know,
// kept as they were written.
type rawOptions json.RawMessage

// Validate implements settings.Options: raw options are not checked.
func (rawOptions) Validate() []settings.FieldError { return nil }

// MarshalJSON writes them back unchanged.
func (r rawOptions) MarshalJSON() ([]byte, error) { return json.RawMessage(r).MarshalJSON() }

// The capacity search's defaults.
const (
	defaultCapacityStep   = 8 * time.Second
	defaultCapacityMaxP99 = 100 * time.Millisecond
)

// DefaultStalenessBudget is verdict.staleness_budget when a scenario sets
// none: a change seen within 200 ms looks immediate to a user who clicked.
const DefaultStalenessBudget = 200 * time.Millisecond

// Verdict is how the payoff verdict judges the CQRS architectures against
// crud.
type Verdict struct {
	// StalenessBudget is the longest lag p99 a CQRS architecture may have
	// and still pay off: its end-to-end projection lag, or for one without
	// a pipeline the prober's commit→visible lag. Over it, the
	// architecture does not pay off however fast it reads. Default: 200ms.
	StalenessBudget Duration `yaml:"staleness_budget" json:"staleness_budget"`
}

// ReadYourWrites is a read-your-writes policy (seed 001: "read the write
// model right after a command, and switch to the read model for generic
// pages"). The operation order_then_list is a read right after one's own
// write; the staleness table counts how many of those missed it.
type ReadYourWrites struct {
	// Policy is none (reads go to the read side as always),
	// primary-after-write (a customer's reads within Window after their
	// own command go to the write model on the primary) or wait-for-token
	// (the command's order and version are kept as the customer's token;
	// a read that does not show it yet is retried until it does, up to
	// Timeout). Default: none.
	Policy string `yaml:"policy" json:"policy"`
	// Window is primary-after-write's. Default: 1s.
	Window Duration `yaml:"window" json:"window,omitempty"`
	// Timeout is wait-for-token's longest wait. Default: 1s.
	Timeout Duration `yaml:"timeout" json:"timeout,omitempty"`
	// Policies give some architectures a policy of their own, by name,
	// in place of Policy: with `{crud-replica/wait: wait-for-token}` and
	// both crud-replica and crud-replica/wait among the architectures,
	// the variant runs under wait-for-token in the same interleaved
	// rounds as crud-replica under Policy, and the report compares the
	// two with intervals. A variant not named here takes its
	// architecture's entry, if any. Each entry must name an architecture
	// run, or one a variant run is of (unless --arch or --workload left
	// it out).
	Policies Policies `yaml:"policies" json:"policies,omitempty"`
}

// Policies are read-your-writes policies by architecture
// (ReadYourWrites.Policies).
type Policies map[Arch]string

// PolicyOf returns the read-your-writes policy architecture a runs
// under: its entry in Policies, else its architecture's when a is a
// variant, else Policy.
func (r ReadYourWrites) PolicyOf(a Arch) string {
	if p, found, _ := entryFor(r.Policies, a); found {
		return p
	}
	return r.Policy
}

// entryFor returns the entry of m, a setting keyed by architecture, that
// applies to architecture a: its own (own), else, a being a variant, its
// architecture's; found is false when neither is there.
func entryFor[V any](m map[Arch]V, a Arch) (v V, found, own bool) {
	if v, ok := m[a]; ok {
		return v, true, true
	}
	if base, _, variant := catalog.Variant(string(a)); variant {
		v, found = m[Arch(base)]
	}
	return v, found, false
}

// Prober is the black-box read-your-writes prober: for a sample of writes it
// polls the query side until the write is visible, measuring visibility lag
// independently of the pipeline's own timestamps.
type Prober struct {
	// Sample is the fraction of writes probed, as a number in [0, 1] or a
	// percentage ("5%"); 0 turns the prober off. Default: 0.05.
	Sample Fraction `yaml:"sample" json:"sample"`
	// Poll is the period between polls of a young probe; once the write is
	// older than 10×Poll, a probe polls every tenth of its age, so the
	// figure exceeds the true lag by at most Poll or 10%. At most 8 probes
	// poll at once. Default: 1ms.
	Poll Duration `yaml:"poll" json:"poll"`
	// Timeout is how long a probe polls before counting the write as not
	// visible. Default: 30s.
	Timeout Duration `yaml:"timeout" json:"timeout"`
	// MaxShare caps the prober's queries per second at this share of the
	// offered rate (load.rate) of an open run: the prober is load the
	// scenario did not schedule. Past it, sampled writes are skipped
	// (counted): the prober samples fewer writes, it never polls
	// differently. A closed run has no offered rate and no cap. Default:
	// 0.05.
	MaxShare Fraction `yaml:"max_share" json:"max_share,omitempty"`
}

// Fault is one fault to inject. Which fields apply depends on Kind; setting
// one that does not apply is an error:
//
//	kind              fields (defaults)
//	duplicates        at (0), duration (0: until the end), fraction (0.05), method (republish)
//	relay-crash       at (0), every (0: once), count (1)
//	projector-crash   at (0), every, count (1), point (after-commit)
//	broker-restart    at (0), every, count (1), duration: down time (10s)
//	pg-restart        at (0), every, count (1), duration: down time (3s)
//	poison            at (0), every, count (1): one undecodable event each time
//	visibility-gap    at (0), every, count (1), duration: how long each long transaction stays open (2s)
//	catch-up          at (0), events: backlog size (10000), duration: longest pause (60s)
//	rebuild           at, or after_load (true unless at is given)
//	replica-pause     at (0), every, count (1), duration: replay paused (5s)
//	replica-restart   at (0), every, count (1), duration: down time (3s)
//
// Every kind takes arch. A kind applies to the architectures that offer what
// it needs (FaultKind.Needs): pg-restart to all, catch-up to those whose
// projector can pause, rebuild to those that can rebuild, replica-pause
// and replica-restart to those that read a streaming replica, the others
// to those with an event pipeline.
type Fault struct {
	// Kind is the fault: duplicates, relay-crash, projector-crash,
	// broker-restart, pg-restart, poison, visibility-gap, catch-up,
	// rebuild, replica-pause or replica-restart. Required.
	Kind FaultKind `yaml:"kind" json:"kind"`
	// Arch is the architecture the fault is injected into; it must be one
	// of the scenario's architectures and offer what the kind needs.
	// Default: empty, meaning every architecture of the scenario that
	// offers it (at least one must).
	Arch Arch `yaml:"arch" json:"arch,omitempty"`
	// At is when the fault is first injected, measured from the start of
	// the measured time of the architecture's run (after warmup); it must
	// fall inside it. Default: 0.
	At Duration `yaml:"at" json:"at"`
	// AfterLoad injects the fault after the load has stopped and the read
	// models have caught up, instead of at At (rebuild only). Default: true
	// for rebuild unless at is given.
	AfterLoad bool `yaml:"after_load" json:"after_load,omitempty"`
	// Every repeats the fault with this period. Default: 0 (no repeat).
	Every Duration `yaml:"every" json:"every,omitempty"`
	// Count is how many times the fault is injected; 0 means every Every
	// until the run ends. Default: 1, or 0 when every is given.
	Count int `yaml:"count" json:"count,omitempty"`
	// Fraction is the fraction of events affected (duplicates), a number in
	// (0, 1] or a percentage. Default: 0.05.
	Fraction Fraction `yaml:"fraction" json:"fraction,omitempty"`
	// Duration is how long the fault lasts; its meaning depends on Kind
	// (see the table above).
	Duration Duration `yaml:"duration" json:"duration,omitempty"`
	// Events is the backlog the projector is paused for (catch-up).
	// Default: 10000.
	Events int `yaml:"events" json:"events,omitempty"`
	// Method is how duplicates are made: "republish" (the relay publishes a
	// fraction of events twice) or "lost-ack" (the broker appends a batch,
	// then the acknowledgement is lost and the producer retries). Default:
	// republish.
	Method DuplicateMethod `yaml:"method" json:"method,omitempty"`
	// Point is where a crash strikes. The projector (projector-crash):
	// "after-commit" (after its DB commit, before its acknowledgement: the
	// batch is redelivered) or "after-inbox" (between the inbox insert and
	// the commit: the transaction rolls back); default after-commit. The
	// relay (relay-crash): "after-ack" (the transport confirmed the batch,
	// its rows are not removed yet: it is published again) or
	// "before-publish" (claimed, or decoded from the WAL, and never
	// published: it must be claimed, or sent by the slot, again); default
	// after-ack.
	Point CrashPoint `yaml:"point" json:"point,omitempty"`
}

// Arch names an architecture of the table in reference/catalog.
type Arch string

// Architectures returns every architecture, in the order runs use by
// default.
func Architectures() []Arch {
	names := catalog.Names()
	out := make([]Arch, len(names))
	for i, n := range names {
		out[i] = Arch(n)
	}
	return out
}

// unknownArch says why name is neither an architecture of the table nor a
// variant of one (catalog.Lookup), and what to use; "" when it is one.
func unknownArch(name string) string {
	if _, ok := catalog.Lookup(name); ok {
		return ""
	}
	all := strs(Architectures())
	if arch, label, variant := catalog.Variant(name); variant {
		if slices.Contains(all, arch) {
			return fmt.Sprintf("variant %q of %s: its label must be lower-case letters, digits and dashes, like %s%swal", label, arch, arch, catalog.VariantSeparator)
		}
		name = arch
	}
	return fmt.Sprintf("unknown architecture %q%s; use one of %s (or a variant: <name>%s<label>)",
		name, didYouMean(name, all), oneOf(Architectures()), catalog.VariantSeparator)
}

// Descriptor returns architecture a as s runs it: its entry in the table
// (catalog.Lookup), for s's workload (catalog.Descriptor.For), with s's
// options for it (catalog.Descriptor.With: read_from: replica needs a
// replica); ok is false for a name the table lacks.
func (s *Scenario) Descriptor(a Arch) (catalog.Descriptor, bool) {
	d, ok := a.Descriptor()
	if !ok {
		return d, false
	}
	return d.For(s.Workload()).With(s.Options.For(a)), true
}

// Descriptor returns the architecture's entry in the table; ok is false for
// a name the table lacks.
func (a Arch) Descriptor() (catalog.Descriptor, bool) { return catalog.Lookup(string(a)) }

// Workload returns the workload the scenario drives: WorkloadName, a
// built-in workload or a pack's directory (relative to the scenario file's
// directory), resolved once; the default workload when it is empty or
// cannot be resolved (Validate reports why).
func (s *Scenario) Workload() workload.Workload {
	if s.work == nil && s.workErr == nil {
		if s.WorkloadName == "" {
			s.work = catalog.DefaultWorkload()
		} else {
			s.work, s.workErr = catalog.ResolveWorkload(s.workloadPath())
		}
	}
	if s.work == nil {
		return catalog.DefaultWorkload()
	}
	return s.work
}

// UseWorkload makes the scenario drive w, a workload built in Go (an
// application embedding cqrsbench as a library, a test's instrumented
// workload), in place of the one it names; WorkloadName becomes w's name.
// w must have every operation the mix weighs: call Validate after.
func (s *Scenario) UseWorkload(w workload.Workload) {
	s.work, s.workErr, s.WorkloadName = w, nil, w.Name()
}

// workloadPath returns WorkloadName, relative to the scenario file's
// directory when it is not a built-in workload nor an absolute path and
// the scenario came from a file (not a built-in scenario, whose paths are
// the working directory's).
func (s *Scenario) workloadPath() string {
	name := s.WorkloadName
	if _, builtin := catalog.LookupWorkload(name); builtin || filepath.IsAbs(name) || s.File == "" || s.Builtin {
		return name
	}
	return filepath.Join(filepath.Dir(s.File), name)
}

// DefaultArchitectures returns the architectures a scenario naming none
// runs on w, in the table's order: those that run w, but those that run
// only on request (catalog.Descriptor.OnRequest).
func DefaultArchitectures(w workload.Workload) []Arch {
	return architecturesWhere(func(d catalog.Descriptor) bool { return catalog.ByDefault(d, w) })
}

// ArchitecturesOf returns the architectures of the table that run w, in
// its order.
func ArchitecturesOf(w workload.Workload) []Arch {
	return architecturesWhere(func(d catalog.Descriptor) bool { return catalog.Runs(d, w) })
}

func architecturesWhere(keep func(catalog.Descriptor) bool) []Arch {
	var out []Arch
	for _, d := range catalog.Table() {
		if keep(d) {
			out = append(out, Arch(d.Name))
		}
	}
	return out
}

// Operations returns the workload's operations that the mix weighs above
// zero, in the workload's order.
func (s *Scenario) Operations() []workload.Operation {
	var ops []workload.Operation
	for _, op := range s.Workload().Operations() {
		if s.Mix[Op(op.Name)] > 0 {
			ops = append(ops, op)
		}
	}
	return ops
}

// Op names an operation of the scenario's workload (workload.Operation).
type Op string

// Mix maps each operation to its relative weight; the chance of an operation
// is its weight over the total. Weights are >= 0 and must not all be 0.
type Mix map[Op]float64

// Total returns the sum of the weights.
func (m Mix) Total() float64 {
	var t float64
	for _, w := range m {
		t += w
	}
	return t
}

// Fraction returns the share of the mix that op is, in [0, 1].
func (m Mix) Fraction(op Op) float64 {
	t := m.Total()
	if t == 0 {
		return 0
	}
	return m[op] / t
}

// defaultMix is the workload's own mix (the default "mixed" suite's).
func defaultMix(w workload.Workload) Mix {
	m := Mix{}
	for _, op := range w.Operations() {
		m[Op(op.Name)] = op.Weight
	}
	return m
}

// Mode is the load model.
type Mode string

// The load models.
const (
	ModeOpen   Mode = "open"   // scheduled arrivals; latency from the intended start
	ModeClosed Mode = "closed" // each worker starts an operation when its previous one ends
)

// Arrival is the spacing of arrivals in open mode.
type Arrival string

// The arrival processes.
const (
	ArrivalUniform Arrival = "uniform" // op i at start + i/rate
	ArrivalPoisson Arrival = "poisson" // exponential gaps, mean 1/rate
)

// InterleaveMode is the order architectures are measured in.
type InterleaveMode string

// The interleaving modes.
const (
	Sequential  InterleaveMode = "sequential"  // A B C D
	Interleaved InterleaveMode = "interleaved" // A B C D A B C D …
)

// FaultKind names a fault.
type FaultKind string

// The faults (DESIGN.md §4, issue 5).
const (
	FaultDuplicates     FaultKind = "duplicates"
	FaultRelayCrash     FaultKind = "relay-crash"
	FaultProjectorCrash FaultKind = "projector-crash"
	FaultBrokerRestart  FaultKind = "broker-restart"
	FaultPGRestart      FaultKind = "pg-restart"
	FaultPoison         FaultKind = "poison"
	FaultVisibilityGap  FaultKind = "visibility-gap"
	FaultCatchUp        FaultKind = "catch-up"
	FaultRebuild        FaultKind = "rebuild"
	FaultReplicaPause   FaultKind = "replica-pause"
	FaultReplicaRestart FaultKind = "replica-restart"
)

// DuplicateMethod is how a duplicates fault makes duplicates.
type DuplicateMethod string

// The duplicate methods.
const (
	DuplicateRepublish DuplicateMethod = "republish" // the relay publishes events twice
	DuplicateLostAck   DuplicateMethod = "lost-ack"  // the broker appends, then the ack is lost
)

// CrashPoint is where a projector-crash or relay-crash fault strikes.
type CrashPoint string

// The crash points; each kind's are in its faultSpec.
const (
	CrashAfterCommit   CrashPoint = "after-commit"   // projector: after the DB commit, before the acknowledgement
	CrashAfterInbox    CrashPoint = "after-inbox"    // projector: after the inbox insert, before the DB commit
	CrashAfterAck      CrashPoint = "after-ack"      // relay: after the transport's confirmation, before the rows' removal
	CrashBeforePublish CrashPoint = "before-publish" // relay: after the claim (or the WAL's decoding), before publishing
)

// RunTime estimates the wall time of the measured runs: rounds ×
// architectures × (warmup + duration). It leaves out loading the dataset,
// starting services, and catch-up and checking after each run.
func (s *Scenario) RunTime() time.Duration {
	rounds := max(s.Interleaving.Rounds, 1)
	return time.Duration(rounds*len(s.Architectures)) * (s.Load.Warmup.Std() + s.Load.Duration.Std())
}

// runsUnder reports whether an architecture run takes a setting keyed a
// (entryFor): a itself, or a variant of a.
func (s *Scenario) runsUnder(a Arch) bool {
	return slices.ContainsFunc(s.Architectures, func(run Arch) bool {
		_, found, _ := entryFor(map[Arch]bool{a: true}, run)
		return found
	})
}

// Has reports whether the scenario runs arch.
func (s *Scenario) Has(arch Arch) bool { return slices.Contains(s.Architectures, arch) }

// Clone returns a deep copy of s.
func (s *Scenario) Clone() *Scenario {
	c := *s
	c.Architectures = slices.Clone(s.Architectures)
	if s.Mix != nil {
		c.Mix = make(Mix, len(s.Mix))
		for k, v := range s.Mix {
			c.Mix[k] = v
		}
	}
	c.Load.Phases = slices.Clone(s.Load.Phases)
	for i, p := range c.Load.Phases {
		if p.Ramp != nil {
			r := *p.Ramp
			c.Load.Phases[i].Ramp = &r
		}
	}
	c.Faults = slices.Clone(s.Faults)
	c.Thresholds = slices.Clone(s.Thresholds)
	c.Options = s.Options.clone()
	c.ReadYourWrites.Policies = maps.Clone(s.ReadYourWrites.Policies)
	if s.Sweep != nil {
		sw := Sweep{Parameter: s.Sweep.Parameter, Values: slices.Clone(s.Sweep.Values)}
		c.Sweep = &sw
	}
	c.src = s.src.clone()
	return &c
}

// clone copies o: each architecture's options struct is copied, not
// shared.
func (o Options) clone() Options {
	if o == nil {
		return nil
	}
	c := make(Options, len(o))
	for arch, opts := range o {
		c[arch] = cloneOptions(opts)
	}
	return c
}

// cloneOptions returns a copy of opts (a pointer to an options struct; any
// other value is returned as it is).
func cloneOptions(opts settings.Options) settings.Options {
	v := reflect.ValueOf(opts)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return opts
	}
	dup := reflect.New(v.Elem().Type())
	dup.Elem().Set(v.Elem())
	return dup.Interface().(settings.Options)
}
