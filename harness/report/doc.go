// Package report turns a results.Run into what people and tools read: the
// side-by-side text tables printed at the end of `cqrsbench run`, the JSON
// document for --json, go-bench lines for benchstat, the verdict lines, and
// the live progress line printed while a run is going.
//
// Output formats implement Format, after CockroachDB's
// pkg/workload/cli/format.go: a Format writes one finished run to an
// io.Writer and holds no state, so the command line picks one by flag.
//
//	var f report.Format = report.Text{}
//	if jsonFlag {
//		f = report.JSON{}
//	}
//	if err := f.Write(os.Stdout, run); err != nil { ... }
//
// Text answers, at a glance on a 100-column terminal, what CQRS buys on
// reads and costs on writes and how stale it is: p99 and p50 latency
// tables with operations as rows and architectures as columns, each CQRS
// figure followed by its ratio to crud; then load, lag, staleness, the
// verdicts (Verdicts) and the thresholds. All latencies are milliseconds
// from each operation's intended start, so queueing behind an overloaded
// system is included rather than hidden.
//
// Everything here is a pure function of the Run (no clocks, no
// environment), so the outputs have golden tests in testdata/; run
// `go test ./harness/report -update` after an intended change and review
// the diff.
package report
