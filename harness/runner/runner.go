package runner

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/hist"
)

// Op is one kind of operation in the mix.
type Op struct {
	// Name names the operation in results, e.g. "list_orders". It must be
	// unique and must not end in hist.ServiceSuffix or hist.ErrSuffix.
	Name string
	// Weight is the operation's share of the mix relative to the others'.
	Weight float64
	// Do runs the operation once. It must honour ctx: the context is
	// cancelled when the caller cancels the run or the graceful stop ends,
	// and an error returned then is not counted as an error.
	Do func(ctx context.Context) error
}

// warmupKey marks the context of an operation run during the warmup.
type warmupKey struct{}

// InWarmup reports whether ctx is that of an operation the runner runs
// during the warmup, whose figures it discards: an Op that keeps its own
// statistics (reads classified stale, writes sampled for visibility) uses
// it to discard the same ones.
func InWarmup(ctx context.Context) bool {
	warm, _ := ctx.Value(warmupKey{}).(bool)
	return warm
}

// Opt configures a Runner beyond its Config: what is behaviour rather than
// data.
type Opt interface{ apply(*options) }

type options struct {
	clock    Clock
	progress func(Progress)
	classify func(error) string
}

type optFunc func(*options)

func (f optFunc) apply(o *options) { f(o) }

// WithClock sets the clock of the run. Default RealClock(). Tests inject a
// fake one (package runnertest).
func WithClock(c Clock) Opt { return optFunc(func(o *options) { o.clock = c }) }

// WithProgress sets a function called with a Progress every
// Config.ProgressEvery and at the end. It runs on the runner's ticker
// goroutine and must return quickly. Default none.
func WithProgress(fn func(Progress)) Opt { return optFunc(func(o *options) { o.progress = fn }) }

// WithClassifier sets the function naming the kind of an operation's error,
// counted in OpResult.ErrorKinds. It is called concurrently from the
// workers. Default: every error is of kind "error".
func WithClassifier(fn func(error) string) Opt {
	return optFunc(func(o *options) { o.classify = fn })
}

// Runner runs a mix of operations under a load described by a Config. Build
// it with New; Run may be called any number of times, one at a time.
type Runner struct {
	cfg Config
	ops []Op
	opt options
}

// New validates cfg and ops and returns a Runner. The error wraps
// ErrInvalidConfig and lists every problem found.
func New(cfg Config, ops []Op, opts ...Opt) (*Runner, error) {
	errs := cfg.Validate()
	errs = append(errs, validateOps(ops)...)
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrInvalidConfig, errors.Join(errs...))
	}
	r := &Runner{
		cfg: cfg.withDefaults(),
		ops: append([]Op(nil), ops...),
		opt: options{clock: RealClock(), classify: func(error) string { return "error" }},
	}
	for _, o := range opts {
		o.apply(&r.opt)
	}
	if r.opt.clock == nil {
		r.opt.clock = RealClock()
	}
	return r, nil
}

func validateOps(ops []Op) []error {
	if len(ops) == 0 {
		return []error{errors.New("no operations: give at least one")}
	}
	var errs []error
	seen := make(map[string]bool, len(ops))
	for i, op := range ops {
		where := fmt.Sprintf("operation %d (%q)", i+1, op.Name)
		switch {
		case op.Name == "":
			errs = append(errs, fmt.Errorf("operation %d: name is empty", i+1))
		case seen[op.Name]:
			errs = append(errs, fmt.Errorf("%s: name used twice", where))
		case strings.HasSuffix(op.Name, hist.ServiceSuffix) || strings.HasSuffix(op.Name, hist.ErrSuffix):
			errs = append(errs, fmt.Errorf("%s: name must not end in %q or %q", where, hist.ServiceSuffix, hist.ErrSuffix))
		}
		seen[op.Name] = true
		if !(op.Weight > 0) || math.IsInf(op.Weight, 0) {
			errs = append(errs, fmt.Errorf("%s: weight must be a positive number, got %v", where, op.Weight))
		}
		if op.Do == nil {
			errs = append(errs, fmt.Errorf("%s: Do is nil", where))
		}
	}
	return errs
}

// Config returns the Runner's config with defaults applied.
func (r *Runner) Config() Config { return r.cfg }

