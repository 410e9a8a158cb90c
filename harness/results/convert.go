package results

import (
	"fmt"
	"maps"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/hist"
	"github.com/cqrsbench/cqrsbench/harness/runner"
)

// StageEndToEnd is the name of the Lag stage that spans the whole pipeline,
// from the command's commit to the read model's commit. Thresholds on "lag"
// are evaluated against it.
const StageEndToEnd = "end_to_end"

// StageVisible names the prober's commit→visible lag among a round's lag
// stages (Round.Lag).
const StageVisible = "visible"

// StatsFrom summarises a histogram snapshot in microseconds and encodes its
// histogram, so the document can be merged and re-summarised later. An
// empty snapshot gives zero Stats without a histogram.
func StatsFrom(s hist.Snapshot) (Stats, error) {
	if s.Count == 0 {
		return Stats{}, nil
	}
	enc, err := s.Encode()
	if err != nil {
		return Stats{}, fmt.Errorf("stats of %d values: %w", s.Count, err)
	}
	return Stats{
		Count:     s.Count,
		Min:       micros(s.Min),
		Mean:      micros(s.Mean),
		P50:       micros(s.P50),
		P90:       micros(s.P90),
		P99:       micros(s.P99),
		P999:      micros(s.P999),
		Max:       micros(s.Max),
		Histogram: enc,
	}, nil
}

// statsOrSummary is StatsFrom that, should the histogram fail to encode,
// keeps the summary without it rather than losing the numbers.
func statsOrSummary(s hist.Snapshot) Stats {
	st, err := StatsFrom(s)
	if err != nil {
		st = Stats{Count: s.Count, Min: micros(s.Min), Mean: micros(s.Mean), P50: micros(s.P50),
			P90: micros(s.P90), P99: micros(s.P99), P999: micros(s.P999), Max: micros(s.Max)}
	}
	return st
}

// micros converts d to microseconds.
func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

// Snapshot decodes the stored histogram. It fails when the Stats have
// values but no histogram (a summary written without one).
func (s Stats) Snapshot() (hist.Snapshot, error) {
	if s.Histogram == "" {
		if s.Count == 0 {
			return hist.Merge(), nil
		}
		return hist.Snapshot{}, fmt.Errorf("stats of %d values carry no histogram", s.Count)
	}
	snap, err := hist.DecodeSnapshot(s.Histogram, 0)
	if err != nil {
		return hist.Snapshot{}, fmt.Errorf("stats of %d values: %w", s.Count, err)
	}
	return snap, nil
}

// Percentile returns percentile p (0 to 100) in microseconds: from the
// summary for p50, p90, p99 and p99.9, otherwise from the stored histogram.
func (s Stats) Percentile(p float64) (float64, error) {
	switch p {
	case 50:
		return s.P50, nil
	case 90:
		return s.P90, nil
	case 99:
		return s.P99, nil
	case 99.9:
		return s.P999, nil
	case 100:
		return s.Max, nil
	}
	if s.Count == 0 {
		return 0, nil
	}
	snap, err := s.Snapshot()
	if err != nil {
		return 0, fmt.Errorf("p%g: %w", p, err)
	}
	return micros(snap.Percentile(p)), nil
}

// OpsFrom converts the runner's per-operation results, in the runner's
// order. Count is the number of completed operations, failed ones included
// (Errors of them); Latency and Service summarise the successful ones, so
// Latency.Count is Count minus Errors. Rate is Count per second of the
// measured duration. Should a histogram fail to encode, its summary is kept
// without it.
func OpsFrom(r *runner.Result) []Op {
	if r == nil {
		return nil
	}
	ops := make([]Op, 0, len(r.Ops))
	for _, o := range r.Ops {
		op := Op{
			Name:    o.Name,
			Count:   o.Counts.Completed,
			Rate:    perSecond(o.Counts.Completed, r.Duration),
			Errors:  o.Counts.Errors,
			Late:    o.Counts.Late,
			Dropped: o.Counts.Dropped,
			Latency: statsOrSummary(o.Latency),
			Service: statsOrSummary(o.Service),
		}
		if len(o.ErrorKinds) > 0 {
			op.ErrorKind = maps.Clone(o.ErrorKinds)
		}
		ops = append(ops, op)
	}
	return ops
}

// LoadFrom summarises the runner's view of a run, warmup excluded.
// WarmupOps counts the warmup's completed operations.
func LoadFrom(r *runner.Result) LoadSummary {
	if r == nil {
		return LoadSummary{}
	}
	return LoadSummary{
		Mode:            string(r.Mode),
		DurationSeconds: r.Duration.Seconds(),
		OfferedRate:     r.OfferedRate,
		AchievedRate:    r.AchievedRate,
		Scheduled:       r.Counts.Scheduled,
		Completed:       r.Counts.Completed,
		Errors:          r.Counts.Errors,
		Late:            r.Counts.Late,
		Queued:          r.Counts.Queued,
		Dropped:         r.Counts.Dropped,
		WarmupOps:       r.Warmup.Completed,
	}
}

// perSecond returns n per second of d; 0 when d is not positive.
func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Arch returns the results of the architecture named name, and false when
// it did not run.
func (r *Run) Arch(name string) (*Architecture, bool) {
	if r == nil {
		return nil, false
	}
	for i := range r.Architectures {
		if r.Architectures[i].Name == name {
			return &r.Architectures[i], true
		}
	}
	return nil, false
}

// Op returns the statistics of the operation named name, and false when
// the architecture did not run it.
func (a *Architecture) Op(name string) (Op, bool) {
	for _, op := range a.Ops {
		if op.Name == name {
			return op, true
		}
	}
	return Op{}, false
}

// Stage returns the stage named name, and false when it was not recorded.
func (l *Lag) Stage(name string) (Stage, bool) {
	if l == nil {
		return Stage{}, false
	}
	for _, s := range l.Stages {
		if s.Name == name {
			return s, true
		}
	}
	return Stage{}, false
}
