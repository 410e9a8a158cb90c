package rabbitmq_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/pipeline/rabbitmq"
)

func TestPublishThenConsumeEachOnce(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Workers = 4
	const n = 10_000
	p := newPublisher(t, cfg)
	publishAll(t, p, msgs(n), 1000, 4)
	if pc := p.Counters(); pc.Published != n || pc.Confirmed != n || pc.Failures != 0 {
		t.Fatalf("publisher counters %+v, want %d published and confirmed, no failures", pc, n)
	}
	topo := openTopology(t, cfg)
	if s := backlog(t, topo); s.Ready != n {
		t.Fatalf("backlog after publishing %+v, want %d ready", s, n)
	}

	rec := newRecorder()
	var keysWrong atomic.Int64
	c := startConsumer(t, cfg, func(_ context.Context, batch []rabbitmq.Delivery) ([]int, error) {
		for _, d := range batch {
			if string(d.Key) != d.MessageID || len(d.Body) != eventSize || d.Received.IsZero() {
				keysWrong.Add(1)
			}
		}
		rec.accept(batch, nil)
		return nil, nil
	})
	rec.waitDistinct(t, n, time.Minute)
	closeConsumer(t, c)
	if dups := rec.check(t, n, nil, 0); dups != 0 {
		t.Errorf("%d messages accepted twice, want none (no failure happened)", dups)
	}
	if k := keysWrong.Load(); k != 0 {
		t.Errorf("%d deliveries with a wrong key, body or receive time", k)
	}
	cc := c.Counters()
	if cc.Delivered != n || cc.Acked != n || cc.Redelivered != 0 || cc.HandlerErrors != 0 {
		t.Errorf("consumer counters %+v, want %d delivered and acked, nothing else", cc, n)
	}
	t.Logf("%d batches, %.1f deliveries per batch", cc.Batches, float64(cc.Delivered)/float64(cc.Batches))
	if s := backlog(t, topo); s.Ready != 0 || s.Consumers != 0 {
		t.Errorf("backlog after consuming everything and closing: %+v, want empty", s)
	}
}

func TestHandlerErrorRequeuesBatch(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Workers = 2
	const n = 1000
	publishAll(t, newPublisher(t, cfg), msgs(n), 100, 1)
	rec := newRecorder()
	var failed atomic.Int64 // deliveries of the failed batches
	var calls atomic.Int64
	failedIDs := make(chan []string, 3)
	c := startConsumer(t, cfg, func(_ context.Context, batch []rabbitmq.Delivery) ([]int, error) {
		if calls.Add(1) <= 3 { // the first three batches fail
			ids := make([]string, len(batch))
			for i, d := range batch {
				ids[i] = d.MessageID
			}
			failedIDs <- ids
			failed.Add(int64(len(batch)))
			return nil, errors.New("database unavailable")
		}
		rec.accept(batch, nil)
		return nil, nil
	})
	rec.waitDistinct(t, n, time.Minute)
	closeConsumer(t, c)
	rec.check(t, n, nil, 0)
	cc := c.Counters()
	if cc.HandlerErrors != 3 || cc.Requeued != failed.Load() || cc.Redelivered < failed.Load() || cc.Acked < n {
		t.Errorf("consumer counters %+v, want 3 handler errors, %d requeued and redelivered at least, %d acked at least", cc, failed.Load(), n)
	}
	close(failedIDs)
	for ids := range failedIDs {
		for _, id := range ids {
			if rec.accepted[id] == 0 {
				t.Errorf("message %s of a failed batch never accepted", id)
			}
		}
	}
}

func TestCrashRedeliversUnacknowledged(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Workers = 2
	const n = 2000
	publishAll(t, newPublisher(t, cfg), msgs(n), 500, 1)
	rec := newRecorder()
	var crashed atomic.Bool
	var crashBatch atomic.Int64
	c := startConsumer(t, cfg, func(_ context.Context, batch []rabbitmq.Delivery) ([]int, error) {
		rec.accept(batch, nil) // the batch's effects commit...
		if crashed.CompareAndSwap(false, true) {
			crashBatch.Store(int64(len(batch)))
			// ...and the worker dies before acknowledging.
			return nil, fmt.Errorf("after commit: %w", rabbitmq.ErrCrash)
		}
		return nil, nil
	})
	rec.waitDistinct(t, n, time.Minute)
	// The crashed batch is redelivered: wait until the handler accepted
	// n + crashBatch deliveries (only the crashed batch's are duplicates).
	waitAcked(t, c, n)
	closeConsumer(t, c)
	dups := rec.check(t, n, nil, 0)
	cc := c.Counters()
	if cc.Crashes != 1 || cc.Acked != n || int64(dups) < crashBatch.Load() || cc.Redelivered < crashBatch.Load() {
		t.Errorf("counters %+v, %d ids accepted twice; want 1 crash, %d acked, the crashed batch of %d redelivered and accepted again",
			cc, dups, n, crashBatch.Load())
	}
}

