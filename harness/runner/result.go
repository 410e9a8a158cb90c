package runner

import (
	"sync/atomic"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/hist"
)

// Counts are the operation counters of a run or of one operation.
//
// In an open run, Scheduled = Issued + Dropped and Issued = Completed +
// Interrupted; Late and Errors are subsets of Issued and Completed, Queued
// of Late. In a closed run Scheduled = Issued, and nothing is late,
// queued or dropped.
type Counts struct {
	// Scheduled counts operations whose intended start came.
	Scheduled int64
	// Issued counts operations started.
	Issued int64
	// Completed counts operations that returned, successfully or not.
	Completed int64
	// Errors counts completed operations that returned an error.
	Errors int64
	// Late counts operations started more than the lateness tolerance after
	// their intended start, for whatever reason: the system kept every
	// worker busy, or the load generator itself was slow to start them (a
	// late timer, a busy CPU).
	Late int64
	// Queued counts the late operations that had found every worker busy
	// when due and waited for one: the system did not keep up with the
	// schedule. Late operations that were not queued were made late by
	// the load generator's own scheduling (a late timer, a busy CPU).
	Queued int64
	// Dropped counts operations never started: no worker was free before
	// their drop deadline or the end of the run.
	Dropped int64
	// Interrupted counts operations cancelled by the end of the run (after
	// the graceful stop) or by the caller. They are not errors.
	Interrupted int64
}

// Add returns the sum of c and o.
func (c Counts) Add(o Counts) Counts {
	return Counts{
		Scheduled:   c.Scheduled + o.Scheduled,
		Issued:      c.Issued + o.Issued,
		Completed:   c.Completed + o.Completed,
		Errors:      c.Errors + o.Errors,
		Late:        c.Late + o.Late,
		Queued:      c.Queued + o.Queued,
		Dropped:     c.Dropped + o.Dropped,
		Interrupted: c.Interrupted + o.Interrupted,
	}
}

// Sub returns c minus o.
func (c Counts) Sub(o Counts) Counts {
	return Counts{
		Scheduled:   c.Scheduled - o.Scheduled,
		Issued:      c.Issued - o.Issued,
		Completed:   c.Completed - o.Completed,
		Errors:      c.Errors - o.Errors,
		Late:        c.Late - o.Late,
		Queued:      c.Queued - o.Queued,
		Dropped:     c.Dropped - o.Dropped,
		Interrupted: c.Interrupted - o.Interrupted,
	}
}

// counters are live Counts, written by one goroutine and read by the
// ticker.
type counters struct {
	scheduled, issued, completed, errors, late, queued, dropped, interrupted atomic.Int64
}

func (c *counters) load() Counts {
	return Counts{
		Scheduled:   c.scheduled.Load(),
		Issued:      c.issued.Load(),
		Completed:   c.completed.Load(),
		Errors:      c.errors.Load(),
		Late:        c.late.Load(),
		Queued:      c.queued.Load(),
		Dropped:     c.dropped.Load(),
		Interrupted: c.interrupted.Load(),
	}
}

// Result is the outcome of a run, warmup excluded.
type Result struct {
	// Mode is the mode of the run.
	Mode Mode
	// Start is when the measured part began, after the warmup.
	Start time.Time
	// Duration is the length of the measured part: the configured one, or
	// less if the run was cancelled.
	Duration time.Duration
	// Elapsed is the whole run: warmup, measured part and graceful stop.
	Elapsed time.Duration
	// Counts sums the operations' counts.
	Counts Counts
	// OfferedRate is Scheduled per second of Duration.
	OfferedRate float64
	// AchievedRate is Completed per second of Duration.
	AchievedRate float64
	// Ops are the per-operation results, in the order given to New.
	Ops []OpResult
	// Warmup counts the warmup's operations, excluded from the rest.
	Warmup Counts
}

// OpResult is the outcome of one operation.
type OpResult struct {
	// Name is the operation's name.
	Name string
	// Counts are its counters.
	Counts Counts
	// Latency is the time from intended start to end of successful runs:
	// what a user arriving on schedule would see, queueing included.
	Latency hist.Snapshot
	// Service is the time from actual start to end of successful runs.
	Service hist.Snapshot
	// ErrLatency is the time from intended start to end of failed runs.
	ErrLatency hist.Snapshot
	// ErrorKinds counts the errors by the kind the classifier gave them.
	ErrorKinds map[string]int64
}

// Snapshots returns the histograms of every operation keyed as package
// hist names them: prefix+name for Latency, hist.ServiceKey of it for
// Service and hist.ErrKey for ErrLatency. A prefix such as "crud/"
// distinguishes architectures.
func (r *Result) Snapshots(prefix string) map[string]hist.Snapshot {
	out := make(map[string]hist.Snapshot, 3*len(r.Ops))
	for _, op := range r.Ops {
		key := prefix + op.Name
		out[key] = op.Latency
		out[hist.ServiceKey(key)] = op.Service
		out[hist.ErrKey(key)] = op.ErrLatency
	}
	return out
}

// Op returns the result of the operation named name.
func (r *Result) Op(name string) (OpResult, bool) {
	for _, op := range r.Ops {
		if op.Name == name {
			return op, true
		}
	}
	return OpResult{}, false
}

// Progress is a report on a running run, made every Config.ProgressEvery
// and once more at the end (Final). Counts and rates cover the interval
// since the previous report, warmup included.
type Progress struct {
	// Elapsed is the time since the run started, warmup included.
	Elapsed time.Duration
	// Interval is the time covered by this report.
	Interval time.Duration
	// Phase is the name of the running phase: "warmup", a phase's name,
	// "closed" for a closed run, or "stopping" once the schedule has ended.
	Phase string
	// Warmup reports whether the warmup is running.
	Warmup bool
	// TargetRate is the intended rate at this moment; 0 in a closed run.
	TargetRate float64
	// Counts sums the interval's counts over the operations.
	Counts Counts
	// Rate is the interval's completed operations per second.
	Rate float64
	// Ops are the per-operation figures, in the order given to New.
	Ops []OpProgress
	// Total counts every operation since the start, warmup included.
	Total Counts
	// Final marks the report made when the run has ended.
	Final bool
}

// OpProgress is one operation's figures in a Progress.
type OpProgress struct {
	// Name is the operation's name.
	Name string
	// Counts are the interval's counts.
	Counts Counts
	// Rate is the interval's completed operations per second.
	Rate float64
	// P50 and P99 are the interval's latencies from intended start of
	// successful runs.
	P50, P99 time.Duration
}
