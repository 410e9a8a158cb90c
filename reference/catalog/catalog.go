// Package catalog is the one table of architectures: every name, schema,
// consistency kind, constructor, read model to reconcile and options type
// of an architecture is declared here, in Table, and nowhere else. The
// harness, the scenario loader, the checker and the reports read names and
// facts from it, and ask what a system can do through the optional
// capability interfaces of package reference (Pipeline, Refresher,
// Pausable, Rebuildable, Poisonable, TxExecutor), never by name.
//
// Adding an architecture is one package (a reference.System, its Options
// type) plus one Descriptor in Table; docs/ARCHITECTURE.md walks through it.
package catalog

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/pack"
	"github.com/cqrsbench/cqrsbench/reference/pack/derived"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
	"github.com/cqrsbench/cqrsbench/reference/settings"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// Consistency is how an architecture's reads relate to its writes.
type Consistency string

// The consistency kinds.
const (
	// Immediate: a read sees every command that returned before it.
	Immediate Consistency = "immediate"
	// Periodic: the read side is refreshed every period.
	Periodic Consistency = "periodic"
	// Eventual: the read side follows an asynchronous pipeline.
	Eventual Consistency = "eventual"
)

// Lags reports whether reads may miss writes that returned before them.
func (c Consistency) Lags() bool { return c != Immediate }

// Service names a service an architecture needs besides PostgreSQL; the
// infrastructure providers start it (harness/infra).
type Service string

// The services architectures may need. Their names are the roles the
// results' environment gives them (harness/services).
const (
	Kafka    Service = "kafka"
	RabbitMQ Service = "rabbitmq"
	// Replica is a streaming replica of the PostgreSQL server (hot
	// standby), read through Deps.ReadPool.
	Replica Service = "postgres-replica"
)

// Descriptor is everything the tool knows of an architecture before it
// runs.
type Descriptor struct {
	// Name is the architecture's name on the command line, in scenarios
	// and in results.
	Name string
	// Schema is the PostgreSQL schema it lives in.
	Schema string
	// Summary describes it in one line (help, docs, reports).
	Summary string
	// Baseline marks the architecture the others are compared with (their
	// latency ratios, their verdicts): exactly one has it.
	Baseline bool
	// Consistency is how its reads relate to its writes.
	Consistency Consistency
	// ReadModels maps the workload's read models to the tables holding
	// them in Schema, for the checker; empty when the architecture's
	// queries read the write model.
	ReadModels workload.ReadModels
	// Needs lists the services besides PostgreSQL it needs.
	Needs []Service
	// OnRequest leaves it out of the runs that name no architectures: it
	// runs when a scenario or --arch names it (it needs a service the
	// default suite does not start).
	OnRequest bool
	// Prototype is a typed nil of its System type: capabilities are asked
	// of it (`_, ok := d.Prototype.(reference.Pipeline)`) before a system
	// exists, so a scenario can be validated before anything starts.
	Prototype reference.System
	// Options returns its options filled with their defaults; nil: it
	// takes none.
	Options func() settings.Options
	// New builds a system from deps (on deps.Schema, whose write model is
	// loaded); deps.Options come from Options, decoded and validated.
	New func(ctx context.Context, deps Deps) (reference.System, error)
	// Derive builds the architecture for a workload pack from the pack's
	// SQL (reference/pack/derived), on deps.Schema loaded with the pack's
	// data; nil when the architecture has no derived form yet.
	Derive func(ctx context.Context, deps Deps, p *pack.Pack) (reference.System, error)
	// DerivedPrototype is a typed nil of the system Derive builds: what
	// the architecture can do on a pack is asked of it (For).
	DerivedPrototype reference.System
}

// For returns d as it runs workload w: for a pack, capabilities are asked
// of the derived system (Prototype is DerivedPrototype, nil when there is
// none), which may offer less than the hand-written one.
func (d Descriptor) For(w workload.Workload) Descriptor {
	if _, ok := w.(*pack.Pack); ok {
		d.Prototype = d.DerivedPrototype
	}
	return d
}

// Runs reports whether architecture d runs workload w: every architecture
// runs the built-in shop; a pack, those with a derived form.
func Runs(d Descriptor, w workload.Workload) bool {
	if _, ok := w.(*pack.Pack); ok {
		return d.Derive != nil
	}
	return true
}

// ByDefault reports whether architecture d is among those a scenario that
// names none runs on workload w.
func ByDefault(d Descriptor, w workload.Workload) bool { return Runs(d, w) && !d.OnRequest }

