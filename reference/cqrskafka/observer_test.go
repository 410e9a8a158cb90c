package cqrskafka_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/reference/cqrskafka"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
)

// stageLog records the first time each event passed each stage.
type stageLog struct {
	mu sync.Mutex
	at map[event.Ref]*[5]time.Time
}

func (l *stageLog) Observe(stage event.Stage, at time.Time, refs []event.Ref) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range refs {
		ts := l.at[r]
		if ts == nil {
			ts = new([5]time.Time)
			l.at[r] = ts
		}
		if ts[stage].IsZero() {
			ts[stage] = at
		}
	}
}

// TestStageTimestamps checks that every event of a command is observed at
// every stage, in pipeline order on the monotonic clock, and that the
// events on the topic carry the database-clock emission time.
func TestStageTimestamps(t *testing.T) {
	log := &stageLog{at: map[event.Ref]*[5]time.Time{}}
	f := newFixture(t, 300, func(c *cqrskafka.Config) { c.Observer = log })
	f.start(t)
	got := f.runCommands(t, 80, 7, f.execSystem)
	f.waitCaughtUp(t)
	ok := 0
	for k, n := range got {
		if len(k) > 3 && k[len(k)-3:] == " ok" {
			ok += n
		}
	}
	log.mu.Lock()
	defer log.mu.Unlock()
	if len(log.at) != ok {
		t.Fatalf("observed %d events, want %d (one per successful command)", len(log.at), ok)
	}
	// Orders guaranteed by causality (the command's client may learn of its
	// commit after the relay claimed the row, and a producer of its ack
	// after the consumer got the record).
	causal := [][2]event.Stage{
		{event.StageClaimed, event.StageConfirmed}, {event.StageClaimed, event.StageDelivered},
		{event.StageDelivered, event.StageApplied},
	}
	var lag time.Duration
	for ref, ts := range log.at {
		for s := range ts {
			if ts[s].IsZero() {
				t.Fatalf("event %+v never observed at %s", ref, event.Stage(s))
			}
		}
		for _, c := range causal {
			if ts[c[1]].Before(ts[c[0]]) {
				t.Errorf("event %+v: %s at %v before %s at %v", ref, c[1], ts[c[1]], c[0], ts[c[0]])
			}
		}
		lag = max(lag, ts[event.StageApplied].Sub(ts[event.StageCommitted]))
	}
	t.Logf("%d events; largest commit → read-model commit lag %s", len(log.at), lag)

	cl, err := kgo.NewClient(kgo.SeedBrokers(f.cfg.Brokers...), kgo.ConsumeTopics(f.sys.Config().Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	commands := 0
	for commands < ok {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read back %d of %d command events: %v", commands, ok, err)
		}
		for _, rec := range fetches.Records() {
			var e event.OrderEvent
			if err := event.Decode(rec.Value, &e); err != nil {
				t.Fatalf("record %s/%d/%d: %v", rec.Topic, rec.Partition, rec.Offset, err)
			}
			if e.Type == event.OrderSnapshot {
				continue
			}
			commands++
			if e.EmittedAt.IsZero() || e.EmittedAt.Before(e.CreatedAt) {
				t.Errorf("event %+v: emitted_at %v (created %v)", e.Ref(), e.EmittedAt, e.CreatedAt)
			}
			if string(rec.Key) != string(event.AppendKey(nil, e.OrderID)) {
				t.Errorf("event %+v has key %q", e.Ref(), rec.Key)
			}
		}
	}
}
