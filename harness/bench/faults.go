package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cqrsbench/cqrsbench/harness/infra"
	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
	"github.com/cqrsbench/cqrsbench/reference/replica"
	"github.com/cqrsbench/cqrsbench/reference/workload"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// recoveryTimeout bounds the wait for an architecture to catch up after
// an injection; reaching it is reported as the fault's error.
const recoveryTimeout = 5 * time.Minute

// backlogCheck is how often a catch-up fault looks at the backlog while the
// projector is paused.
const backlogCheck = 100 * time.Millisecond

// faultSet is the faults injected into one architecture's run: hooks wired
// into the architecture before it starts, and injections timed from the
// start of the measured load.
type faultSet struct {
	arch     string
	desc     catalog.Descriptor // the architecture as the scenario runs it
	env      infra.Infra
	progress io.Writer
	faults   []*fault

	sys      reference.System
	session  workload.Session
	measured time.Time       // start of the measured load
	loadDone <-chan struct{} // closed when the load stops

	outage     atomic.Pointer[outageCounters] // non-nil while a service is down
	firstFetch atomic.Pointer[chan time.Time] // a catch-up awaiting the resumed projector's first records
	wg         sync.WaitGroup
}

// observer returns the observer of a pipeline's stage timestamps: next,
// seen first by the faults (a catch-up learns when the resumed projector
// fetched its first records).
func (fs *faultSet) observer(next event.Observer) event.Observer {
	if fs == nil {
		return next
	}
	return event.ObserverFunc(func(stage event.Stage, at time.Time, refs []event.Ref) {
		if stage == event.StageDelivered && fs.firstFetch.Load() != nil {
			if ch := fs.firstFetch.Swap(nil); ch != nil {
				*ch <- at
			}
		}
		next.Observe(stage, at, refs)
	})
}

// fault is one scenario fault and what it did.
type fault struct {
	spec scenarios.Fault
	fs   *faultSet

	mu  sync.Mutex // guards res
	res results.Fault

	// Crash faults: injections armed by the schedule, made by a hook.
	armed atomic.Int64
	fired chan crashed
	// Duplicates: whether the window is open; lost-ack's acks lost.
	on       atomic.Bool
	acksLost atomic.Int64
	dice     *rand.Rand // guarded by mu
	outOp    *outageCounters
}

// crashed is a crash a hook made.
type crashed struct {
	at     time.Time
	detail string
}

// faultsFor returns the scenario's faults that apply to arch; none is a
// nil set, on which every method is a no-op.
func faultsFor(sc *scenarios.Scenario, arch string, env infra.Infra, progress io.Writer) *faultSet {
	desc, _ := sc.Descriptor(scenarios.Arch(arch))
	fs := &faultSet{arch: arch, desc: desc, env: env, progress: progress}
	for i, f := range sc.Faults {
		if !f.AppliesTo(scenarios.Arch(arch), sc) {
			continue
		}
		fs.faults = append(fs.faults, &fault{
			spec: f, fs: fs,
			res:   results.Fault{Kind: string(f.Kind), Spec: describeFault(f)},
			fired: make(chan crashed, 64),
			dice:  rand.New(rand.NewPCG(sc.Dataset.Seed, uint64(i))),
		})
	}
	if len(fs.faults) == 0 {
		return nil
	}
	return fs
}

// checkFaults refuses, before anything is loaded, faults the infrastructure
// cannot inject.
func checkFaults(sc *scenarios.Scenario, env infra.Infra) error {
	for _, f := range sc.Faults {
		for _, arch := range sc.Architectures {
			if !f.AppliesTo(arch, sc) {
				continue
			}
			d, _ := sc.Descriptor(arch)
			for _, svc := range outageServices(f.Kind, d) {
				if err := infra.CanStop(env, svc); err != nil {
					return &UnsupportedError{msg: fmt.Sprintf("scenario %s injects %s, which needs infrastructure cqrsbench started itself "+
						"(--infra local or --infra docker): %v", sc.Name, f.Kind, err)}
				}
			}
		}
	}
	return nil
}

// outageServices returns the services a fault of kind k stops in d's run:
// PostgreSQL for pg-restart, its replica for replica-restart, the
// architecture's transports for broker-restart.
func outageServices(k scenarios.FaultKind, d catalog.Descriptor) []infra.Service {
	switch k {
	case scenarios.FaultPGRestart:
		return []infra.Service{infra.ServicePostgres}
	case scenarios.FaultReplicaRestart:
		return []infra.Service{infra.ServicePostgresReplica}
	case scenarios.FaultBrokerRestart:
		var out []infra.Service
		for _, s := range d.Needs {
			out = append(out, infra.Service(s))
		}
		return out
	}
	return nil
}

