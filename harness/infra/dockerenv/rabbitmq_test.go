package dockerenv_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/cqrsbench/cqrsbench/harness/infra/dockerenv"
)

// TestRabbitMQStartUseRestartClose starts a RabbitMQ container and checks,
// in order: a quorum queue takes confirmed publishes and delivers them, a
// restart keeps the URL and the queue's messages, and Close removes the
// container.
func TestRabbitMQStartUseRestartClose(t *testing.T) {
	requireEngine(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()

	before := ours(ctx, t)
	began := time.Now()
	mq, err := dockerenv.StartRabbitMQ(ctx, dockerenv.RabbitMQOptions{
		Image: os.Getenv(rabbitMQImageEnv), Progress: testWriter{t},
	})
	t.Logf("StartRabbitMQ took %s", time.Since(began).Round(100*time.Millisecond))
	if err != nil {
		t.Fatalf("StartRabbitMQ: %v", err)
	}
	t.Cleanup(func() {
		if err := mq.Close(context.Background()); err != nil {
			t.Errorf("Close in cleanup: %v", err)
		}
	})
	url, id := mq.URL(), mq.ContainerID()
	t.Logf("RabbitMQ %s (%s) at %s; container %s", mq.Version(), mq.Image(), url, id)
	if !strings.HasPrefix(url, "amqp://guest:guest@") || !strings.HasSuffix(url, "/") {
		t.Errorf("URL %q: want amqp://guest:guest@host:port/", url)
	}
	if !strings.HasPrefix(mq.Version(), "3.") {
		t.Errorf("Version = %q, want the 3.x the server announces", mq.Version())
	}
	if pid := mq.HostPID(ctx); !treeRuns(pid, "beam.smp") {
		t.Errorf("RabbitMQ container's host PID %d: no beam.smp in its tree", pid)
	}
	if got := ours(ctx, t); !slices.Contains(got, id) || len(got) != len(before)+1 {
		t.Errorf("this process's containers: %v before, %v after start; want one more, %s", before, got, id)
	}

	const queue = "dockerenv-quorum"
	t.Run("publish and consume", func(t *testing.T) {
		ch := channel(ctx, t, url)
		if _, err := ch.QueueDeclare(queue, true, false, false, false, amqp.Table{"x-queue-type": "quorum"}); err != nil {
			t.Fatalf("declare quorum queue: %v", err)
		}
		publish(ctx, t, ch, queue, "first", "kept across the restart")
		if got := consumeN(ctx, t, ch, queue, 1); !slices.Equal(got, []string{"first"}) {
			t.Errorf("consumed %q, want [first]", got)
		}
	})

	t.Run("restart", func(t *testing.T) {
		began := time.Now()
		if err := mq.Restart(ctx); err != nil {
			t.Fatalf("Restart: %v", err)
		}
		t.Logf("Restart took %s", time.Since(began).Round(100*time.Millisecond))
		if got := mq.URL(); got != url {
			t.Errorf("URL after restart = %q, want %q", got, url)
		}
		// The node answers AMQP before its quorum queues have recovered: a
		// consumer may see its channel closed meanwhile, and, like the
		// pipeline's workers, tries again.
		if got := consumeAfterRestart(ctx, t, url, queue); got != "kept across the restart" {
			t.Errorf("after the restart the queue held %q, want the message published before it", got)
		}
		ch := channel(ctx, t, url)
		publish(ctx, t, ch, queue, "after")
		if got := consumeN(ctx, t, ch, queue, 1); !slices.Equal(got, []string{"after"}) {
			t.Errorf("consumed %q after the restart, want [after]", got)
		}
	})

	if err := mq.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := mq.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := mq.Restart(ctx); !errors.Is(err, dockerenv.ErrClosed) {
		t.Errorf("Restart after Close = %v, want ErrClosed", err)
	}
	assertGone(ctx, t, []string{id})
	if got := ours(ctx, t); !slices.Equal(got, before) {
		t.Errorf("this process's containers after Close: %v, want %v", got, before)
	}
}

// consumeAfterRestart receives and acknowledges one message from queue on
// a fresh connection, trying again (logged) while the node closes the
// channel as its queues recover, for up to 30 s.
func consumeAfterRestart(ctx context.Context, t *testing.T, url, queue string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for attempt := 1; ; attempt++ {
		body, err := consumeOne(ctx, url, queue)
		if err == nil {
			return body
		}
		t.Logf("consume after the restart (attempt %d): %v; trying again", attempt, err)
		select {
		case <-ctx.Done():
			t.Fatalf("no message from %s within 30 s of the restart: %v", queue, err)
		case <-time.After(200 * time.Millisecond): // back-off between attempts
		}
	}
}

// consumeOne receives and acknowledges one message from queue on its own
// connection, which it closes.
func consumeOne(ctx context.Context, url, queue string) (string, error) {
	conn, err := amqp.Dial(url)
	if err != nil {
		return "", err
	}
	// Closing the connection closes the channel, bounded (see channel).
	defer func() { _ = conn.CloseDeadline(time.Now().Add(closeWait)) }()
	ch, err := conn.Channel()
	if err != nil {
		return "", err
	}
	if err := ch.Qos(1, 0, false); err != nil {
		return "", err
	}
	deliveries, err := ch.ConsumeWithContext(ctx, queue, "", false, false, false, false, nil)
	if err != nil {
		return "", err
	}
	select {
	case d, ok := <-deliveries:
		if !ok {
			return "", errors.New("the consumer was closed")
		}
		if err := d.Ack(false); err != nil {
			return "", err
		}
		return string(d.Body), nil
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// channel opens a connection and a channel in confirm mode with prefetch 1;
// cleanup closes the channel before the connection, so that nothing is
// redelivered. Both closes are bounded: a broker that never answers a
// channel.close (CI saw one hang for 17 minutes after a restart) costs
// the cleanup closeWait, not the test binary's timeout.
func channel(ctx context.Context, t *testing.T, url string) *amqp.Channel {
	t.Helper()
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatalf("dial %s: %v", url, err)
	}
	t.Cleanup(func() { _ = conn.CloseDeadline(time.Now().Add(closeWait)) })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatalf("open channel: %v", err)
	}
	t.Cleanup(func() {
		closed := make(chan struct{})
		go func() { defer close(closed); _ = ch.Close() }()
		select {
		case <-closed:
		case <-time.After(closeWait):
			t.Logf("the broker did not answer channel.close within %s; closing the connection", closeWait)
		}
	})
	if err := ch.Confirm(false); err != nil {
		t.Fatalf("confirm mode: %v", err)
	}
	if err := ch.Qos(1, 0, false); err != nil {
		t.Fatalf("qos: %v", err)
	}
	return ch
}

// closeWait bounds each close of a test's channel and connection.
const closeWait = 5 * time.Second

// publish sends persistent messages to queue and waits for each broker
// confirmation. A quorum queue may nack a publish while it recovers from a
// restart; like the relay, publish sends a nacked message again (logged)
// until it is acked or 30 s have passed.
func publish(ctx context.Context, t *testing.T, ch *amqp.Channel, queue string, bodies ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for _, b := range bodies {
		for attempt := 1; ; attempt++ {
			dc, err := ch.PublishWithDeferredConfirmWithContext(ctx, "", queue, true, false,
				amqp.Publishing{DeliveryMode: amqp.Persistent, Body: []byte(b)})
			if err != nil {
				t.Fatalf("publish %q: %v", b, err)
			}
			ok, err := dc.WaitContext(ctx)
			if err != nil {
				t.Fatalf("confirm of %q (attempt %d): %v", b, attempt, err)
			}
			if ok {
				break
			}
			t.Logf("broker nacked %q (attempt %d); publishing it again", b, attempt)
			select {
			case <-ctx.Done():
				t.Fatalf("broker still nacks %q after %d attempts: %v", b, attempt, ctx.Err())
			case <-time.After(100 * time.Millisecond): // back-off between retries
			}
		}
	}
}

// consumeN receives and acknowledges n messages from queue, then cancels
// the consumer.
func consumeN(ctx context.Context, t *testing.T, ch *amqp.Channel, queue string, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	const tag = "dockerenv-test"
	deliveries, err := ch.ConsumeWithContext(ctx, queue, tag, false, false, false, false, nil)
	if err != nil {
		t.Fatalf("consume %s: %v", queue, err)
	}
	var got []string
	for len(got) < n {
		select {
		case d, ok := <-deliveries:
			if !ok {
				t.Fatalf("consumer of %s closed after %q", queue, got)
			}
			got = append(got, string(d.Body))
			if err := d.Ack(false); err != nil {
				t.Fatalf("ack: %v", err)
			}
		case <-ctx.Done():
			t.Fatalf("consume %s: %v after %q", queue, ctx.Err(), got)
		}
	}
	if err := ch.Cancel(tag, false); err != nil {
		t.Fatalf("cancel consumer: %v", err)
	}
	return got
}
