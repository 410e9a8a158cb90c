package report_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/report"
	"github.com/cqrsbench/cqrsbench/harness/runner"
)

// progress returns a progress report with two operations.
func progress(elapsed time.Duration, phase string, rate float64) runner.Progress {
	return runner.Progress{
		Elapsed: elapsed, Interval: 2 * time.Second, Phase: phase, TargetRate: 400, Rate: rate,
		Counts: runner.Counts{Completed: 802, Errors: 1, Late: 3, Dropped: 0},
		Ops: []runner.OpProgress{
			{Name: "list_orders", P50: 410 * time.Microsecond, P99: 2310 * time.Microsecond},
			{Name: "create_order", P50: 2100 * time.Microsecond, P99: 1900 * time.Microsecond},
		},
	}
}

func ExampleProgressLine() {
	fmt.Println(report.ProgressLine("crud", progress(4*time.Second, "warmup", 398.6), 0, -1))
	fmt.Println(report.ProgressLine("cqrs-kafka", progress(12*time.Second, "steady", 401), 41200*time.Microsecond, 12))
	// Output:
	//   4.0s crud         warmup    399/s  list_orders p50 0.410ms p99 2.31ms  err 1 late 3 drop 0
	//   12.0s cqrs-kafka   steady    401/s  list_orders p50 0.410ms p99 2.31ms  err 1 late 3 drop 0  lag p99 41.2ms backlog 12
}

func TestProgressLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		arch    string
		p       runner.Progress
		lag     time.Duration
		backlog int64
		want    string
	}{
		{"kafka without lag yet", "cqrs-kafka", runner.Progress{Elapsed: time.Second, Phase: "warmup", Rate: 2}, 0, 250,
			"   1.0s cqrs-kafka   warmup      2/s  - p50 -       p99 -       err 0 late 0 drop 0  lag p99 - backlog 250"},
		{"idle interval", "cqrs-sync", runner.Progress{Elapsed: time.Second, Phase: "steady"}, 0, -1,
			"   1.0s cqrs-sync    steady      0/s  - p50 -       p99 -       err 0 late 0 drop 0"},
		{"final", "cqrs-matview", func() runner.Progress {
			p := progress(95*time.Second, "stopping", 12)
			p.Final = true
			return p
		}(), 1010 * time.Millisecond, 0,
			"  95.0s cqrs-matview done       12/s  list_orders p50 0.410ms p99 2.31ms  err 1 late 3 drop 0  lag p99 1010ms backlog 0"},
		{"overloaded", "crud", func() runner.Progress {
			p := progress(30*time.Second, "burst", 1180)
			p.Counts.Late, p.Counts.Dropped = 5400, 120
			p.Ops[1].P99 = 2500 * time.Millisecond
			return p
		}(), 0, -1,
			"  30.0s crud         burst    1180/s  create_order p50 2.10ms  p99 2500ms  err 1 late 5400 drop 120"},
		{"long operation name", "cqrs-rabbitmq", func() runner.Progress {
			p := progress(30*time.Second, "steady", 400)
			p.Ops[0].Name = "my_open_tickets_with_tags"
			return p
		}(), 41200 * time.Microsecond, 12,
			"  30.0s cqrs-rabbitmq steady    400/s  my_open_ticket… p50 0.410ms p99 2.31ms  err 1 late 3 drop 0  lag p99 41.2ms backlog 12"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := report.ProgressLine(tt.arch, tt.p, tt.lag, tt.backlog)
			if got != tt.want {
				t.Errorf("ProgressLine =\n%q\nwant\n%q", got, tt.want)
			}
			if len([]rune(got)) > 128 { // a wide terminal, with a 13-letter architecture and a cut operation name
				t.Errorf("line is %d columns wide", len(got))
			}
		})
	}
}
