package progress_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/progress"
)

func TestLine(t *testing.T) {
	t.Parallel()
	tests := []struct {
		done, total int64
		elapsed     time.Duration
		want        string
	}{
		{0, 100, 0, "orders         [........................]   0.0% 0/100   0.0s"},
		{500_000, 1_000_000, 2 * time.Second, "orders         [############............]  50.0% 500k/1.0M 250k/s   2.0s"},
		{1_000_000, 1_000_000, 4 * time.Second, "orders         [########################] 100.0% 1.0M/1.0M 250k/s   4.0s"},
		{42, 0, time.Second, "orders         42 42/s   1.0s"},
	}
	for _, tt := range tests {
		if got := progress.Line("orders", tt.done, tt.total, tt.elapsed); got != tt.want {
			t.Errorf("Line(%d, %d, %v) =\n%q, want\n%q", tt.done, tt.total, tt.elapsed, got, tt.want)
		}
	}
}

func TestBarRateLimitsAndIsQuietWhenDisabled(t *testing.T) {
	t.Parallel()
	now := time.Unix(0, 0)
	var buf bytes.Buffer
	b := progress.New(&buf, true, progress.WithClock(func() time.Time { return now }), progress.WithInterval(time.Second))
	b.Update("load", 1, 10)
	now = now.Add(100 * time.Millisecond)
	b.Update("load", 2, 10) // suppressed: within the interval
	now = now.Add(time.Second)
	b.Update("load", 3, 10)
	b.Update("load", 10, 10) // completion always draws
	b.Finish()
	if got := strings.Count(buf.String(), "\r"); got != 3 {
		t.Errorf("redraws = %d, want 3; output %q", got, buf.String())
	}
	if !strings.HasSuffix(buf.String(), "\n") {
		t.Errorf("Finish did not end the line: %q", buf.String())
	}

	var quiet bytes.Buffer
	q := progress.New(&quiet, false)
	q.Update("load", 1, 10)
	q.Finish()
	if quiet.Len() != 0 {
		t.Errorf("disabled bar wrote %q", quiet.String())
	}
}