// hooks returns the fault-injection hooks of the faults, for the
// architecture to wire into its pipeline (reference.Hooks).
func (fs *faultSet) hooks() reference.Hooks {
	var h reference.Hooks
	if fs == nil {
		return h
	}
	for _, f := range fs.faults {
		switch f.spec.Kind {
		case scenarios.FaultDuplicates:
			if f.spec.Method == scenarios.DuplicateLostAck {
				h.AfterConfirm = chainIDs(h.AfterConfirm, f.loseAck)
				continue
			}
			h.DuplicateFraction = float64(f.spec.Fraction)
			h.DuplicatesOn = f.on.Load
		case scenarios.FaultRelayCrash:
			if f.spec.Point == scenarios.CrashBeforePublish {
				h.BeforePublish = chainIDs(h.BeforePublish, f.crashRelayBeforePublish)
				continue
			}
			h.AfterConfirm = chainIDs(h.AfterConfirm, f.crashRelay)
		case scenarios.FaultProjectorCrash:
			hook := func(_ context.Context, b reference.Batch) error {
				if b.Applied+b.Duplicates == 0 || !f.takeArmed() {
					return nil
				}
				f.fired <- crashed{time.Now(), fmt.Sprintf("batch of %d records (%d applied, %d duplicates)", b.Records, b.Applied, b.Duplicates)}
				return fmt.Errorf("%w (fault injection: %s)", errInjectedCrash, f.spec.Point)
			}
			if f.spec.Point == scenarios.CrashAfterInbox {
				h.BeforeDBCommit = hook
			} else {
				h.AfterDBCommit = hook
			}
		}
	}
	return h
}

// errInjectedCrash is what hooks return to simulate a crash.
var errInjectedCrash = errors.New("simulated crash")