// Run runs the load until the configured duration has passed and the
// operations still running have finished (or the graceful stop has ended),
// and returns the result. If ctx is cancelled first, the running operations
// are cancelled, and Run returns the partial result with an error wrapping
// ctx's.
func (r *Runner) Run(ctx context.Context) (*Result, error) {
	rn := newRun(r)
	rn.start = rn.clk.Now()
	rn.warmEnd = rn.start.Add(r.cfg.Warmup)
	rn.end = rn.warmEnd.Add(r.cfg.measured())
	rn.lastTick = rn.start

	opCtx, cancelOps := context.WithCancel(ctx)
	defer cancelOps()

	var wg sync.WaitGroup
	for _, w := range rn.workers {
		wg.Go(func() {
			// Each worker runs its operations under its own child of
			// opCtx: the cancellation hooks a driver registers per
			// operation (pgconn's context.AfterFunc) then lock this
			// worker's context rather than one shared by every worker.
			ctx, cancel := context.WithCancel(opCtx)
			defer cancel()
			// Per class: warmup operations see InWarmup(ctx).
			ctxs := [2]context.Context{measured: ctx, warmup: context.WithValue(ctx, warmupKey{}, true)}
			if r.cfg.Mode == ModeClosed {
				w.loop(ctxs, rn)
				return
			}
			for j := range rn.jobs {
				w.execute(ctxs, rn, j, rn.clk.Now())
			}
		})
	}
	stopTicker := make(chan struct{})
	tickerDone := make(chan struct{})
	go rn.tick(stopTicker, tickerDone)

	timer := rn.clk.NewTimer()
	defer timer.Stop()
	if r.cfg.Mode == ModeClosed {
		rn.sleepUntil(ctx, timer, rn.end)
	} else {
		rn.dispatch(ctx, timer)
		close(rn.jobs)
	}
	stopped := rn.clk.Now()

	workersDone := make(chan struct{})
	go func() { wg.Wait(); close(workersDone) }()
	timer.Reset(stopped.Add(r.cfg.GracefulStop))
	select {
	case <-workersDone:
	case <-timer.C():
		cancelOps()
		<-workersDone
	case <-ctx.Done():
		<-workersDone
	}
	close(stopTicker)
	<-tickerDone
	now := rn.clk.Now()
	rn.report(now, true)

	if stopped.After(rn.end) {
		stopped = rn.end
	}
	res := rn.result(stopped, now)
	if err := ctx.Err(); err != nil {
		return res, fmt.Errorf("run stopped after %v of %v: %w", now.Sub(rn.start), rn.end.Sub(rn.start), context.Cause(ctx))
	}
	return res, nil
}

// Phase classes: counters and histograms are kept apart for the measured
// part and the warmup.
const (
	measured = 0
	warmup   = 1
)

// run is the state of one Run.
type run struct {
	cfg  Config
	ops  []Op
	opt  options
	clk  Clock
	keys [][3]string // per op: latency, service and error keys

	start, warmEnd, end time.Time
	sched               *schedule     // open runs
	jobs                chan job      // open runs: dispatcher to workers
	dispatched          [2][]counters // the dispatcher's: scheduled and dropped
	workers             []*worker
	regs                [2]*hist.Registry

	// Used by the ticker, then by Run once the ticker has stopped.
	lastTick time.Time
	lastOps  []Counts
}

// job is an operation handed to a worker.
type job struct {
	intended time.Time
	op       int
	class    int
	// queued: every worker was busy when the job was due, so it waited.
	queued bool
}

func newRun(r *Runner) *run {
	rn := &run{cfg: r.cfg, ops: r.ops, opt: r.opt, clk: r.opt.clock, lastOps: make([]Counts, len(r.ops))}
	for _, op := range r.ops {
		rn.keys = append(rn.keys, [3]string{op.Name, hist.ServiceKey(op.Name), hist.ErrKey(op.Name)})
	}
	for c := range rn.regs {
		rn.regs[c] = hist.NewRegistry()
		rn.dispatched[c] = make([]counters, len(r.ops))
	}
	if r.cfg.Mode == ModeOpen {
		rn.sched = newSchedule(r.cfg)
		rn.jobs = make(chan job)
	}
	for i := range r.cfg.Concurrency {
		w := &worker{}
		for c := range w.recs {
			w.recs[c] = rn.regs[c].NewRecorder()
			w.handles[c] = make([][3]*hist.Handle, len(r.ops))
			w.cnt[c] = make([]counters, len(r.ops))
			w.kinds[c] = make(map[kindKey]int64)
		}
		if r.cfg.Mode == ModeClosed {
			w.mix = newChooser(r.ops, r.cfg.Seed, streamWorkers+uint64(i))
		}
		rn.workers = append(rn.workers, w)
	}
	return rn
}

// sleepUntil waits until at or until ctx is done, and reports whether at
// was reached.
func (rn *run) sleepUntil(ctx context.Context, timer Timer, at time.Time) bool {
	if !rn.clk.Now().Before(at) {
		return true
	}
	timer.Reset(at)
	select {
	case <-timer.C():
		return true
	case <-ctx.Done():
		timer.Stop()
		return false
	}
}

