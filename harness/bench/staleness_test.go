package bench

import (
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/workload"
)

func TestTrackerClassify(t *testing.T) {
	t.Parallel()
	t0 := time.Unix(1000, 0)
	tr := newTracker()
	tr.committed(workload.Write{Owner: 7, Entity: 100, Version: 1, Committed: t0, Created: true})
	tr.committed(workload.Write{Owner: 7, Entity: 100, Version: 2, Committed: t0.Add(10 * time.Millisecond)})
	tr.committed(workload.Write{Owner: 7, Entity: 5, Version: 4, Committed: t0.Add(20 * time.Millisecond)})

	type shown = []workload.Shown
	tests := []struct {
		name    string
		started time.Time
		shown   shown
		newest  int
		floor   time.Time
		stale   bool
		age     time.Duration
	}{
		{"before any write", t0.Add(-time.Millisecond), nil, 50, time.Time{}, false, 0},
		{"sees everything", t0.Add(time.Second), shown{{Entity: 100, Version: 2}, {Entity: 5, Version: 4}}, 50, time.Time{}, false, 0},
		{"misses a created entity", t0.Add(5 * time.Millisecond), nil, 50, time.Time{}, true, 5 * time.Millisecond},
		{"a created entity beyond the screen's newest is not required", t0.Add(5 * time.Millisecond), nil, 0, time.Time{}, false, 0},
		{"old version of a transition", t0.Add(15 * time.Millisecond), shown{{Entity: 100, Version: 1}}, 50, time.Time{}, true, 5 * time.Millisecond},
		{"write after the read started is not required", t0.Add(15 * time.Millisecond), shown{{Entity: 100, Version: 2}, {Entity: 5, Version: 3}}, 50, time.Time{}, false, 0},
		{"old entity not shown is not required", t0.Add(time.Second), shown{{Entity: 100, Version: 2}}, 50, time.Time{}, false, 0},
		{"stale entity from before the run", t0.Add(time.Second), shown{{Entity: 100, Version: 2}, {Entity: 5, Version: 3}}, 50, time.Time{}, true, time.Second - 20*time.Millisecond},
		// A full screen whose oldest order is from later today than the
		// run's commands (the dataset fills the whole day) rightly lacks
		// them; one whose oldest is older must show them.
		{"a full screen of orders created after the entity", t0.Add(5 * time.Millisecond), nil, 50, t0.Add(time.Hour), false, 0},
		{"a full screen of older orders", t0.Add(5 * time.Millisecond), nil, 50, t0.Add(-time.Hour), true, 5 * time.Millisecond},
	}
	for _, tt := range tests {
		stale, age := tr.classify(workload.Read{Owner: 7, Started: tt.started, Shown: tt.shown, Newest: tt.newest, Floor: tt.floor})
		if stale != tt.stale || age != tt.age {
			t.Errorf("%s: classify = %v, %v; want %v, %v", tt.name, stale, age, tt.stale, tt.age)
		}
	}
	if stale, _ := tr.classify(workload.Read{Owner: 8, Started: t0.Add(time.Hour), Newest: 50}); stale {
		t.Error("an owner without writes is never stale")
	}
}