// takeArmed consumes one armed crash, if any.
func (f *fault) takeArmed() bool {
	for {
		n := f.armed.Load()
		if n == 0 {
			return false
		}
		if f.armed.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// crashRelayBeforePublish is the relay's BeforePublish hook of a
// relay-crash fault at point before-publish.
func (f *fault) crashRelayBeforePublish(_ context.Context, ids []int64) error {
	if !f.takeArmed() {
		return nil
	}
	f.fired <- crashed{time.Now(), fmt.Sprintf("batch of %d rows claimed, never published", len(ids))}
	return fmt.Errorf("%w (fault injection before publishing %d rows)", errInjectedCrash, len(ids))
}

// chainIDs runs a, then b unless a failed; a nil a is b.
func chainIDs(a, b func(context.Context, []int64) error) func(context.Context, []int64) error {
	if a == nil {
		return b
	}
	return func(ctx context.Context, ids []int64) error {
		if err := a(ctx, ids); err != nil {
			return err
		}
		return b(ctx, ids)
	}
}

// crashRelay is the relay's AfterConfirm hook of a relay-crash fault.
func (f *fault) crashRelay(_ context.Context, ids []int64) error {
	if !f.takeArmed() {
		return nil
	}
	f.fired <- crashed{time.Now(), fmt.Sprintf("batch of %d rows acknowledged, not deleted", len(ids))}
	return fmt.Errorf("%w (fault injection after the confirmation of %d rows)", errInjectedCrash, len(ids))
}

// loseAck is the relay's AfterConfirm hook of a lost-ack duplicates fault: the
// acknowledgement of a fraction of the batches is treated as lost, so the
// relay publishes the batch again, as a producer retrying a send whose
// ack the broker lost.
func (f *fault) loseAck(_ context.Context, ids []int64) error {
	if !f.on.Load() {
		return nil
	}
	f.mu.Lock()
	hit := f.dice.Float64() < float64(f.spec.Fraction)
	f.mu.Unlock()
	if !hit {
		return nil
	}
	f.acksLost.Add(1)
	return fmt.Errorf("%w (fault injection: acknowledgement of %d records lost)", errInjectedCrash, len(ids))
}

// start begins the injections: measured is when the measured load starts,
// loadEnd when the load stops (no injection starts after it). It returns at
// once; wait waits for every injection and recovery to finish.
func (fs *faultSet) start(ctx context.Context, sys reference.System, session workload.Session, measured time.Time, loadDone <-chan struct{}) {
	if fs == nil {
		return
	}
	fs.sys, fs.session, fs.measured, fs.loadDone = sys, session, measured, loadDone
	for _, f := range fs.faults {
		if f.spec.Kind == scenarios.FaultRebuild && f.spec.AfterLoad {
			continue // after the load: afterLoad
		}
		fs.wg.Go(func() { f.run(ctx, loadDone) })
	}
}

// wait waits until every injection and its recovery are done.
func (fs *faultSet) wait() {
	if fs != nil {
		fs.wg.Wait()
	}
}

// afterLoad runs the faults that come after the load (rebuild), once the
// architecture has caught up.
func (fs *faultSet) afterLoad(ctx context.Context) {
	if fs == nil {
		return
	}
	for _, f := range fs.faults {
		if f.spec.Kind == scenarios.FaultRebuild && f.spec.AfterLoad {
			f.inject(ctx, time.Now())
		}
	}
}

// results returns what every fault did.
func (fs *faultSet) results() []results.Fault {
	if fs == nil {
		return nil
	}
	var out []results.Fault
	for _, f := range fs.faults {
		f.mu.Lock()
		r := f.res
		r.Injections = append([]results.Injection(nil), f.res.Injections...)
		if f.outOp != nil {
			r.DuringOutage = f.outOp.result()
		}
		f.mu.Unlock()
		if f.spec.Kind == scenarios.FaultDuplicates && f.spec.Method == scenarios.DuplicateLostAck {
			r.Injected = int(f.acksLost.Load()) // each lost ack is one injection
		}
		for _, in := range r.Injections {
			r.RecoverySeconds = max(r.RecoverySeconds, in.RecoverySeconds)
		}
		out = append(out, r)
	}
	return out
}

// run injects the fault on its schedule until the load is done.
func (f *fault) run(ctx context.Context, loadDone <-chan struct{}) {
	if f.spec.Kind == scenarios.FaultDuplicates {
		f.runWindow(ctx, loadDone)
		return
	}
	count := f.spec.Count
	if f.spec.Kind == scenarios.FaultCatchUp || f.spec.Kind == scenarios.FaultRebuild {
		count = 1 // these kinds take no count
	}
	for k := 0; count == 0 || k < count; k++ {
		due := f.fs.measured.Add(f.spec.At.Std() + time.Duration(k)*f.spec.Every.Std())
		if !sleepUntil(ctx, loadDone, due) {
			return
		}
		f.inject(ctx, due)
	}
}

// runWindow opens the duplicates window at At and closes it after Duration
// (0: at the end of the run).
func (f *fault) runWindow(ctx context.Context, loadDone <-chan struct{}) {
	if !sleepUntil(ctx, loadDone, f.fs.measured.Add(f.spec.At.Std())) {
		return
	}
	opened := time.Now()
	f.on.Store(true)
	f.record(results.Injection{AtSeconds: f.since(opened)})
	if d := f.spec.Duration.Std(); d > 0 {
		sleepUntil(ctx, loadDone, opened.Add(d))
		f.on.Store(false)
		f.setLast(func(in *results.Injection) { in.DurationSeconds = time.Since(opened).Seconds() })
	}
}

// sleepUntil waits until t; false if the load ended or ctx was cancelled
// first.
func sleepUntil(ctx context.Context, loadDone <-chan struct{}, t time.Time) bool {
	select {
	case <-loadDone:
		return false // even if t has passed: no injection after the load
	default:
	}
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-loadDone:
		return false
	case <-ctx.Done():
		return false
	}
}

// since is seconds from the start of the measured load to t.
func (f *fault) since(t time.Time) float64 { return t.Sub(f.fs.measured).Seconds() }

func (f *fault) record(in results.Injection) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.res.Injections = append(f.res.Injections, in)
	f.res.Injected = len(f.res.Injections)
}

func (f *fault) setLast(fn func(*results.Injection)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.res.Injections); n > 0 {
		fn(&f.res.Injections[n-1])
	}
}

func (f *fault) fail(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.res.Errors = append(f.res.Errors, err.Error())
}

