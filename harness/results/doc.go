// Package results is the record of a benchmark run: the versioned JSON
// document cqrsbench writes under results/, which compare, report and CI
// gates read back. Every number printed in a table comes from here.
//
// A Run is built by the harness from the runner's results (OpsFrom,
// LoadFrom) and histogram snapshots (StatsFrom), evaluated against the
// scenario's thresholds (Evaluate, Failed), and saved with Write, which
// never overwrites a file: every run gets a new
// <scenario>-<UTC start time>.json, written to a temporary file first and
// linked into place only once it is complete, so a reader or a concurrent
// writer never sees half a document. Read loads one back and refuses a
// schema_version it does not know.
//
//	run.Thresholds = results.Evaluate(run, sc.Thresholds)
//	path, err := results.Write("results", run)
//	...
//	back, err := results.Read(path)
//	if results.Failed(back.Thresholds) { os.Exit(1) }
//
// Latencies are stored in microseconds (Stats), with the HdrHistogram they
// were computed from, so any percentile can be recomputed later
// (Stats.Snapshot, Stats.Percentile).
package results