// Build builds architecture d for deps.Workload: New for the built-in
// workload, Derive for a pack.
func Build(ctx context.Context, d Descriptor, deps Deps) (reference.System, error) {
	p, ok := deps.Workload.(*pack.Pack)
	if !ok {
		return d.New(ctx, deps)
	}
	if d.Derive == nil {
		return nil, fmt.Errorf("architecture %s does not run workload packs yet", d.Name)
	}
	return d.Derive(ctx, deps, p)
}

// ReadModels returns the tables the checker reconciles for architecture d
// running workload w: the descriptor's for the built-in workload; every
// read model of a pack for an architecture that keeps read models.
func ReadModels(d Descriptor, w workload.Workload) workload.ReadModels {
	if p, ok := w.(*pack.Pack); ok && len(d.ReadModels) > 0 {
		return p.Tables()
	}
	if _, ok := w.(*pack.Pack); ok {
		return nil
	}
	return d.ReadModels
}

// Offers reports whether the architecture's systems implement capability
// C, one of package reference's capability interfaces.
func Offers[C any](d Descriptor) bool {
	_, ok := d.Prototype.(C)
	return ok
}

// Deps is what a constructor gets.
type Deps struct {
	// Pool is the database; the system does not close it.
	Pool *pgxpool.Pool
	// ReadPool is a streaming replica of Pool's server, for architectures
	// that need Replica (nil otherwise); the system does not close it.
	ReadPool *pgxpool.Pool
	// Schema is the schema to build on (Descriptor.Schema unless a test
	// says otherwise).
	Schema string
	// Options are the architecture's options (the type Descriptor.Options
	// returns), validated; nil means the defaults.
	Options settings.Options
	// Kafka and AMQP reach the transports of pipeline architectures.
	Kafka KafkaEndpoint
	AMQP  AMQPEndpoint
	// Observer receives pipeline stage timestamps; nil: none.
	Observer event.Observer
	// Hooks are fault-injection points; zero: none.
	Hooks reference.Hooks
	// OnError is told about errors background workers recovered from;
	// nil: they are only counted.
	OnError func(error)
	// Workload is the workload the system runs; nil: the default (the
	// shop).
	Workload workload.Workload
}

// KafkaEndpoint reaches a Kafka cluster.
type KafkaEndpoint struct {
	// Brokers are the seed brokers (host:port).
	Brokers []string
	// ClientOptions are added to every client (TLS, SASL).
	ClientOptions []kgo.Opt
}

// AMQPEndpoint reaches a RabbitMQ broker.
type AMQPEndpoint struct {
	// URL is amqp:// or amqps://.
	URL string
	// TLS configures amqps connections; nil: the system's roots.
	TLS *tls.Config
}

// readsReplica reports whether opts put the screens on a streaming
// replica (settings.ReadFrom).
func readsReplica(opts settings.Options) bool {
	r, ok := opts.(settings.ReplicaReader)
	return ok && r.ReadsReplica()
}

// With returns d as it runs with opts, its options: options that put the
// screens on a streaming replica (read_from: replica) add the Replica
// service to Needs, and make an Immediate architecture Eventual (its reads
// wait for the replica's replay).
func (d Descriptor) With(opts settings.Options) Descriptor {
	if !readsReplica(opts) {
		return d
	}
	if !slices.Contains(d.Needs, Replica) {
		d.Needs = append(slices.Clone(d.Needs), Replica)
	}
	if d.Consistency == Immediate {
		d.Consistency = Eventual
	}
	return d
}

// readPool returns where the screens of the architecture deps builds
// read: deps.ReadPool when its options say read_from: replica, else nil
// (the primary).
func readPool(deps Deps) (*pgxpool.Pool, error) {
	if !readsReplica(deps.Options) {
		return nil, nil
	}
	if deps.ReadPool == nil {
		return nil, errors.New("read_from: replica, but no streaming replica was given (--infra local and --infra docker start one; --infra external takes --pg-read-dsn)")
	}
	return deps.ReadPool, nil
}

// derivedReads finishes Derive: sys, built with err, with its screens on
// the streaming replica when its options say read_from: replica.
func derivedReads[S reference.System](ctx context.Context, deps Deps, sys S, err error) (reference.System, error) {
	if err != nil {
		return nil, err // not sys: a nil pointer must not become a non-nil interface
	}
	reads, err := readPool(deps)
	if err == nil && reads != nil {
		err = derived.ReadFromReplica(ctx, sys, reads)
	}
	if err != nil {
		return nil, errors.Join(err, sys.Close(ctx))
	}
	return sys, nil
}