// inject makes one injection and awaits the recovery from it.
func (f *fault) inject(ctx context.Context, due time.Time) {
	fs := f.fs
	say(fs.progress, "%s: injecting %s (%s)", fs.arch, f.spec.Kind, f.res.Spec)
	var end time.Time
	var err error
	switch f.spec.Kind {
	case scenarios.FaultRelayCrash, scenarios.FaultProjectorCrash:
		end, err = f.crash(ctx)
	case scenarios.FaultBrokerRestart, scenarios.FaultPGRestart, scenarios.FaultReplicaRestart:
		end, err = f.outage(ctx)
	case scenarios.FaultReplicaPause:
		end, err = f.replicaPause(ctx)
	case scenarios.FaultPoison:
		end, err = f.poison(ctx)
	case scenarios.FaultVisibilityGap:
		end, err = f.visibilityGap(ctx)
	case scenarios.FaultCatchUp:
		end, err = f.catchUp(ctx)
	case scenarios.FaultRebuild:
		err = f.rebuild(ctx)
		if err != nil {
			f.fail(err)
		}
		return // the rebuild waits for its own replay
	default:
		err = fmt.Errorf("fault %s is not injected by this build", f.spec.Kind)
	}
	if err != nil {
		f.fail(err)
		if end.IsZero() {
			return
		}
	}
	f.mu.Lock()
	at := len(f.res.Injections) - 1
	f.mu.Unlock()
	if f.spec.Kind == scenarios.FaultPoison {
		// A poison message takes nothing down: the next one is due on
		// schedule, not after this one's recovery.
		f.fs.wg.Go(func() { f.awaitRecovery(ctx, end, at) })
		return
	}
	f.awaitRecovery(ctx, end, at)
}

// awaitRecovery records, as injection at's recovery, how long after end the
// architecture had caught up with every write committed before it.
func (f *fault) awaitRecovery(ctx context.Context, end time.Time, at int) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recoveryTimeout)
	defer cancel()
	err := f.fs.sys.WaitCaughtUp(rctx)
	took := time.Since(end).Seconds()
	f.mu.Lock()
	if at >= 0 && at < len(f.res.Injections) {
		f.res.Injections[at].RecoverySeconds = took
	}
	f.mu.Unlock()
	if err != nil {
		f.fail(fmt.Errorf("recovery not awaited to the end: %w", err))
	}
}

// crash arms one crash and waits until a hook made it (the next batch).
func (f *fault) crash(ctx context.Context) (time.Time, error) {
	f.armed.Add(1)
	var c crashed
	select {
	case c = <-f.fired:
	case <-ctx.Done():
		return time.Time{}, ctx.Err()
	case <-f.fs.loadDone:
		if f.takeArmed() {
			return time.Time{}, errors.New("a crash was armed but no batch came before the load ended")
		}
		c = <-f.fired // a hook took it meanwhile
	}
	f.record(results.Injection{AtSeconds: f.since(c.at), Detail: c.detail})
	return c.at, nil
}

// outageCounters counts operations started while a service was down.
type outageCounters struct {
	cmdFailed, cmdRejected, cmdApplied, readFailed, readOK atomic.Int64
	mu                                                     sync.Mutex
	kinds                                                  map[string]int64
}

// count counts an operation that ended with err, of the kind errorKind
// gave it; rejected: the workload refused the command (it reached the
// database and was answered), not a failure.
func (o *outageCounters) count(command bool, err error, kind string, rejected bool) {
	switch {
	case command && err == nil:
		o.cmdApplied.Add(1)
	case command && rejected:
		o.cmdRejected.Add(1)
		return
	case command:
		o.cmdFailed.Add(1)
	case err == nil:
		o.readOK.Add(1)
	default:
		o.readFailed.Add(1)
	}
	if command && err != nil {
		o.mu.Lock()
		o.kinds[kind]++
		o.mu.Unlock()
	}
}

func (o *outageCounters) result() *results.OutageOps {
	o.mu.Lock()
	defer o.mu.Unlock()
	r := &results.OutageOps{CommandsFailed: o.cmdFailed.Load(), CommandsRejected: o.cmdRejected.Load(), CommandsApplied: o.cmdApplied.Load(),
		ReadsFailed: o.readFailed.Load(), ReadsOK: o.readOK.Load()}
	if len(o.kinds) > 0 {
		r.ErrorKinds = make(map[string]int64, len(o.kinds))
		for k, v := range o.kinds {
			r.ErrorKinds[k] = v
		}
	}
	return r
}

