package report

import (
	"fmt"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/runner"
)

// ProgressLine formats one live progress report as a compact line:
//
//	12.0s cqrs-kafka   steady    401/s  list_orders p50 0.410ms p99 2.31ms  err 0 late 3 drop 0  lag p99 41.2ms backlog 12
//
// Rates and counts cover p's interval; "done" replaces the phase in the
// final report. The latencies are the interval's p50 and p99 of one
// operation, named before them: the one with the highest p99 (the
// worst), from the intended start, in ms.
// lagP99 is the projection lag p99 of the interval and backlog the events
// written but not yet applied; for an architecture without a pipeline pass
// 0 and a negative backlog, and the line leaves both out.
// maxOpName is the widest operation name a progress line shows; longer
// names are cut.
const maxOpName = 15

func ProgressLine(arch string, p runner.Progress, lagP99 time.Duration, backlog int64) string {
	var worst runner.OpProgress
	for _, op := range p.Ops {
		if op.P99 > worst.P99 {
			worst = op
		}
	}
	name := worst.Name
	if name == "" {
		name = notRun
	}
	if len(name) > maxOpName {
		name = name[:maxOpName-1] + "…"
	}
	lat := func(d time.Duration) string {
		if d <= 0 {
			return notRun
		}
		return dur(d)
	}
	phase := p.Phase
	if p.Final {
		phase = "done"
	}
	line := fmt.Sprintf("%6.1fs %-12s %-7s %5.0f/s  %s p50 %-7s p99 %-7s err %d late %d drop %d",
		p.Elapsed.Seconds(), arch, phase, p.Rate, name, lat(worst.P50), lat(worst.P99),
		p.Counts.Errors, p.Counts.Late, p.Counts.Dropped)
	if lagP99 > 0 || backlog >= 0 {
		back := notRun
		if backlog >= 0 {
			back = count(backlog)
		}
		line += fmt.Sprintf("  lag p99 %s backlog %s", lat(lagP99), back)
	}
	return line
}
