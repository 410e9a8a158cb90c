package rabbitmq_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/cqrsbench/cqrsbench/reference/pipeline/rabbitmq"
)

func TestPublishWithoutQueueFails(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	cfg.Queue += ".missing" // never declared
	p := newPublisher(t, cfg)
	err := p.Publish(context.Background(), msgs(10))
	if err == nil || !strings.Contains(err.Error(), "unroutable") {
		t.Fatalf("Publish to a missing queue = %v, want an unroutable error", err)
	}
	if pc := p.Counters(); pc.Returned != 10 || pc.Confirmed != 0 || pc.Failures != 1 {
		t.Errorf("counters %+v, want 10 returned, none confirmed, 1 failure", pc)
	}
}

func TestPublishNackFails(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	// A queue that refuses messages beyond 5: the broker nacks them. (A
	// classic queue: a quorum queue enforces the limit only eventually.)
	cfg.Queue += ".full"
	conn, err := amqp.Dial(cfg.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	args := amqp.Table{amqp.QueueMaxLenArg: 5, amqp.QueueOverflowArg: amqp.QueueOverflowRejectPublish}
	if _, err := ch.QueueDeclare(cfg.Queue, true, false, false, false, args); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ch.QueueDelete(cfg.Queue, false, false, false) })

	p := newPublisher(t, cfg)
	if err := p.Publish(context.Background(), msgs(5)); err != nil {
		t.Fatalf("Publish within the limit: %v", err)
	}
	err = p.Publish(context.Background(), msgs(3))
	if err == nil || !strings.Contains(err.Error(), "(nacked) 3 of 3") {
		t.Fatalf("Publish beyond the limit = %v, want 3 of 3 nacked", err)
	}
	if pc := p.Counters(); pc.Nacked != 3 || pc.Confirmed != 5 || pc.Failures != 1 {
		t.Errorf("counters %+v, want 3 nacked, 5 confirmed, 1 failure", pc)
	}
}

func TestPublishAfterCloseFails(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	p := newPublisher(t, cfg)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Publish(context.Background(), msgs(1)); !errors.Is(err, rabbitmq.ErrClosed) {
		t.Errorf("Publish after Close = %v, want ErrClosed", err)
	}
}

func TestPublishConfirmTimeoutFails(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	// Expired before the first confirm can arrive; a confirm already in
	// wins a coin flip against it, so 1000 of them never all win.
	cfg.ConfirmTimeout = time.Nanosecond
	p := newPublisher(t, cfg)
	err := p.Publish(context.Background(), msgs(1000))
	if err == nil || !strings.Contains(err.Error(), "no confirm for 1000 messages within 1ns") {
		t.Fatalf("Publish with a 1ns confirm timeout = %v, want a timeout", err)
	}
	if pc := p.Counters(); pc.Timeouts != 1 || pc.Failures != 1 || pc.Confirmed != 0 {
		t.Errorf("counters %+v, want 1 timeout, 1 failure, none confirmed", pc)
	}
}
