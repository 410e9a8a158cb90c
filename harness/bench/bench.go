package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/hist"
	"github.com/cqrsbench/cqrsbench/harness/infra"
	"github.com/cqrsbench/cqrsbench/harness/report"
	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/harness/runner"
	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/relay"
	"github.com/cqrsbench/cqrsbench/reference/workload"
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
	if err := checkFaults(sc, cfg.Infra); err != nil {
		return nil, err
	}
	run := &results.Run{
		SchemaVersion: results.SchemaVersion,
		Tool:          results.Tool{Version: cfg.Version, GoVersion: runtime.Version()},
		StartedAt:     cfg.Now().UTC(),
		Environment:   results.Environment{Infra: cfg.Infra.Describe(), Host: hostInfo()},
		Scenario:      sc,
	}
	for _, op := range sc.Workload().Operations() {
		run.Operations = append(run.Operations, results.Operation{Name: op.Name, Query: op.Query})
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
	replica, err := replicaPool(ctx, cfg.Infra, sc.Load.Connections)
	if err != nil {
		return nil, err
	}
	if replica != nil {
		defer replica.Close()
	}

	if err := enableStatementStats(ctx, pool); err != nil {
		say(cfg.Progress, "cost per operation: without the statements' (%v)", err)
	}
	points, err := sc.SweepPoints()
	if err != nil {
		return nil, err
	}
	if sc.Sweep != nil {
		run.Sweep = &results.Sweep{Parameter: string(sc.Sweep.Parameter)}
	}
	for i, point := range points {
		if run.Sweep != nil {
			say(cfg.Progress, "sweep %s = %s (%d of %d): %d orders, %d customers, %.0f%% reads",
				sc.Sweep.Parameter, strconv.FormatFloat(sc.Sweep.Values[i], 'g', -1, 64), i+1, len(points),
				point.Dataset.Orders, point.Dataset.Customers, 100*point.ReadShare())
		}
		pointCfg := cfg
		pointCfg.Scenario = point
		archs, err := runRounds(ctx, pointCfg, pool, replica)
		if run.Sweep == nil || err == nil || len(run.Sweep.Points) == 0 {
			run.Architectures = archs // a sweep's last finished point
		}
		if err != nil {
			if ctx.Err() != nil {
				run.Interrupted, run.FinishedAt = true, cfg.Now().UTC()
			}
			return run, err
		}
		if run.Sweep != nil {
			p := results.SweepPoint{Value: sc.Sweep.Values[i], Dataset: point.Dataset, Mix: point.Mix, ReadShare: point.ReadShare(), Architectures: archs}
			p.Payoff = report.Payoff(run.Point(p))
			run.Sweep.Points = append(run.Sweep.Points, p)
		}
	}
	run.FinishedAt = cfg.Now().UTC()
	return run, nil
}

// runRounds runs cfg.Scenario's rounds of every architecture and returns
// each architecture's results, rounds merged; after an error, the rounds
// that finished before it. replica is a streaming replica of pool's
// server, nil when the infrastructure has none.
func runRounds(ctx context.Context, cfg Config, pool, replica *pgxpool.Pool) ([]results.Architecture, error) {
	sc := cfg.Scenario
	var archs []results.Architecture
	rounds := max(sc.Interleaving.Rounds, 1)
	for round := range rounds {
		for _, arch := range roundOrder(sc.Architectures, round) {
			res, err := runArchitecture(ctx, cfg, pool, replica, string(arch), round)
			if err != nil {
				return archs, fmt.Errorf("%s: %w", arch, err)
			}
			archs = mergeArchitecture(archs, res)
		}
	}
	return archs, nil
}

// roundOrder returns the order architectures run in round: as listed in
// even rounds, reversed in odd ones (A B C, C B A, A B C …), so that across
// rounds no architecture always runs first, or always after the same one.
func roundOrder(archs []scenarios.Arch, round int) []scenarios.Arch {
	if round%2 == 0 {
		return archs
	}
	reversed := slices.Clone(archs)
	slices.Reverse(reversed)
	return reversed
}

// archRun is the state of one architecture's measured run.
type archRun struct {
	cfg     Config
	work    workload.Workload
	session workload.Session
	dbs     databases
	faults  *faultSet
	track   *tracker
	probe   *prober
	reads   atomic.Int64
	stale   atomic.Int64
	// own-write reads (Read.OwnWrite) and the stale ones among them
	ownReads, ownStale atomic.Int64
	// checks are the own-write reads' checks still running
	// (Read.MissedOwnWrite), awaited before the counts are read
	checks sync.WaitGroup
	ageMu  sync.Mutex
	ageRec *hist.Recorder
	ages   *hist.Registry
}

