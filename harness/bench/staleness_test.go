package bench

import (
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/reference"
)

func TestTrackerClassify(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	tr := newTracker()
	tr.committed(7, write{order: 100, version: 1, committed: t0, create: true})
	tr.committed(7, write{order: 100, version: 2, committed: t0.Add(10 * time.Millisecond)})
	tr.committed(7, write{order: 5, version: 4, committed: t0.Add(20 * time.Millisecond)})

	row := func(id int64, v int32) reference.OrderSummary { return reference.OrderSummary{OrderID: id, Version: v} }
	tests := []struct {
		name    string
		started time.Time
		rows    []reference.OrderSummary
		stale   bool
		age     time.Duration
	}{
		{"before any write", t0.Add(-time.Millisecond), nil, false, 0},
		{"sees everything", t0.Add(time.Second), []reference.OrderSummary{row(100, 2), row(5, 4)}, false, 0},
		{"misses a created order", t0.Add(5 * time.Millisecond), nil, true, 5 * time.Millisecond},
		{"old version of a transition", t0.Add(15 * time.Millisecond), []reference.OrderSummary{row(100, 1)}, true, 5 * time.Millisecond},
		{"write after the read started is not required", t0.Add(15 * time.Millisecond), []reference.OrderSummary{row(100, 2), row(5, 3)}, false, 0},
		{"old order not in the list is not required", t0.Add(time.Second), []reference.OrderSummary{row(100, 2)}, false, 0},
		{"stale order from before the run", t0.Add(time.Second), []reference.OrderSummary{row(100, 2), row(5, 3)}, true, time.Second - 20*time.Millisecond},
	}
	for _, tt := range tests {
		stale, age := tr.classify(7, tt.started, tt.rows)
		if stale != tt.stale || age != tt.age {
			t.Errorf("%s: classify = %v, %v; want %v, %v", tt.name, stale, age, tt.stale, tt.age)
		}
	}
	if stale, _ := tr.classify(8, t0.Add(time.Hour), nil); stale {
		t.Error("a customer without writes is never stale")
	}
}
