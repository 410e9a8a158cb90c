package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/check"
	"github.com/cqrsbench/cqrsbench/harness/hist"
	"github.com/cqrsbench/cqrsbench/harness/infra"
	"github.com/cqrsbench/cqrsbench/harness/report"
	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/harness/runner"
	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/cqrskafka"
	"github.com/cqrsbench/cqrsbench/reference/cqrsmatview"
	"github.com/cqrsbench/cqrsbench/reference/datagen"
	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/workload"
	"github.com/cqrsbench/cqrsbench/reference/writemodel"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// Config is what a run needs.
type Config struct {
	// Scenario is the resolved, validated scenario.
	Scenario *scenarios.Scenario
	// Infra provides the database and brokers.
	Infra infra.Infra
	// Progress receives progress lines; nil is quiet.
	Progress io.Writer
	// Version identifies the cqrsbench build in the results.
	Version string
	// Now is the clock for the dataset's day and the dashboard; default
	// time.Now.
	Now func() time.Time
}

// Run runs cfg.Scenario on every architecture it names and returns the
// results. Architectures run one after another on the same database, each
// in its own schema loaded with the same dataset.
func Run(ctx context.Context, cfg Config) (*results.Run, error) {
	sc := cfg.Scenario
	if sc == nil || cfg.Infra == nil {
		return nil, errors.New("bench: Config needs a Scenario and an Infra")
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if err := Supported(sc); err != nil {
		return nil, err
	}
	run := &results.Run{
		SchemaVersion: results.SchemaVersion,
		Tool:          results.Tool{Version: cfg.Version, GoVersion: runtime.Version()},
		StartedAt:     cfg.Now().UTC(),
		Environment:   results.Environment{Infra: cfg.Infra.Describe(), Host: hostInfo()},
		Scenario:      sc,
	}
	poolCfg, err := pgxpool.ParseConfig(cfg.Infra.PostgresDSN())
	if err != nil {
		return nil, fmt.Errorf("bench: parse DSN: %w", err)
	}
	poolCfg.MaxConns = int32(sc.Load.Connections)
	pool, err := pgxpool.NewWithConfig(ctx, poolCfg)
	if err != nil {
		return nil, infra.Unavailable("PostgreSQL", "check the DSN", err)
	}
	defer pool.Close()

	rounds := max(sc.Interleaving.Rounds, 1)
	for round := range rounds {
		for _, arch := range sc.Architectures {
			res, err := runArchitecture(ctx, cfg, pool, string(arch), round)
			if err != nil {
				return run, fmt.Errorf("%s: %w", arch, err)
			}
			run.Architectures = mergeArchitecture(run.Architectures, res)
		}
	}
	run.FinishedAt = cfg.Now().UTC()
	return run, nil
}

// archRun is the state of one architecture's measured run.
type archRun struct {
	cfg    Config
	sys    reference.System
	today  time.Time
	gen    *datagen.Generator
	mu     sync.Mutex // guards cmds
	cmds   *workload.Commands
	rng    *rand.Rand // customer picks for reads; guarded by mu
	track  *tracker
	probe  *prober
	reads  atomic.Int64
	stale  atomic.Int64
	ageMu  sync.Mutex
	ageRec *hist.Recorder
	ages   *hist.Registry
}

func say(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

func runArchitecture(ctx context.Context, cfg Config, pool *pgxpool.Pool, name string, round int) (results.Architecture, error) {
	sc := cfg.Scenario
	res := results.Architecture{Name: name}
	today := cfg.Now().UTC()
	data := datagen.Config{Orders: sc.Dataset.Orders, Customers: sc.Dataset.Customers, Seed: sc.Dataset.Seed, Today: today, Skew: sc.Dataset.Skew}
	schema := reference.SchemaOf(name)

	say(cfg.Progress, "%s: loading %d orders into schema %s", name, data.Orders, schema)
	start := time.Now()
	if _, err := datagen.Load(ctx, pool, schema, data, nil); err != nil {
		return res, fmt.Errorf("load dataset: %w", err)
	}
	res.LoadSeconds = time.Since(start).Seconds()

	lag := newLagObserver()
	sys, err := newSystem(name, pool, cfg.Infra, sc.Options, duplicateFraction(sc.Faults), lag)
	if err != nil {
		return res, err
	}
	start = time.Now()
	if err := sys.Setup(ctx); err != nil {
		return res, fmt.Errorf("set up: %w", err)
	}
	res.SetupSeconds = time.Since(start).Seconds()
	if err := sys.Start(ctx); err != nil {
		return res, fmt.Errorf("start: %w", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		_ = sys.Close(closeCtx)
	}()

	gen, err := datagen.New(data)
	if err != nil {
		return res, err
	}
	seed := sc.Dataset.Seed + uint64(round)*1_000_003
	ages := hist.NewRegistry()
	a := &archRun{
		cfg: cfg, sys: sys, today: today, gen: gen,
		cmds:  workload.New(gen, seed, workload.Options{Random: 0.02}),
		rng:   rand.New(rand.NewPCG(seed, 17)),
		track: newTracker(),
		ages:  ages, ageRec: ages.NewRecorder(),
	}
	a.probe = newProber(sys, sc.Prober, seed)

	r, err := runner.New(runnerConfig(sc, seed), a.ops(), runner.WithClassifier(classify), runner.WithProgress(func(p runner.Progress) {
		if cfg.Progress != nil {
			fmt.Fprintln(cfg.Progress, report.ProgressLine(name, p, 0, -1))
		}
	}))
	if err != nil {
		return res, err
	}
	say(cfg.Progress, "%s: running %s (%s warmup, %s measured)", name, sc.Name, sc.Load.Warmup.Std(), sc.Load.Duration.Std())
	out, err := r.Run(ctx)
	if err != nil {
		return res, fmt.Errorf("run load: %w", err)
	}
	start = time.Now()
	if err := sys.WaitCaughtUp(ctx); err != nil {
		return res, fmt.Errorf("wait until caught up: %w", err)
	}
	res.CatchUpSeconds = time.Since(start).Seconds()
	a.probe.wait()
	if res.Consistency, err = consistency(ctx, pool, sys); err != nil {
		return res, err
	}

	res.Load = results.LoadFrom(out)
	res.Ops = results.OpsFrom(out)
	res.Staleness = results.Staleness{Reads: a.reads.Load(), Stale: a.stale.Load()}
	if res.Staleness.Reads > 0 {
		res.Staleness.Rate = float64(res.Staleness.Stale) / float64(res.Staleness.Reads)
	}
	a.ageMu.Lock()
	ageSnap := ages.Tick()["age"]
	a.ageMu.Unlock()
	if res.Staleness.Age, err = results.StatsFrom(ageSnap); err != nil {
		return res, err
	}
	visible, timeouts := a.probe.result()
	if name != reference.CRUD && name != reference.CQRSSync || visible.Count > 0 {
		res.Lag = &results.Lag{ProbeTimeouts: timeouts}
		if res.Lag.Visible, err = results.StatsFrom(visible); err != nil {
			return res, err
		}
		if name == reference.CQRSKafka {
			if res.Lag.Stages, err = lag.stages(out.Start); err != nil {
				return res, err
			}
		}
	}
	if mv, ok := sys.(*cqrsmatview.System); ok {
		st := mv.RefreshStats()
		res.Refresh = &results.Refresh{Count: st.Count, Errors: st.Errors}
		if st.Count > 0 {
			res.Refresh.Stats = results.Stats{Count: st.Count, Mean: float64(st.Total.Microseconds()) / float64(st.Count), Max: float64(st.Max.Microseconds())}
		}
	}
	return res, nil
}

// runnerConfig maps the scenario's load profile onto the runner.
func runnerConfig(sc *scenarios.Scenario, seed uint64) runner.Config {
	lp := sc.Load
	c := runner.Config{
		Warmup:      lp.Warmup.Std(),
		Arrival:     runner.Arrival(lp.Arrival),
		Seed:        seed,
		Concurrency: lp.Workers,
	}
	if lp.Mode == scenarios.ModeClosed {
		c.Mode = runner.ModeClosed
		c.Duration = lp.Duration.Std()
		return c
	}
	for _, p := range lp.Phases {
		if p.Ramp != nil {
			rp := runner.Ramp(p.Duration.Std(), p.Ramp.From, p.Ramp.To)
			rp.Name = p.Name
			c.Phases = append(c.Phases, rp)
			continue
		}
		sp := runner.Steady(p.Duration.Std(), p.Rate)
		sp.Name = p.Name
		c.Phases = append(c.Phases, sp)
	}
	return c
}

// classify names an operation's error kind for the results.
func classify(err error) string {
	switch {
	case errors.Is(err, domain.ErrInvalidTransition):
		return "invalid_transition"
	case errors.Is(err, domain.ErrInvalidCommand):
		return "invalid_command"
	case errors.Is(err, writemodel.ErrNotFound):
		return "not_found"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	}
	return "error"
}

// ops builds the runner's operations from the scenario's mix.
func (a *archRun) ops() []runner.Op {
	var ops []runner.Op
	for _, op := range a.cfg.Scenario.Mix.Ops() {
		w := a.cfg.Scenario.Mix[op]
		if w <= 0 {
			continue
		}
		var do func(context.Context) error
		switch op {
		case scenarios.OpListOrders:
			do = a.listOrders
		case scenarios.OpSalesDashboard:
			do = a.salesDashboard
		default:
			kind := domain.Kind(op)
			do = func(ctx context.Context) error { return a.command(ctx, kind) }
		}
		ops = append(ops, runner.Op{Name: string(op), Weight: w, Do: do})
	}
	return ops
}

func (a *archRun) customer() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.cmds.Customer()
}

func (a *archRun) listOrders(ctx context.Context) error {
	customer := a.customer()
	started := time.Now()
	rows, err := a.sys.ListOrders(ctx, customer)
	if err != nil {
		return err
	}
	a.reads.Add(1)
	if stale, age := a.track.classify(customer, started, rows); stale {
		a.stale.Add(1)
		a.ageMu.Lock()
		a.ageRec.Record("age", age)
		a.ageMu.Unlock()
	}
	return nil
}

func (a *archRun) salesDashboard(ctx context.Context) error {
	_, err := a.sys.SalesDashboard(ctx, a.today)
	return err
}

func (a *archRun) command(ctx context.Context, kind domain.Kind) error {
	a.mu.Lock()
	cmd, err := a.cmds.Next(kind)
	a.mu.Unlock()
	if err != nil {
		return err
	}
	out, err := a.sys.Execute(ctx, cmd)
	if err != nil {
		return err
	}
	a.mu.Lock()
	a.cmds.Applied(cmd, out.OrderID)
	a.mu.Unlock()
	create := kind == domain.KindCreateOrder
	a.track.committed(out.CustomerID, write{order: out.OrderID, version: out.Version, committed: out.Committed, create: create})
	if create || a.track.createdInRun(out.CustomerID, out.OrderID) {
		a.probe.maybe(out)
	}
	return nil
}

// hostInfo describes this machine.
func hostInfo() results.Host {
	h := results.Host{OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU()}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		h.Kernel = string(trimNL(b))
	}
	return h
}

func trimNL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// consistency reconciles sys's read models with its write model (after it
// caught up) and adds the pipeline's event counts.
func consistency(ctx context.Context, pool *pgxpool.Pool, sys reference.System) (*results.Consistency, error) {
	rep, err := check.Check(ctx, pool, sys.Name())
	if err != nil {
		return nil, err
	}
	c := &results.Consistency{Violations: rep.Violations()}
	for _, d := range rep.Diffs {
		c.Lost += d.Missing
		c.Extra += d.Extra
		c.Mismatched += d.Mismatched
		c.Tables = append(c.Tables, results.TableDiff{Table: d.Table, Expected: d.Expected, Missing: d.Missing, Extra: d.Extra, Mismatched: d.Mismatched, Samples: d.Samples})
	}
	if k, ok := sys.(*cqrskafka.System); ok {
		st := k.Stats()
		c.EventsProduced = st.Relay.Produced
		c.EventsDelivered = st.Projector.Delivered
		c.EventsApplied = st.Projector.Applied
		c.DuplicatesDelivered = st.Projector.Duplicates
		c.DeadLettered = st.Projector.DeadLettered
	}
	return c, nil
}

// UnsupportedError is a scenario asking for something this build cannot do:
// the command line exits with code 2.
type UnsupportedError struct{ msg string }

// Error implements error.
func (e *UnsupportedError) Error() string { return e.msg }

// ExitCode returns 2, the usage error code.
func (e *UnsupportedError) ExitCode() int { return 2 }

// Supported returns an *UnsupportedError when sc asks for something this
// build cannot run (fault injection), so callers can refuse it before
// starting any service.
func Supported(sc *scenarios.Scenario) error {
	var kinds []string
	for _, f := range sc.Faults {
		if wholeRunDuplicates(f) {
			continue
		}
		kinds = append(kinds, string(f.Kind))
	}
	if len(kinds) == 0 {
		return nil
	}
	return &UnsupportedError{fmt.Sprintf("scenario %s injects faults (%s), which this build cannot inject yet "+
		"(it injects only duplicates by republishing, at 0s for the whole run); "+
		"run another scenario (cqrsbench scenarios lists them)", sc.Name, strings.Join(kinds, ", "))}
}

// wholeRunDuplicates reports whether f is the one fault this build injects:
// the relay republishing a fraction of cqrs-kafka's events for the whole
// run.
func wholeRunDuplicates(f scenarios.Fault) bool {
	return f.Kind == scenarios.FaultDuplicates && f.Method == scenarios.DuplicateRepublish &&
		f.At.Std() == 0 && f.Duration.Std() == 0 && (f.Arch == "" || f.Arch == scenarios.ArchCQRSKafka)
}

// duplicateFraction is the share of events the relay publishes twice.
func duplicateFraction(faults []scenarios.Fault) float64 {
	for _, f := range faults {
		if wholeRunDuplicates(f) {
			return float64(f.Fraction)
		}
	}
	return 0
}