// dispatch hands each operation of the schedule to an idle worker when it
// is due. If none is idle, the operation waits for one, first in first out,
// until its drop deadline or the end of the run, whichever is first, then is
// dropped. Either way its intended start stays where the schedule put it, so
// a slow operation moves no intended start, and a late one is measured from
// its schedule.
func (rn *run) dispatch(ctx context.Context, timer Timer) {
	mix := newChooser(rn.ops, rn.cfg.Seed, streamMix)
	for ctx.Err() == nil {
		off, warm, ok := rn.sched.next()
		if !ok {
			break
		}
		at := rn.start.Add(off)
		if !rn.sleepUntil(ctx, timer, at) {
			return
		}
		j := job{intended: at, op: mix.pick()}
		if warm {
			j.class = warmup
		}
		c := &rn.dispatched[j.class][j.op]
		c.scheduled.Add(1)
		deadline := rn.end
		if da := rn.cfg.DropAfter; da > 0 && at.Add(da).Before(deadline) {
			deadline = at.Add(da)
		}
		// An idle worker takes the operation unless its deadline has passed
		// while the dispatcher was behind; the dispatcher's own delay within
		// the lateness tolerance is not held against it, so a deadline
		// shorter than the tolerance drops exactly what finds no idle worker.
		now := rn.clk.Now()
		if now.Before(rn.end) && (now.Before(deadline) || now.Sub(at) <= rn.cfg.LateAfter) {
			select {
			case rn.jobs <- j:
				continue
			default:
				j.queued = true // every worker busy: it waits for one
			}
		}
		if !now.Before(deadline) {
			c.dropped.Add(1)
			continue
		}
		timer.Reset(deadline)
		select {
		case rn.jobs <- j:
			timer.Stop()
		case <-timer.C():
			c.dropped.Add(1)
		case <-ctx.Done():
			timer.Stop()
			c.dropped.Add(1)
			return
		}
	}
	rn.sleepUntil(ctx, timer, rn.end)
}

// worker runs operations and records them in its own histograms and
// counters, shared with no other worker.
type worker struct {
	recs    [2]*hist.Recorder
	handles [2][][3]*hist.Handle // per class, per op: latency, service, error; set on first use
	cnt     [2][]counters
	mix     *chooser // closed runs

	mu    sync.Mutex
	kinds [2]map[kindKey]int64 // guarded by mu
}

type kindKey struct {
	op   int
	kind string
}

// loop runs operations back to back until the end of a closed run.
func (w *worker) loop(ctxs [2]context.Context, rn *run) {
	for ctxs[measured].Err() == nil {
		st := rn.clk.Now()
		if !st.Before(rn.end) {
			return
		}
		j := job{intended: st, op: w.mix.pick()}
		if st.Before(rn.warmEnd) {
			j.class = warmup
		}
		w.cnt[j.class][j.op].scheduled.Add(1)
		w.execute(ctxs, rn, j, st)
	}
}

// execute runs j, which started at st, and records it. ctxs holds the
// worker's context per class.
func (w *worker) execute(ctxs [2]context.Context, rn *run, j job, st time.Time) {
	ctx := ctxs[j.class]
	c := &w.cnt[j.class][j.op]
	c.issued.Add(1)
	if rn.cfg.Mode == ModeOpen && st.Sub(j.intended) > rn.cfg.LateAfter {
		c.late.Add(1)
		if j.queued {
			c.queued.Add(1)
		}
	}
	err := rn.ops[j.op].Do(ctx)
	end := rn.clk.Now()
	if err != nil && ctx.Err() != nil {
		c.interrupted.Add(1)
		return
	}
	c.completed.Add(1)
	hs := &w.handles[j.class][j.op]
	if err != nil {
		c.errors.Add(1)
		w.handle(rn, hs, j, 2).Record(end.Sub(j.intended))
		kind := rn.opt.classify(err)
		w.mu.Lock()
		w.kinds[j.class][kindKey{j.op, kind}]++
		w.mu.Unlock()
		return
	}
	w.handle(rn, hs, j, 0).Record(end.Sub(j.intended))
	w.handle(rn, hs, j, 1).Record(end.Sub(st))
}

// handle returns the histogram handle k (latency, service, error) of j's
// operation, registering it on first use.
func (w *worker) handle(rn *run, hs *[3]*hist.Handle, j job, k int) *hist.Handle {
	if hs[k] == nil {
		hs[k] = w.recs[j.class].Handle(rn.keys[j.op][k])
	}
	return hs[k]
}