// options returns deps.Options as T, or def() when none were given.
func options[T settings.Options](deps Deps, def func() T) (T, error) {
	if deps.Options == nil {
		return def(), nil
	}
	o, ok := deps.Options.(T)
	if !ok {
		var want T
		return want, fmt.Errorf("options of type %T given, want %T", deps.Options, want)
	}
	return o, nil
}

// VariantSeparator joins an architecture's name and a variant's label:
// "cqrs-kafka/wal" is cqrs-kafka run again under its own name with its own
// options (a scenario's options.cqrs-kafka/wal), so that two settings of
// one architecture are measured in the same interleaved rounds and compared
// like two architectures. A variant with no options of its own runs with
// its architecture's (the scenario's Options.For): the null comparison.
const VariantSeparator = "/"

// Variant splits name into the architecture and the variant's label; ok is
// false when name is not a variant's.
func Variant(name string) (arch, label string, ok bool) {
	return strings.Cut(name, VariantSeparator)
}

// Lookup returns the descriptor named name: an architecture of the table,
// or a variant of one ("<name>/<label>", the label of lower-case letters,
// digits and dashes), which is the architecture's descriptor under the
// variant's name, never the baseline.
func Lookup(name string) (Descriptor, bool) {
	arch, label, variant := Variant(name)
	i := slices.IndexFunc(Table(), func(d Descriptor) bool { return d.Name == arch })
	if i < 0 || variant && !validLabel(label) {
		return Descriptor{}, false
	}
	d := Table()[i]
	if variant {
		d.Name, d.Baseline = name, false
		d.Summary = fmt.Sprintf("%s (variant %q)", d.Summary, label)
	}
	return d, true
}

// validLabel reports whether label can name a variant.
func validLabel(label string) bool {
	return label != "" && strings.Trim(label, "abcdefghijklmnopqrstuvwxyz0123456789-") == "" && label[0] != '-'
}

// MustLookup is Lookup for names already validated (a scenario's).
func MustLookup(name string) Descriptor {
	d, ok := Lookup(name)
	if !ok {
		panic(fmt.Sprintf("catalog: architecture %q is not in the table", name))
	}
	return d
}

// Names returns every architecture's name, in the table's order (the order
// runs and tables use).
func Names() []string {
	t := Table()
	out := make([]string, len(t))
	for i, d := range t {
		out[i] = d.Name
	}
	return out
}

// Baseline returns the name of the architecture the others are compared
// with.
func Baseline() string {
	for _, d := range Table() {
		if d.Baseline {
			return d.Name
		}
	}
	panic("catalog: no Baseline architecture in the table")
}

// NeedsService reports whether the named architecture needs service s (false for
// a name the table lacks).
func NeedsService(name string, s Service) bool {
	d, ok := Lookup(name)
	return ok && slices.Contains(d.Needs, s)
}

// UnknownError says that name is not an architecture, and which are.
func UnknownError(name string) error {
	return fmt.Errorf("unknown architecture %q; use one of %s, or a variant of one (<name>%s<label>, like cqrs-kafka%swal)",
		name, strings.Join(Names(), ", "), VariantSeparator, VariantSeparator)
}

// ResolveWorkload returns the workload nameOrDir names: a built-in
// workload's name, or the directory of a workload pack (anything with a
// path separator, or an existing directory), loaded with pack.Load. An
// unknown name is an error listing the built-ins; a bad pack, its
// pack.ErrorList (file and line of each problem, exit code 2).
func ResolveWorkload(nameOrDir string) (workload.Workload, error) {
	if w, ok := LookupWorkload(nameOrDir); ok {
		return w, nil
	}
	st, err := os.Stat(nameOrDir)
	if strings.ContainsRune(nameOrDir, '/') || strings.ContainsRune(nameOrDir, filepath.Separator) || err == nil && st.IsDir() {
		p, err := pack.Load(nameOrDir)
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	var names []string
	for _, w := range Workloads() {
		names = append(names, w.Name())
	}
	return nil, fmt.Errorf("unknown workload %q; use one of %s, or the directory of a workload pack (like workloads/helpdesk)", nameOrDir, strings.Join(names, ", "))
}

// DefaultWorkload returns the workload a scenario runs unless it names one.
func DefaultWorkload() workload.Workload { return Workloads()[0] }

// LookupWorkload returns the workload named name.
func LookupWorkload(name string) (workload.Workload, bool) {
	for _, w := range Workloads() {
		if w.Name() == name {
			return w, true
		}
	}
	return nil, false
}
