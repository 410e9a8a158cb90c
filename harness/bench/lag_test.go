package bench

import (
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
)

func TestLagObserverStages(t *testing.T) {
	t.Parallel()
	o := newLagObserver()
	t0 := time.Unix(100, 0)
	a, b := event.Ref{OrderID: 1, Version: 1}, event.Ref{OrderID: 2, Version: 3}
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	o.Observe(event.StageCommitted, ms(0), []event.Ref{a})
	o.Observe(event.StageCommitted, ms(-5), []event.Ref{b}) // before the measured part
	o.Observe(event.StageClaimed, ms(2), []event.Ref{a, b})
	o.Observe(event.StageConfirmed, ms(5), []event.Ref{a, b})
	o.Observe(event.StageDelivered, ms(9), []event.Ref{a, b})
	o.Observe(event.StageApplied, ms(14), []event.Ref{a, b})
	o.Observe(event.StageApplied, ms(50), []event.Ref{a})                       // redelivery: already visible
	o.Observe(event.StageClaimed, ms(3), []event.Ref{{OrderID: 9, Version: 1}}) // never committed in this run

	stages, err := o.stages(t0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"committed→claimed": 2000, "claimed→confirmed": 3000, "confirmed→delivered": 4000, "delivered→applied": 5000, results.StageEndToEnd: 14000}
	if len(stages) != len(want) {
		t.Fatalf("stages %+v", stages)
	}
	for _, s := range stages {
		if s.Stats.Count != 1 || s.Stats.Max < want[s.Name] || s.Stats.Max > want[s.Name]*1.01 {
			t.Errorf("%s: count %d max %.0fµs, want 1 sample of %.0fµs", s.Name, s.Stats.Count, s.Stats.Max, want[s.Name])
		}
	}
}

// TestLagObserverLive: the progress line's lag p99 covers the events
// applied since the previous report, and the backlog is the events
// committed and not yet applied.
func TestLagObserverLive(t *testing.T) {
	t.Parallel()
	o := newLagObserver()
	t0 := time.Unix(100, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	for i := range 100 {
		ref := []event.Ref{{OrderID: int64(i), Version: 1}}
		o.Observe(event.StageCommitted, ms(0), ref)
		if i < 90 {
			o.Observe(event.StageApplied, ms(1+i), ref) // lags 1..90 ms
		}
	}
	p99, backlog := o.live()
	if p99 != 90*time.Millisecond || backlog != 10 {
		t.Errorf("live() = %v, %d; want 90ms (p99 of 1..90 ms) and 10 unapplied", p99, backlog)
	}
	if p99, backlog := o.live(); p99 != 0 || backlog != 10 {
		t.Errorf("second live() = %v, %d; want no new lag samples and the same backlog", p99, backlog)
	}
	o.Observe(event.StageApplied, ms(500), []event.Ref{{OrderID: 95, Version: 1}})
	if p99, backlog := o.live(); p99 != 500*time.Millisecond || backlog != 9 {
		t.Errorf("after one more applied: %v, %d; want 500ms and 9", p99, backlog)
	}
}

// TestLagObserverClaimBeforeCommitStamp: a relay woken by the commit's
// NOTIFY can claim the event before the command's COMMIT returns to the
// client; that event still counts in every stage (its committed→claimed as 0),
// so the fastest claims are not left out.
func TestLagObserverClaimBeforeCommitStamp(t *testing.T) {
	t.Parallel()
	o := newLagObserver()
	t0 := time.Unix(100, 0)
	ms := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }
	fast := event.Ref{OrderID: 3, Version: 1}
	o.Observe(event.StageClaimed, ms(1), []event.Ref{fast})
	o.Observe(event.StageCommitted, ms(2), []event.Ref{fast})
	o.Observe(event.StageConfirmed, ms(4), []event.Ref{fast})
	o.Observe(event.StageDelivered, ms(6), []event.Ref{fast})
	o.Observe(event.StageApplied, ms(9), []event.Ref{fast})
	stages, err := o.stages(t0)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stages {
		if s.Stats.Count != 1 {
			t.Errorf("%s: %d samples, want the event counted", s.Name, s.Stats.Count)
		}
		if s.Name == "committed→claimed" && s.Stats.Max != 0 {
			t.Errorf("committed→claimed %.0fµs, want 0 (claimed before the commit stamp)", s.Stats.Max)
		}
	}
	if _, backlog := o.live(); backlog != 0 {
		t.Errorf("backlog %d after the event was applied", backlog)
	}
}