// duringOutage returns the counters of the outage in progress, or nil.
func (fs *faultSet) duringOutage() *outageCounters {
	if fs == nil {
		return nil
	}
	return fs.outage.Load()
}

// outage stops the services the fault takes down in this architecture's
// run (outageServices).
func (f *fault) outage(ctx context.Context) (time.Time, error) {
	svcs := outageServices(f.spec.Kind, f.fs.desc)
	if len(svcs) != 1 {
		return time.Time{}, fmt.Errorf("%s: %s needs %d services; this build restarts exactly one", f.spec.Kind, f.fs.arch, len(svcs))
	}
	return f.outageOf(ctx, svcs[0])
}

// outageOf stops svc, keeps it down for the fault's duration and starts it
// again; operations started meanwhile are counted. The service is started
// again even when ctx ends.
func (f *fault) outageOf(ctx context.Context, svc infra.Service) (time.Time, error) {
	o, ok := f.fs.env.(infra.Outager)
	if !ok {
		return time.Time{}, fmt.Errorf("%s: %w", svc, infra.ErrNoOutage)
	}
	f.mu.Lock()
	if f.outOp == nil {
		f.outOp = &outageCounters{kinds: map[string]int64{}}
	}
	counters := f.outOp
	f.mu.Unlock()

	stopped := time.Now()
	f.record(results.Injection{AtSeconds: f.since(stopped)})
	f.fs.outage.Store(counters)
	defer f.fs.outage.Store(nil)
	if err := o.Stop(ctx, svc); err != nil {
		return time.Time{}, fmt.Errorf("stop %s: %w", svc, err)
	}
	f.holdFor(ctx)
	// The service comes back whatever happened: a run must not end with
	// its database or broker down.
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
	defer cancel()
	if err := o.Start(sctx, svc); err != nil {
		return time.Time{}, fmt.Errorf("start %s again: %w", svc, err)
	}
	back := time.Now()
	f.setLast(func(in *results.Injection) { in.DurationSeconds = back.Sub(stopped).Seconds() })
	return back, nil
}

// poison publishes one undecodable message on the pipeline's transport.
func (f *fault) poison(ctx context.Context) (time.Time, error) {
	p, ok := f.fs.sys.(reference.Poisonable)
	if !ok {
		return time.Time{}, fmt.Errorf("poison: %s takes no poison messages", f.fs.arch)
	}
	at := time.Now()
	f.record(results.Injection{AtSeconds: f.since(at)})
	f.mu.Lock()
	n := len(f.res.Injections)
	f.mu.Unlock()
	return at, p.InjectPoison(ctx, n)
}

