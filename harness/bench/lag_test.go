package bench

import (
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/reference/cqrskafka/event"
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
	o.Observe(event.StageAcked, ms(5), []event.Ref{a, b})
	o.Observe(event.StageConsumed, ms(9), []event.Ref{a, b})
	o.Observe(event.StageApplied, ms(14), []event.Ref{a, b})
	o.Observe(event.StageApplied, ms(50), []event.Ref{a})                       // redelivery: already visible
	o.Observe(event.StageClaimed, ms(3), []event.Ref{{OrderID: 9, Version: 1}}) // never committed in this run

	stages, err := o.stages(t0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{"commit→claimed": 2000, "claimed→acked": 3000, "acked→consumed": 4000, "consumed→applied": 5000, results.StageEndToEnd: 14000}
	if len(stages) != len(want) {
		t.Fatalf("stages %+v", stages)
	}
	for _, s := range stages {
		if s.Stats.Count != 1 || s.Stats.Max < want[s.Name] || s.Stats.Max > want[s.Name]*1.01 {
			t.Errorf("%s: count %d max %.0fµs, want 1 sample of %.0fµs", s.Name, s.Stats.Count, s.Stats.Max, want[s.Name])
		}
	}
}