func say(w io.Writer, format string, args ...any) {
	if w != nil {
		fmt.Fprintf(w, format+"\n", args...)
	}
}

func runArchitecture(ctx context.Context, cfg Config, pool, replica *pgxpool.Pool, name string, round int) (_ results.Architecture, err error) {
	sc := cfg.Scenario
	res := results.Architecture{Name: name}
	began := time.Now()
	var ran, checks time.Duration                   // the load's run (warmup included); what follows it
	desc, ok := sc.Descriptor(scenarios.Arch(name)) // what it offers on this workload, with these options
	if !ok {
		return res, catalog.UnknownError(name)
	}
	work := sc.Workload()
	pipeline := catalog.Offers[reference.Pipeline](desc)
	data := workload.Dataset{Rows: sc.Dataset.Orders, Owners: sc.Dataset.Customers, Seed: sc.Dataset.Seed, Skew: sc.Dataset.Skew, Today: cfg.Now().UTC()}
	schema := desc.Schema

	say(cfg.Progress, "%s: loading %s's dataset (%d rows) into schema %s", name, work.Name(), data.Rows, schema)
	start := time.Now()
	if err := work.Load(ctx, pool, schema, data); err != nil {
		return res, err
	}
	res.LoadSeconds = time.Since(start).Seconds()
	writeModel, err := tableNames(ctx, pool, schema)
	if err != nil {
		return res, err
	}
	baseline, err := work.Committed(ctx, pool, schema)
	if err != nil {
		return res, err
	}
	faults := faultsFor(sc, name, cfg.Infra, cfg.Progress)

	lag := newLagObserver()
	errs := &errorLog{}
	sys, err := newSystem(ctx, desc, work, pool, replica, cfg.Infra, sc.Options, faults, faults.observer(lag), errs)
	if err != nil {
		return res, err
	}
	start = time.Now()
	if err := sys.Setup(ctx); err != nil {
		return res, fmt.Errorf("set up: %w", err)
	}
	res.SetupSeconds = time.Since(start).Seconds()
	if err := sys.Start(ctx); err != nil {
		if errors.Is(err, relay.ErrWALLevel) {
			return res, infra.Unavailable("PostgreSQL with logical decoding (for relay: wal)",
				"set wal_level = logical in the server's postgresql.conf and restart it (the local and docker providers do), or use relay: skip-locked", err)
		}
		return res, fmt.Errorf("start: %w", err)
	}
	defer func() {
		closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
		defer cancel()
		closing := time.Now()
		if cerr := sys.Close(closeCtx); cerr != nil {
			err = errors.Join(err, fmt.Errorf("close: %w", cerr))
		}
		if err == nil {
			// Where a round's time goes besides the measured load.
			say(cfg.Progress, "%s: round %d took %.1f s: load %.1f, set-up %.1f, run %.1f, catch-up %.1f, checks and idle %.1f, close %.1f",
				name, round+1, time.Since(began).Seconds(), res.LoadSeconds, res.SetupSeconds, ran.Seconds(), res.CatchUpSeconds,
				checks.Seconds(), time.Since(closing).Seconds())
		}
	}()

	seed := sc.Dataset.Seed + uint64(round)*1_000_003
	session, err := work.Open(ctx, sys, pool, schema, data, seed)
	if err != nil {
		return res, err
	}
	policy := sc.ReadYourWrites.PolicyOf(scenarios.Arch(name))
	if err := useReadYourWrites(session, sc, policy); err != nil {
		return res, err
	}
	ages := hist.NewRegistry()
	a := &archRun{
		cfg: cfg, work: work, session: session, faults: faults, dbs: databases{pool, replica},
		track: newTracker(),
		ages:  ages, ageRec: ages.NewRecorder(),
	}
	var offered float64
	if sc.Load.Mode != scenarios.ModeClosed {
		offered = sc.Load.Rate
	}
	a.probe = newProber(session, sc.Prober, offered, seed)

	classify := func(err error) string { kind, _ := errorKind(work, err); return kind }
	r, err := runner.New(runnerConfig(sc, seed), a.ops(), runner.WithClassifier(classify), runner.WithProgress(func(p runner.Progress) {
		if cfg.Progress == nil {
			return
		}
		lagP99, backlog := time.Duration(0), int64(-1)
		if pipeline {
			lagP99, backlog = lag.live()
		}
		fmt.Fprintln(cfg.Progress, report.ProgressLine(name, p, lagP99, backlog))
	}))
	if err != nil {
		return res, err
	}
	canaryQPS, err := canary(ctx, pool)
	if err != nil {
		return res, err
	}
	say(cfg.Progress, "%s: running %s (%s warmup, %s measured; canary %.0f q/s)", name, sc.Name, sc.Load.Warmup.Std(), sc.Load.Duration.Std(), canaryQPS)
	loadDone := make(chan struct{})
	// The runner starts its clock at once; fault times and the cost's
	// counters count from the end of its warmup.
	measured := time.Now().Add(sc.Load.Warmup.Std())
	faults.start(ctx, sys, session, measured, loadDone)
	var replicaLag *replicaSampler
	if replica != nil && slices.Contains(desc.Needs, catalog.Replica) {
		replicaLag = sampleReplica(ctx, pool, replica, measured, loadDone)
	}
	var slotLag *slotSampler
	if pipeline {
		slotLag = sampleSlot(ctx, pool, schema, measured, loadDone)
	}
	before := countersAt(ctx, a.dbs, cfg.Infra, measured)
	runStart := time.Now()
	out, err := r.Run(ctx)
	ran = time.Since(runStart)
	close(loadDone)
	faults.wait()
	if err != nil {
		return res, fmt.Errorf("run load: %w", err)
	}
	after, err := readCounters(ctx, a.dbs, cfg.Infra)
	if err != nil {
		return res, err
	}
	from, err := before.wait()
	if err != nil {
		return res, fmt.Errorf("at the end of the warmup: %w", err)
	}
	start = time.Now()
	if err := sys.WaitCaughtUp(ctx); err != nil {
		return res, fmt.Errorf("wait until caught up: %w", err)
	}
	res.CatchUpSeconds = time.Since(start).Seconds()
	checkStart := time.Now()
	faults.afterLoad(ctx)
	a.probe.wait()
	a.checks.Wait()
	if res.Consistency, err = consistency(ctx, pool, work, desc, sys, baseline); err != nil {
		return res, err
	}
	res.Faults = faults.results()

	res.Load = results.LoadFrom(out)
	res.Ops = results.OpsFrom(out)
	res.Cost = costBetween(from, after, res.Load.Completed, commandsIn(work, res.Ops))
	if res.Cost.Storage, err = storage(ctx, pool, schema, writeModel, catalog.ReadModels(desc, work)); err != nil {
		return res, err
	}
	if err := idleAndPredict(ctx, cfg.Infra, res.Cost); err != nil {
		return res, err
	}
	if p, ok := sys.(reference.Pipeline); ok {
		if st := p.PipelineStats(); st.Published > 0 {
			res.Cost.TransportBytesPerEvent = float64(st.PublishedBytes) / float64(st.Published)
		}
	}
	res.Staleness = results.Staleness{Reads: a.reads.Load(), Stale: a.stale.Load(),
		OwnWriteReads: a.ownReads.Load(), OwnWriteStale: a.ownStale.Load()}
	if rw, ok := session.(workload.ReadYourWriter); ok && policy != workload.RYWNone {
		st := rw.ReadYourWritesStats()
		res.ReadYourWrites = &results.ReadYourWrites{Policy: policy, Redirected: st.Redirected, Waited: st.Waited, TimedOut: st.TimedOut}
	}
	if res.Staleness.Reads > 0 {
		res.Staleness.Rate = float64(res.Staleness.Stale) / float64(res.Staleness.Reads)
	}
	a.ageMu.Lock()
	ageSnap := ages.Tick()["age"]
	a.ageMu.Unlock()
	if res.Staleness.Age, err = results.StatsFrom(ageSnap); err != nil {
		return res, err
	}
	pr := a.probe.result()
	if desc.Consistency.Lags() || pr.visible.Count > 0 || pr.skipped > 0 || pr.timeouts > 0 {
		res.Lag = &results.Lag{ProbeTimeouts: pr.timeouts, ProbeQueries: pr.queries, ProbesSkipped: pr.skipped,
			ProbesOverCap: pr.overCap, ProbeCapQPS: pr.capQPS}
		if res.Lag.Visible, err = results.StatsFrom(pr.visible); err != nil {
			return res, err
		}
		if pipeline {
			if res.Lag.Stages, err = lag.stages(out.Start); err != nil {
				return res, err
			}
		}
		if replicaLag != nil {
			if res.Lag.Replica, err = replicaLag.result(); err != nil {
				return res, err
			}
		}
		if slotLag != nil {
			res.Lag.Slot = slotLag.result()
		}
	}
	if r, ok := sys.(reference.Refresher); ok {
		st := r.RefreshStats()
		res.Refresh = &results.Refresh{Count: st.Count, Errors: st.Errors, Stats: refreshStats(st.Durations)}
	}
	res.WorkerErrors = errs.result(sys)
	res.Rounds = []results.Round{results.RoundOf(res, round)}
	res.Rounds[0].CanaryQPS = canaryQPS
	checks = time.Since(checkStart)
	// Last: the search's load must not reach the figures above.
	if sc.Capacity.Search && round == 0 {
		var lagP99 func() time.Duration
		if pipeline {
			lagP99 = func() time.Duration { p99, _ := lag.live(); return p99 }
		}
		if res.Capacity, err = a.searchMaxRate(ctx, name, res.Ops, res.Cost, lagP99); err != nil {
			return res, err
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

// errorKind names an operation's error kind for the results: the
// workload's name for a command it refused (rejected), else timeout,
// unavailable or error.
func errorKind(work workload.Workload, err error) (kind string, rejected bool) {
	if kind := work.Rejection(err); kind != "" {
		return kind, true
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout", false
	case unavailable(err):
		return "unavailable", false
	}
	return "error", false
}

// unavailable reports whether err says the database could not be reached
// or went away (connection refused or lost, server shutting down or
// starting up): what an outage does to an operation.
func unavailable(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "57P")
	}
	var connErr *pgconn.ConnectError
	var netErr net.Error
	return errors.As(err, &connErr) || errors.As(err, &netErr) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || pgconn.SafeToRetry(err)
}

// ops builds the runner's operations from the scenario's mix.
func (a *archRun) ops() []runner.Op {
	var ops []runner.Op
	for _, op := range a.cfg.Scenario.Operations() {
		ops = append(ops, runner.Op{Name: op.Name, Weight: a.cfg.Scenario.Mix[scenarios.Op(op.Name)],
			Do: func(ctx context.Context) error { return a.do(ctx, op) }})
	}
	return ops
}

// do runs op through the session: it counts the operation in an outage in
// progress, tracks a command's write and classifies a query's read as fresh
// or stale. The warmup's reads are not classified, like its latencies are
// not counted; its writes are tracked (a measured read may miss one) but not
// probed: the prober's figures cover the measured period alone.
func (a *archRun) do(ctx context.Context, op workload.Operation) error {
	outage := a.faults.duringOutage()
	eff, err := a.session.Do(ctx, op.Name)
	if outage != nil {
		kind, rejected := "", false
		if err != nil {
			kind, rejected = errorKind(a.work, err)
		}
		if eff.Write != nil && err != nil {
			// A sequence's command committed and its read failed.
			outage.count(true, nil, "", false)
			outage.count(false, err, kind, false)
		} else {
			outage.count(!op.Query, err, kind, rejected)
		}
	}
	// A committed write is tracked even when the read after it failed.
	warmup := runner.InWarmup(ctx)
	if w := eff.Write; w != nil {
		if w.Owner != 0 {
			a.track.committed(*w)
		}
		if (w.Created || w.Probe || a.track.createdInRun(w.Owner, w.Entity)) && !warmup {
			a.probe.maybe(*w)
		}
	}
	if err != nil {
		return err
	}
	if r := eff.Read; r != nil && !warmup {
		a.reads.Add(1)
		if r.OwnWrite {
			a.ownReads.Add(1)
		}
		if stale, age := a.track.classify(*r); stale {
			a.countStale(r.OwnWrite, age)
		}
		if r.MissedOwnWrite != nil && eff.Write != nil {
			age := r.Started.Sub(eff.Write.Committed)
			a.checks.Go(func() {
				if r.MissedOwnWrite() {
					a.countStale(true, age)
				}
			})
		}
	}
	return nil
}

// countStale counts a stale read, own-write or not, age after the write
// it missed.
func (a *archRun) countStale(own bool, age time.Duration) {
	a.stale.Add(1)
	if own {
		a.ownStale.Add(1)
	}
	a.ageMu.Lock()
	a.ageRec.Record("age", age)
	a.ageMu.Unlock()
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
// caught up) and adds the pipeline's event counts; baseline is the
// workload's Committed count before the run.
func consistency(ctx context.Context, pool *pgxpool.Pool, work workload.Workload, desc catalog.Descriptor, sys reference.System, baseline int64) (*results.Consistency, error) {
	diffs, err := work.Check(ctx, pool, desc.Schema, catalog.ReadModels(desc, work))
	if err != nil {
		return nil, fmt.Errorf("check %s: %w", desc.Name, err)
	}
	c := &results.Consistency{}
	for _, d := range diffs {
		c.Violations += d.Violations()
		c.Lost += d.Missing
		c.Extra += d.Extra
		c.Mismatched += d.Mismatched
		c.Tables = append(c.Tables, results.TableDiff{Table: d.Table, Expected: d.Expected, Missing: d.Missing, Extra: d.Extra, Mismatched: d.Mismatched, Samples: d.Samples})
	}
	if p, ok := sys.(reference.Pipeline); ok {
		st := p.PipelineStats()
		now, err := work.Committed(ctx, pool, desc.Schema)
		if err != nil {
			return nil, err
		}
		c.EventsCommitted = now - baseline
		c.EventsLost = max(c.EventsCommitted-st.Relayed, 0)
		c.DuplicatesApplied = max(st.Applied-st.Replayed-st.Relayed, 0)
		c.Violations += c.EventsLost + c.DuplicatesApplied
		c.EventsProduced = st.Published
		c.EventsDelivered = st.Delivered
		c.EventsApplied = st.Applied
		c.DuplicatesDelivered = st.Duplicates
		c.DeadLettered = st.DeadLettered
	}
	return c, nil
}

// useReadYourWrites sets policy, with the scenario's window and timeout,
// on the session; a policy other than none on a workload whose sessions
// cannot apply one is an *UnsupportedError.
func useReadYourWrites(session workload.Session, sc *scenarios.Scenario, policy string) error {
	rw := sc.ReadYourWrites
	if policy == workload.RYWNone || policy == "" {
		return nil
	}
	s, ok := session.(workload.ReadYourWriter)
	if !ok {
		return &UnsupportedError{msg: fmt.Sprintf("read_your_writes %s: the %s workload's sessions apply no read-your-writes policy", policy, sc.Workload().Name())}
	}
	if err := s.UseReadYourWrites(workload.ReadYourWrites{Policy: policy, Window: rw.Window.Std(), Timeout: rw.Timeout.Std()}); err != nil {
		return &UnsupportedError{msg: err.Error(), err: err}
	}
	return nil
}

// UnsupportedError is a scenario asking for something this build cannot do:
// the command line exits with code 2.
type UnsupportedError struct {
	msg string
	err error // what it comes from, if anything
}

// Error implements error.
func (e *UnsupportedError) Error() string { return e.msg }

// Unwrap returns the error it comes from, if any.
func (e *UnsupportedError) Unwrap() error { return e.err }

// ExitCode returns 2, the usage error code.
func (e *UnsupportedError) ExitCode() int { return 2 }

// Supported returns an *UnsupportedError when sc cannot run on the named
// infrastructure provider ("" when not known yet), so callers can refuse it
// before starting any service: outages need services cqrsbench started
// itself, so an external provider cannot run broker-restart, pg-restart or
// replica-restart.
// Run checks again once the infrastructure is up (kfake cannot restart).
func Supported(sc *scenarios.Scenario, provider string) error {
	if provider != infra.ProviderExternal {
		return nil
	}
	for _, f := range sc.Faults {
		if f.Kind == scenarios.FaultBrokerRestart || f.Kind == scenarios.FaultPGRestart || f.Kind == scenarios.FaultReplicaRestart {
			return &UnsupportedError{msg: fmt.Sprintf("scenario %s injects %s: cqrsbench stops and restarts only services it started; "+
				"use --infra local or --infra docker", sc.Name, f.Kind)}
		}
	}
	return nil
}

// refreshStats summarises materialized-view refresh durations, histogram
// included, like any latency.
func refreshStats(durations []time.Duration) results.Stats {
	h := hist.New()
	var clamped int64
	for _, d := range durations {
		us, over := hist.Micros(d)
		if over {
			clamped++
		}
		_ = h.RecordValue(us) // within the geometry: Micros clamps
	}
	snap, err := hist.NewSnapshot(h, clamped)
	if err != nil {
		return results.Stats{}
	}
	st, err := results.StatsFrom(snap)
	if err != nil {
		return results.Stats{Count: snap.Count, Max: float64(snap.Max.Microseconds())}
	}
	return st
}