// tick reports progress every ProgressEvery until stop is closed.
func (rn *run) tick(stop <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	timer := rn.clk.NewTimer()
	defer timer.Stop()
	next := rn.start
	for {
		// A slow progress function skips reports rather than bunching them.
		now := rn.clk.Now()
		next = next.Add(rn.cfg.ProgressEvery)
		for next.Before(now) {
			next = next.Add(rn.cfg.ProgressEvery)
		}
		timer.Reset(next)
		select {
		case <-timer.C():
			rn.report(rn.clk.Now(), false)
		case <-stop:
			return
		}
	}
}

// counts returns the current counts of op in class c.
func (rn *run) counts(c, op int) Counts {
	sum := rn.dispatched[c][op].load()
	for _, w := range rn.workers {
		sum = sum.Add(w.cnt[c][op].load())
	}
	return sum
}

// report ticks the histograms and, if a progress function is set, reports
// the interval since the previous report.
func (rn *run) report(now time.Time, final bool) {
	iv := [2]map[string]hist.Snapshot{rn.regs[measured].Tick(), rn.regs[warmup].Tick()}
	if rn.opt.progress == nil {
		return
	}
	elapsed := now.Sub(rn.start)
	p := Progress{
		Elapsed:  elapsed,
		Interval: now.Sub(rn.lastTick),
		Final:    final,
		Ops:      make([]OpProgress, len(rn.ops)),
	}
	rn.lastTick = now
	switch {
	case !now.Before(rn.end):
		p.Phase = "stopping"
	case now.Before(rn.warmEnd):
		p.Phase, p.Warmup = "warmup", true
	case rn.cfg.Mode == ModeClosed:
		p.Phase = string(ModeClosed)
	default:
		p.Phase = "stopping"
		if g := rn.sched.at(elapsed); g != nil {
			p.Phase = g.name
		}
	}
	if rn.sched != nil {
		p.TargetRate = rn.sched.rateAt(elapsed)
	}
	for i, op := range rn.ops {
		total := rn.counts(measured, i).Add(rn.counts(warmup, i))
		lat := hist.Merge(iv[measured][op.Name], iv[warmup][op.Name])
		o := OpProgress{Name: op.Name, Counts: total.Sub(rn.lastOps[i]), P50: lat.P50, P99: lat.P99}
		o.Rate = rate(o.Counts.Completed, p.Interval)
		rn.lastOps[i] = total
		p.Ops[i] = o
		p.Counts = p.Counts.Add(o.Counts)
		p.Total = p.Total.Add(total)
	}
	p.Rate = rate(p.Counts.Completed, p.Interval)
	rn.opt.progress(p)
}

func rate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// result builds the Result once every worker has stopped and the histograms
// have been ticked a last time. stopped is when the schedule stopped.
func (rn *run) result(stopped, now time.Time) *Result {
	res := &Result{
		Mode:     rn.cfg.Mode,
		Start:    rn.warmEnd,
		Duration: max(0, stopped.Sub(rn.warmEnd)),
		Elapsed:  now.Sub(rn.start),
	}
	totals := rn.regs[measured].Cumulative()
	kinds := make([]map[string]int64, len(rn.ops))
	for _, w := range rn.workers {
		w.mu.Lock()
		for k, n := range w.kinds[measured] {
			if kinds[k.op] == nil {
				kinds[k.op] = make(map[string]int64)
			}
			kinds[k.op][k.kind] += n
		}
		w.mu.Unlock()
	}
	for i, op := range rn.ops {
		o := OpResult{
			Name:       op.Name,
			Counts:     rn.counts(measured, i),
			Latency:    orEmpty(totals[rn.keys[i][0]]),
			Service:    orEmpty(totals[rn.keys[i][1]]),
			ErrLatency: orEmpty(totals[rn.keys[i][2]]),
			ErrorKinds: kinds[i],
		}
		if o.ErrorKinds == nil {
			o.ErrorKinds = map[string]int64{}
		}
		res.Ops = append(res.Ops, o)
		res.Counts = res.Counts.Add(o.Counts)
		res.Warmup = res.Warmup.Add(rn.counts(warmup, i))
	}
	res.OfferedRate = rate(res.Counts.Scheduled, res.Duration)
	res.AchievedRate = rate(res.Counts.Completed, res.Duration)
	return res
}

// orEmpty returns s, or an empty snapshot with a histogram if s is the zero
// value (a key never recorded).
func orEmpty(s hist.Snapshot) hist.Snapshot {
	if s.Hist == nil {
		return hist.Merge()
	}
	return s
}
