package bench

import (
	"fmt"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/runner"
)

// progressLine formats one live progress line.
func progressLine(arch string, p runner.Progress) string {
	var p50, p99 time.Duration
	for _, op := range p.Ops {
		p50 = max(p50, op.P50)
		p99 = max(p99, op.P99)
	}
	return fmt.Sprintf("%6.1fs %-12s %-8s %7.0f ops/s  worst-op p50 %-8v p99 %-8v errors %d late %d dropped %d",
		p.Elapsed.Seconds(), arch, p.Phase, p.Rate, p50.Round(time.Microsecond), p99.Round(time.Microsecond),
		p.Counts.Errors, p.Counts.Late, p.Counts.Dropped)
}
