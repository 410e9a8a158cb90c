package rabbitmq_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/pipeline/rabbitmq"
)

// eventSize is about the size of an order event's JSON payload.
const eventSize = 450

// msgs returns n messages with ids "0".."n-1" and bodies of eventSize bytes.
func msgs(n int) []rabbitmq.Message { return msgRange(0, n) }

// msgRange returns messages lo..hi-1.
func msgRange(lo, hi int) []rabbitmq.Message {
	out := make([]rabbitmq.Message, 0, hi-lo)
	for i := lo; i < hi; i++ {
		body := make([]byte, eventSize)
		copy(body, fmt.Sprintf(`{"order_id":%d,"version":1,"state":"`, i))
		for j := len(body) - 1; body[j] == 0; j-- {
			body[j] = 'x'
		}
		out = append(out, rabbitmq.Message{ID: fmt.Sprint(i), Key: fmt.Append(nil, i), Value: body})
	}
	return out
}

// recorder is a Handler's memory of what it accepted.
type recorder struct {
	mu       sync.Mutex
	accepted map[string]int // message id → batches that accepted it
	// unflagged counts deliveries of an id accepted before whose
	// Redelivered flag was not set: duplicates the broker did not announce.
	unflagged int
	changed   chan struct{} // closed and replaced on every accepted batch
}

func newRecorder() *recorder {
	return &recorder{accepted: map[string]int{}, changed: make(chan struct{})}
}

// accept records the batch's deliveries except those at the poison
// indices.
func (r *recorder) accept(batch []rabbitmq.Delivery, poison []int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, d := range batch {
		if slices.Contains(poison, i) {
			continue
		}
		if r.accepted[d.MessageID] > 0 && !d.Redelivered {
			r.unflagged++
		}
		r.accepted[d.MessageID]++
	}
	close(r.changed)
	r.changed = make(chan struct{})
}

// handle is a Handler that accepts every delivery.
func (r *recorder) handle(_ context.Context, batch []rabbitmq.Delivery) ([]int, error) {
	r.accept(batch, nil)
	return nil, nil
}

// distinct returns how many ids were accepted.
func (r *recorder) distinct() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.accepted)
}

// waitDistinct waits until n ids were accepted.
func (r *recorder) waitDistinct(t testing.TB, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		got, changed := len(r.accepted), r.changed
		r.mu.Unlock()
		if got >= n {
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			t.Fatalf("accepted %d distinct messages within %s, want %d", got, timeout, n)
		}
	}
}

// check fails t unless ids 0..n-1 (except skip) were accepted, and nothing
// else, each once or more only when redelivered, except for up to
// republished duplicates (messages a failed Publish had stored before it
// was published again); it returns how many ids were accepted more than
// once.
func (r *recorder) check(t testing.TB, n int, skip func(int) bool, republished int64) (dups int) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	want := 0
	for i := range n {
		id := fmt.Sprint(i)
		if skip != nil && skip(i) {
			if r.accepted[id] > 0 {
				t.Errorf("message %s accepted, want it skipped", id)
			}
			continue
		}
		want++
		switch c := r.accepted[id]; {
		case c == 0:
			t.Errorf("message %s lost", id)
		case c > 1:
			dups++
		}
	}
	if len(r.accepted) != want {
		t.Errorf("accepted %d distinct ids, want %d", len(r.accepted), want)
	}
	if int64(r.unflagged) > republished {
		t.Errorf("%d duplicates were delivered without the redelivered flag, %d messages were published again", r.unflagged, republished)
	}
	return dups
}

// startConsumer starts a Consumer with h, closed at cleanup.
func startConsumer(t testing.TB, cfg rabbitmq.Config, h rabbitmq.Handler) *rabbitmq.Consumer {
	t.Helper()
	c, err := rabbitmq.NewConsumer(cfg, h)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeConsumer(t, c) })
	return c
}

// closeConsumer closes c within 30 s.
func closeConsumer(t testing.TB, c *rabbitmq.Consumer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := c.Close(ctx); err != nil {
		t.Error(err)
	}
}

// publishAll publishes msgs in batches of size with workers concurrent
// callers, each batch retried until confirmed.
func publishAll(t testing.TB, p *rabbitmq.Publisher, msgs []rabbitmq.Message, size, workers int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	batches := make(chan []rabbitmq.Message)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for b := range batches {
				for p.Publish(ctx, b) != nil && ctx.Err() == nil {
				}
			}
		})
	}
	for lo := 0; lo < len(msgs); lo += size {
		batches <- msgs[lo:min(lo+size, len(msgs))]
	}
	close(batches)
	wg.Wait()
	if ctx.Err() != nil {
		t.Fatalf("publish %d messages: %v", len(msgs), ctx.Err())
	}
}

// backlog returns the event queue's state.
func backlog(t testing.TB, topo *rabbitmq.Topology) rabbitmq.QueueState {
	t.Helper()
	s, err := topo.Backlog(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}