// visibilityGap runs one of the workload's commands (the shop: a
// create_order) in a transaction held open for the fault's duration while the load commits later outbox ids, then commits
// it: its outbox id commits out of order.
func (f *fault) visibilityGap(ctx context.Context) (time.Time, error) {
	held, ok := f.fs.session.(workload.HeldWriter)
	if !ok {
		return time.Time{}, fmt.Errorf("visibility gap: the workload cannot run a command of %s in a held transaction", f.fs.arch)
	}
	conn, err := pgx.Connect(ctx, f.fs.env.PostgresDSN())
	if err != nil {
		return time.Time{}, fmt.Errorf("visibility gap: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	tx, err := conn.Begin(ctx)
	if err != nil {
		return time.Time{}, fmt.Errorf("visibility gap: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // committed below
	opened := time.Now()
	f.record(results.Injection{AtSeconds: f.since(opened)})
	w, err := held.WriteInTx(ctx, tx)
	if err != nil {
		return time.Time{}, fmt.Errorf("visibility gap: a command in the held transaction: %w", err)
	}
	f.holdFor(ctx)
	if err := tx.Commit(context.WithoutCancel(ctx)); err != nil {
		return time.Time{}, fmt.Errorf("visibility gap: commit: %w", err)
	}
	committed := time.Now()
	f.setLast(func(in *results.Injection) {
		in.DurationSeconds = committed.Sub(opened).Seconds()
		in.Detail = fmt.Sprintf("entity %d committed after later outbox ids", w.Entity)
	})
	return committed, nil
}

// holdFor returns after the fault's duration, or when ctx ends: how long
// a service stays down, a transaction open, a replay paused.
func (f *fault) holdFor(ctx context.Context) {
	timer := time.NewTimer(f.spec.Duration.Std())
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-ctx.Done():
	}
}

// replicaPause pauses the streaming replica's WAL replay
// (pg_wal_replay_pause) for the fault's duration, then resumes it: the
// replica keeps receiving WAL but applies none, so its reads fall behind
// while nothing may be lost. Replay resumes even when ctx ends.
func (f *fault) replicaPause(ctx context.Context) (time.Time, error) {
	dsn := f.fs.env.PostgresReadDSN()
	if dsn == "" {
		return time.Time{}, errors.New("replica-pause: the infrastructure has no replica")
	}
	standby, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return time.Time{}, fmt.Errorf("replica-pause: connect to the replica: %w", err)
	}
	defer standby.Close(context.WithoutCancel(ctx))
	primary, err := pgx.Connect(ctx, f.fs.env.PostgresDSN())
	if err != nil {
		return time.Time{}, fmt.Errorf("replica-pause: connect to the primary: %w", err)
	}
	defer primary.Close(context.WithoutCancel(ctx))
	paused := time.Now()
	f.record(results.Injection{AtSeconds: f.since(paused)})
	// From here replay is resumed whatever happens: a replica left paused
	// would make every later read of the run stale.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Minute)
	defer cancel()
	resumed := false
	defer func() {
		if !resumed {
			_, _ = standby.Exec(rctx, "SELECT pg_wal_replay_resume()")
		}
	}()
	if _, err := standby.Exec(ctx, "SELECT pg_wal_replay_pause()"); err != nil {
		return time.Time{}, fmt.Errorf("replica-pause: pg_wal_replay_pause() (needs a superuser, or EXECUTE granted on it): %w", err)
	}
	f.holdFor(ctx)
	var behind int64 = -1
	if lsn, err := replica.WrittenLSN(rctx, primary); err == nil {
		_ = standby.QueryRow(rctx, "SELECT pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn())::bigint", lsn).Scan(&behind)
	}
	if _, err := standby.Exec(rctx, "SELECT pg_wal_replay_resume()"); err != nil {
		return time.Time{}, fmt.Errorf("replica-pause: pg_wal_replay_resume(): %w", err)
	}
	resumed = true
	end := time.Now()
	f.setLast(func(in *results.Injection) {
		in.DurationSeconds = end.Sub(paused).Seconds()
		if behind >= 0 {
			in.Detail = fmt.Sprintf("%.0f KB of WAL to replay when resumed", float64(behind)/1024)
		}
	})
	return end, nil
}

// catchUp pauses the projector until the backlog reaches the fault's
// events (or its duration passes), resumes it, and measures the catch-up.
func (f *fault) catchUp(ctx context.Context) (time.Time, error) {
	k, ok := f.fs.sys.(reference.Pausable)
	if !ok {
		return time.Time{}, fmt.Errorf("catch-up: %s has no projector to pause", f.fs.arch)
	}
	paused := time.Now()
	f.record(results.Injection{AtSeconds: f.since(paused)})
	if err := k.PauseProjector(ctx); err != nil {
		return time.Time{}, err
	}
	deadline := time.NewTimer(f.spec.Duration.Std())
	defer deadline.Stop()
	tick := time.NewTicker(backlogCheck)
	defer tick.Stop()
	var backlog int64
	var lastErr error
wait:
	for {
		select {
		case <-deadline.C:
			break wait
		case <-ctx.Done():
			break wait
		case <-f.fs.loadDone:
			break wait // no more events will come
		case <-tick.C:
			n, err := k.Backlog(ctx)
			if err != nil {
				lastErr = err
				continue
			}
			if backlog = n; backlog >= int64(f.spec.Events) {
				break wait
			}
		}
	}
	if n, err := k.Backlog(context.WithoutCancel(ctx)); err == nil {
		backlog = n
	} else if lastErr == nil {
		lastErr = err
	}
	before := appliedBy(f.fs.sys)
	// The resumed projector's first fetched records end its rejoin (group
	// join, assignment, first fetch); the drain rate counts from there.
	fetched := make(chan time.Time, 1)
	f.fs.firstFetch.Store(&fetched)
	defer f.fs.firstFetch.Store(nil)
	resumed := time.Now()
	if err := k.ResumeProjector(); err != nil {
		return time.Time{}, err
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), recoveryTimeout)
	defer cancel()
	err := f.fs.sys.WaitCaughtUp(rctx)
	caught := time.Now()
	applied := appliedBy(f.fs.sys) - before
	cu := &results.CatchUp{Backlog: backlog, PausedSeconds: resumed.Sub(paused).Seconds(), Applied: applied, Seconds: caught.Sub(resumed).Seconds()}
	if cu.Seconds > 0 {
		cu.EventsPerSecond = float64(applied) / cu.Seconds
	}
	select {
	case first := <-fetched:
		cu.RejoinSeconds = first.Sub(resumed).Seconds()
		if d := caught.Sub(first).Seconds(); d > 0 {
			cu.DrainEventsPerSecond = float64(applied) / d
		}
	default: // nothing was fetched (no backlog)
	}
	f.mu.Lock()
	f.res.CatchUp = cu
	f.mu.Unlock()
	f.setLast(func(in *results.Injection) {
		in.DurationSeconds = cu.PausedSeconds
		in.Detail = fmt.Sprintf("backlog %d records", backlog)
	})
	if lastErr != nil {
		f.fail(fmt.Errorf("read the backlog: %w", lastErr))
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("catch up: %w", err)
	}
	return resumed, nil // the recovery is the catch-up just measured
}

// rebuild truncates the read models and replays the topic.
func (f *fault) rebuild(ctx context.Context) error {
	k, ok := f.fs.sys.(reference.Rebuildable)
	if !ok {
		return fmt.Errorf("rebuild: %s cannot rebuild its read models", f.fs.arch)
	}
	at := time.Now()
	f.record(results.Injection{AtSeconds: f.since(at)})
	st, err := k.Rebuild(ctx)
	if err != nil {
		return err
	}
	rb := &results.Rebuild{Events: st.Events, Applied: st.Applied, ReplaySeconds: st.Replay.Seconds(),
		TotalSeconds: st.Total.Seconds(), EventsPerSecond: st.EventsPerSecond()}
	f.mu.Lock()
	f.res.Rebuild = rb
	f.mu.Unlock()
	f.setLast(func(in *results.Injection) {
		in.DurationSeconds = st.Total.Seconds()
		in.RecoverySeconds = st.Total.Seconds()
		in.Detail = fmt.Sprintf("%d events replayed from %s", st.Events, st.Source)
	})
	return nil
}

// appliedBy is the events sys's projector applied so far (0 without a
// pipeline).
func appliedBy(sys reference.System) int64 {
	if p, ok := sys.(reference.Pipeline); ok {
		return p.PipelineStats().Applied
	}
	return 0
}

// describeFault renders a fault's settings in words.
func describeFault(f scenarios.Fault) string {
	var parts []string
	switch f.Kind {
	case scenarios.FaultDuplicates:
		of := "events"
		if f.Method == scenarios.DuplicateLostAck {
			of = "batches acknowledged"
		}
		parts = append(parts, fmt.Sprintf("%s, %s of %s", f.Method, pct(float64(f.Fraction)), of))
	case scenarios.FaultProjectorCrash, scenarios.FaultRelayCrash:
		parts = append(parts, string(f.Point))
	}
	switch {
	case f.AfterLoad:
		parts = append(parts, "after the load")
	case f.Every > 0 && f.Count == 0:
		parts = append(parts, fmt.Sprintf("at %s, every %s", f.At.Std(), f.Every.Std()))
	case f.Every > 0:
		parts = append(parts, fmt.Sprintf("at %s, every %s, %d times", f.At.Std(), f.Every.Std(), f.Count))
	default:
		parts = append(parts, fmt.Sprintf("at %s", f.At.Std()))
	}
	d := f.Duration.Std()
	switch f.Kind {
	case scenarios.FaultBrokerRestart, scenarios.FaultPGRestart, scenarios.FaultReplicaRestart:
		parts = append(parts, fmt.Sprintf("down %s", d))
	case scenarios.FaultReplicaPause:
		parts = append(parts, fmt.Sprintf("replay paused %s", d))
	case scenarios.FaultVisibilityGap:
		parts = append(parts, fmt.Sprintf("held %s", d))
	case scenarios.FaultCatchUp:
		parts = append(parts, fmt.Sprintf("paused until %d events or %s", f.Events, d))
	case scenarios.FaultDuplicates:
		if d > 0 {
			parts = append(parts, fmt.Sprintf("for %s", d))
		} else {
			parts = append(parts, "until the end")
		}
	}
	return strings.Join(parts, ", ")
}

func pct(f float64) string { return strconv.FormatFloat(f*100, 'f', -1, 64) + "%" }