func TestPoisonGoesToDeadLetterQueue(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	const n = 1000
	isPoison := func(i int) bool { return i%10 == 3 }
	publishAll(t, newPublisher(t, cfg), msgs(n), 100, 1)
	rec := newRecorder()
	c := startConsumer(t, cfg, func(_ context.Context, batch []rabbitmq.Delivery) ([]int, error) {
		var poison []int
		for i, d := range batch {
			if id, _ := strconv.Atoi(d.MessageID); isPoison(id) {
				poison = append(poison, i)
			}
		}
		rec.accept(batch, poison)
		return poison, nil
	})
	rec.waitDistinct(t, n-n/10, time.Minute)
	topo := openTopology(t, cfg)
	waitQueue(t, func() (int, error) { s, err := topo.DeadLetters(context.Background()); return s.Ready, err }, n/10)
	closeConsumer(t, c)
	rec.check(t, n, isPoison, 0)
	if s := backlog(t, topo); s.Ready != 0 {
		t.Errorf("event queue holds %d messages after consuming, want 0", s.Ready)
	}
	if cc := c.Counters(); cc.DeadLettered != n/10 || cc.Acked != n-n/10 || cc.Redelivered != 0 {
		t.Errorf("counters %+v, want %d dead-lettered, %d acked, none redelivered", cc, n/10, n-n/10)
	}
	// The dead-letter queue holds exactly the poison messages.
	dead := rabbitmq.Config{URL: cfg.URL, Queue: cfg.DeadLetterQueue, DeadLetterQueue: cfg.DeadLetterQueue + ".unused"}
	drec := newRecorder()
	dc := startConsumer(t, dead, func(_ context.Context, batch []rabbitmq.Delivery) ([]int, error) {
		drec.accept(batch, nil)
		return nil, nil
	})
	drec.waitDistinct(t, n/10, time.Minute)
	closeConsumer(t, dc)
	drec.check(t, n, func(i int) bool { return !isPoison(i) }, 0)
}

// TestRepeatedFailuresAreNotDeadLettered: a message whose handler fails
// more often than RabbitMQ 4's default delivery limit (20) — a database
// outage — is redelivered until it is applied, never dead-lettered by the
// broker; only poison, which the handler names, is.
func TestRepeatedFailuresAreNotDeadLettered(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Workers = 1
	const failures = 21 // one more than RabbitMQ 4's default limit
	publishAll(t, newPublisher(t, cfg), msgs(1), 1, 1)
	rec := newRecorder()
	var calls atomic.Int64
	c := startConsumer(t, cfg, func(_ context.Context, batch []rabbitmq.Delivery) ([]int, error) {
		if calls.Add(1) <= failures {
			return nil, errors.New("database unavailable")
		}
		rec.accept(batch, nil)
		return nil, nil
	})
	rec.waitDistinct(t, 1, 20*time.Second)
	closeConsumer(t, c)
	rec.check(t, 1, nil, 0)
	if cc := c.Counters(); cc.HandlerErrors != failures || cc.DeadLettered != 0 || cc.Acked != 1 {
		t.Errorf("counters %+v, want %d handler errors, none dead-lettered, 1 acked", cc, failures)
	}
	if s, err := openTopology(t, cfg).DeadLetters(context.Background()); err != nil || s.Ready != 0 {
		t.Errorf("dead-letter queue %+v (%v), want empty", s, err)
	}
}

// waitAcked waits until c acknowledged want deliveries, failing after 30 s.
func waitAcked(t testing.TB, c *rabbitmq.Consumer, want int64) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for c.Counters().Acked < want {
		if time.Now().After(deadline) {
			t.Fatalf("consumer acknowledged %d deliveries, want %d: %+v", c.Counters().Acked, want, c.Counters())
		}
		time.Sleep(5 * time.Millisecond) // polling the counters
	}
}

// waitQueue polls count until it returns want (dead-lettering is
// asynchronous), failing after 30 s.
func waitQueue(t testing.TB, count func() (int, error), want int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := count()
		if err != nil {
			t.Fatal(err)
		}
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("queue holds %d messages, want %d", got, want)
		}
		time.Sleep(10 * time.Millisecond) // polling the broker's count
	}
}

