// Package runner generates load: it runs a weighted mix of operations on a
// schedule (an open model, the default) or back to back (a closed model, for
// capacity search), and measures them without coordinated omission.
//
// # Usage
//
//	cfg := runner.Config{
//		Rate: 500, Duration: time.Minute, Warmup: 10 * time.Second,
//		Concurrency: 32, Seed: 1,
//	}
//	if errs := cfg.Validate(); len(errs) > 0 { ... }
//	r, err := runner.New(cfg, []runner.Op{
//		{Name: "list_orders", Weight: 8, Do: listOrders},
//		{Name: "create_order", Weight: 2, Do: createOrder},
//	},
//		runner.WithClassifier(kindOf),
//		runner.WithProgress(func(p runner.Progress) { render(p) }),
//	)
//	res, err := r.Run(ctx)
//	for _, op := range res.Ops {
//		fmt.Println(op.Name, op.Latency.P99, op.Service.P99, op.Counts.Late, op.Counts.Dropped)
//	}
//
// Config is data: rate and duration or a list of phases (steady, ramp from
// one rate to another, burst, pause), warmup, arrival process, seed,
// concurrency and tolerances, each with a documented default. Behaviour is
// given by options: the clock, the progress function, the error classifier.
//
// # Measuring without coordinated omission
//
// In an open run, operation i has an intended start fixed in advance by the
// schedule: start + i/rate for uniform arrivals (as k6's
// constant-arrival-rate executor and wrk2), or the arrivals of a seeded
// Poisson process. Ramps are placed by inverting the expected count
// ∫rate, so a ramp from r1 to r2 over d schedules (r1+r2)/2·d operations.
// A dispatcher goroutine hands each operation, when due, to an idle worker
// of a fixed pool of Concurrency workers (the in-flight limit). If none is
// idle, the operation waits, FIFO, until a worker frees up, its drop
// deadline (Config.DropAfter, none by default) or the end of the run; then
// it is dropped and counted, as k6's dropped_iterations. The schedule itself
// never moves: later operations keep their intended starts, so a slow
// system is measured as slow rather than silently offered less load.
//
// Each operation records, per name (package hist keys):
//   - name: the latency from its intended start to its end, the latency a
//     user arriving on schedule sees, queueing included;
//   - name/service: the plain service time from its actual start;
//   - name/ERR: the latency of failed runs, kept apart, with the error's
//     kind counted by a caller-given classifier.
//
// An operation starting more than Config.LateAfter (1 ms) after its
// intended start is counted late. Operations whose intended start falls in
// the warmup are recorded apart and excluded from the Result. At the end,
// running operations have Config.GracefulStop to finish, then their context
// is cancelled; an operation cut short by that or by the caller's
// cancellation is counted as interrupted, never as an error.
//
// A closed run (ModeClosed) runs Concurrency workers, each starting its next
// operation as the previous one ends, for the configured duration. Nothing is
// late or dropped there: it measures capacity, and its latencies hide
// queueing by construction.
//
// # Hot path
//
// Each worker owns its histograms (a hist.Recorder per class) and counters,
// so workers share no lock; a ticker every Config.ProgressEvery merges them
// (hist.Registry.Tick) and reports Progress. The hand-off is an unbuffered
// channel between the dispatcher and idle workers. Per operation the runner
// allocates nothing; see the benchmarks in bench_test.go.
//
// # Time
//
// All reads of time and all waits go through a Clock (WithClock): the real
// clock by default, or runnertest.Clock in tests, which makes a run of a
// simulated second take milliseconds with exact, repeatable timings.
package runner