func TestPauseBuildsBacklogResumeDrains(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	const n = 3000
	p := newPublisher(t, cfg)
	topo := openTopology(t, cfg)
	rec := newRecorder()
	c := startConsumer(t, cfg, rec.handle)
	publishAll(t, p, msgs(1000), 100, 1)
	rec.waitDistinct(t, 1000, time.Minute)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Pause(ctx); err != nil {
		t.Fatal(err)
	}
	before := c.Counters()
	publishAll(t, p, msgRange(1000, n), 100, 1)
	if s := backlog(t, topo); s.Ready != n-1000 || s.Consumers != 0 {
		t.Fatalf("backlog while paused %+v, want %d ready, no consumer", s, n-1000)
	}
	if after := c.Counters(); after.Delivered != before.Delivered {
		t.Fatalf("paused consumer received %d deliveries", after.Delivered-before.Delivered)
	}
	if err := c.Resume(); err != nil {
		t.Fatal(err)
	}
	rec.waitDistinct(t, n, time.Minute)
	rec.check(t, n, nil, 0)
	if s := backlog(t, topo); s.Ready != 0 {
		t.Errorf("backlog after Resume drained it: %+v", s)
	}
}

// TestPausesNest: two overlapping pauses (a catch-up's and a rebuild's)
// hold the workers until both ended, whichever resumes first; a Resume
// without a Pause fails.
func TestPausesNest(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	p := newPublisher(t, cfg)
	topo := openTopology(t, cfg)
	rec := newRecorder()
	c := startConsumer(t, cfg, rec.handle)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for range 2 {
		if err := c.Pause(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Resume(); err != nil {
		t.Fatal(err)
	}
	if !c.Paused() {
		t.Fatal("after two Pauses and one Resume no pause holds the workers")
	}
	const n = 500
	publishAll(t, p, msgs(n), 100, 1)
	if s := backlog(t, topo); s.Ready != n || s.Consumers != 0 {
		t.Fatalf("backlog while one pause still holds %+v, want %d ready, no consumer", s, n)
	}
	if d := c.Counters().Delivered; d != 0 {
		t.Fatalf("workers held by a pause received %d deliveries", d)
	}
	if err := c.Resume(); err != nil {
		t.Fatal(err)
	}
	rec.waitDistinct(t, n, time.Minute)
	rec.check(t, n, nil, 0)
	if err := c.Resume(); err == nil {
		t.Fatal("Resume without a Pause succeeded")
	}
}

func TestCloseLosesNoAcknowledgement(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Prefetch = 50
	const n = 5000
	publishAll(t, newPublisher(t, cfg), msgs(n), 1000, 2)
	first := newRecorder()
	var held atomic.Int64
	holding, release := make(chan struct{}), make(chan struct{})
	var accepted atomic.Int64
	c := startConsumer(t, cfg, func(_ context.Context, batch []rabbitmq.Delivery) ([]int, error) {
		first.accept(batch, nil)
		accepted.Add(int64(len(batch)))
		// Every worker has a batch handled (committed) when Close begins,
		// and acknowledges it after.
		if first.distinct() >= 1000 {
			if held.Add(1) == int64(cfg.WithDefaults().Workers) {
				close(holding)
			}
			<-release
		}
		return nil, nil
	})
	<-holding
	closed := make(chan struct{})
	go func() { closeConsumer(t, c); close(closed) }()
	<-c.Stopping()
	close(release)
	<-closed
	acked := c.Counters().Acked
	if acked != accepted.Load() {
		t.Errorf("Close acknowledged %d of the %d deliveries its handler accepted", acked, accepted.Load())
	}
	if acked == n {
		t.Skip("the consumer drained the queue before Close: nothing left to check")
	}
	topo := openTopology(t, cfg)
	// A quorum queue applies the consumers' departure through its log: the
	// counts settle shortly after Close returned.
	waitQueue(t, func() (int, error) {
		s, err := topo.Backlog(context.Background())
		if s.Consumers != 0 {
			return -s.Consumers, err
		}
		return s.Ready, err
	}, int(n-acked))
	// Every acknowledged message is gone: a second consumer gets exactly
	// the others.
	second := newRecorder()
	c2 := startConsumer(t, cfg, func(_ context.Context, batch []rabbitmq.Delivery) ([]int, error) {
		second.accept(batch, nil)
		return nil, nil
	})
	second.waitDistinct(t, int(n-acked), time.Minute)
	closeConsumer(t, c2)
	again := 0
	for id := range second.accepted {
		if first.accepted[id] > 0 {
			again++
		}
	}
	if again != 0 || len(first.accepted)+len(second.accepted) != n {
		t.Errorf("%d acknowledged messages delivered again after Close; %d + %d distinct, want %d", again, len(first.accepted), len(second.accepted), n)
	}
}
