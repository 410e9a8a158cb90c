package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Topology declares, inspects and removes the exchanges and queues of a
// Config. It keeps one connection, opened again on the next call after it
// was lost; calls are serialized, so it is safe for concurrent use.
type Topology struct {
	cfg  Config
	mu   sync.Mutex
	conn *amqp.Connection
}

// OpenTopology connects to the broker of cfg.
func OpenTopology(ctx context.Context, cfg Config) (*Topology, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("rabbitmq config: %w", err)
	}
	t := &Topology{cfg: cfg.WithDefaults()}
	conn, err := t.cfg.dial(ctx, "cqrsbench topology")
	if err != nil {
		return nil, err
	}
	t.conn = conn
	return t, nil
}

// Config returns the configuration in use, defaults applied.
func (t *Topology) Config() Config { return t.cfg }

// deliveryLimit is the event queue's x-delivery-limit: deliveries of a
// message after which the broker dead-letters it instead of redelivering
// it. A message comes back after a handler error (the database is down), a
// crash or a lost channel; dropping it after a few would lose an event
// that a later attempt would have applied, and poison is recognized by
// the handler, not by counting. So the limit is one no outage reaches
// (2^31 - 1 redeliveries). It is set explicitly because quorum queues
// default to no limit up to RabbitMQ 3.13 and to 20 from 4.0; the value
// 4.0 documents as "no limit", -1, dead-letters a message at its first
// redelivery on 3.10 (measured), so it is not used.
const deliveryLimit = math.MaxInt32

// queueArgs are the arguments of the event queue. A quorum queue replicates
// and fsyncs each message before confirming it. Dead-lettering is
// at-least-once (the broker republishes a rejected message with confirms
// and drops it from the queue only once the dead-letter queue has it),
// which requires the reject-publish overflow policy. Redeliveries are not
// limited (deliveryLimit).
func (c Config) queueArgs() amqp.Table {
	return amqp.Table{
		amqp.QueueTypeArg:        amqp.QueueTypeQuorum,
		"x-dead-letter-exchange": c.DeadLetterExchange,
		"x-dead-letter-strategy": "at-least-once",
		amqp.QueueOverflowArg:    amqp.QueueOverflowRejectPublish,
		"x-delivery-limit":       int64(deliveryLimit),
	}
}

// Declare creates the dead-letter exchange and queue, the event queue and,
// if Config.Exchange is set, the event exchange and its binding. It is
// idempotent; it fails if an entity exists with other settings (delete it,
// see Delete).
func (t *Topology) Declare(ctx context.Context) error {
	c := t.cfg
	return t.do(ctx, "declare the topology", func(ch *amqp.Channel) error {
		quorum := amqp.Table{amqp.QueueTypeArg: amqp.QueueTypeQuorum}
		if err := ch.ExchangeDeclare(c.DeadLetterExchange, amqp.ExchangeFanout, true, false, false, false, nil); err != nil {
			return fmt.Errorf("exchange %s: %w", c.DeadLetterExchange, err)
		}
		if _, err := ch.QueueDeclare(c.DeadLetterQueue, true, false, false, false, quorum); err != nil {
			return fmt.Errorf("queue %s: %w", c.DeadLetterQueue, err)
		}
		if err := ch.QueueBind(c.DeadLetterQueue, "", c.DeadLetterExchange, false, nil); err != nil {
			return fmt.Errorf("bind queue %s to exchange %s: %w", c.DeadLetterQueue, c.DeadLetterExchange, err)
		}
		if _, err := ch.QueueDeclare(c.Queue, true, false, false, false, c.queueArgs()); err != nil {
			return fmt.Errorf("queue %s: %w", c.Queue, err)
		}
		if c.Exchange == "" {
			return nil
		}
		if err := ch.ExchangeDeclare(c.Exchange, amqp.ExchangeDirect, true, false, false, false, nil); err != nil {
			return fmt.Errorf("exchange %s: %w", c.Exchange, err)
		}
		if err := ch.QueueBind(c.Queue, c.Queue, c.Exchange, false, nil); err != nil {
			return fmt.Errorf("bind queue %s to exchange %s: %w", c.Queue, c.Exchange, err)
		}
		return nil
	})
}

// Purge removes the ready messages of the event queue and of the
// dead-letter queue (a rebuild's reset) and returns how many; messages
// delivered and not yet acknowledged are not removed (stop or pause the
// consumers first).
func (t *Topology) Purge(ctx context.Context) (int, error) {
	n := 0
	err := t.do(ctx, "purge the queues", func(ch *amqp.Channel) error {
		for _, q := range []string{t.cfg.Queue, t.cfg.DeadLetterQueue} {
			m, err := ch.QueuePurge(q, false)
			if err != nil {
				return fmt.Errorf("queue %s: %w", q, err)
			}
			n += m
		}
		return nil
	})
	return n, err
}

// Delete removes the queues and exchanges Declare creates, with their
// messages; those that do not exist are skipped.
func (t *Topology) Delete(ctx context.Context) error {
	c := t.cfg
	return t.do(ctx, "delete the topology", func(ch *amqp.Channel) error {
		for _, q := range []string{c.Queue, c.DeadLetterQueue} {
			if _, err := ch.QueueDelete(q, false, false, false); err != nil {
				return fmt.Errorf("queue %s: %w", q, err)
			}
		}
		for _, x := range []string{c.Exchange, c.DeadLetterExchange} {
			if x == "" {
				continue
			}
			if err := ch.ExchangeDelete(x, false, false); err != nil {
				return fmt.Errorf("exchange %s: %w", x, err)
			}
		}
		return nil
	})
}

// QueueState is a queue's counts as the broker reports them on a passive
// declare (queue.declare-ok), without the management plugin.
type QueueState struct {
	// Ready is messages waiting to be delivered. Messages delivered and
	// not yet acknowledged are not counted (measured on RabbitMQ 3.10
	// quorum queues); they are counted again once requeued.
	Ready int
	// Consumers is consumers subscribed to the queue.
	Consumers int
}

// Backlog returns the state of the event queue. With the consumers stopped
// or paused, Ready is every event published and not yet acknowledged; while
// they run, add what they hold (at most Workers × Prefetch).
func (t *Topology) Backlog(ctx context.Context) (QueueState, error) {
	return t.inspect(ctx, t.cfg.Queue)
}

// DeadLetters returns the state of the dead-letter queue.
func (t *Topology) DeadLetters(ctx context.Context) (QueueState, error) {
	return t.inspect(ctx, t.cfg.DeadLetterQueue)
}

func (t *Topology) inspect(ctx context.Context, queue string) (QueueState, error) {
	var s QueueState
	err := t.do(ctx, "inspect queue "+queue, func(ch *amqp.Channel) error {
		q, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
		if err != nil {
			var aerr *amqp.Error
			if errors.As(err, &aerr) && aerr.Code == amqp.NotFound {
				return fmt.Errorf("queue %s does not exist (declare the topology first): %w", queue, err)
			}
			return err
		}
		s = QueueState{Ready: q.Messages, Consumers: q.Consumers}
		return nil
	})
	return s, err
}

// do runs f on a fresh channel (a failed operation closes its channel),
// reconnecting first if the connection was lost.
func (t *Topology) do(ctx context.Context, what string, f func(*amqp.Channel) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conn == nil {
		return fmt.Errorf("rabbitmq: %s: topology is closed", what)
	}
	if t.conn.IsClosed() {
		conn, err := t.cfg.dial(ctx, "cqrsbench topology")
		if err != nil {
			return fmt.Errorf("rabbitmq: %s: %w", what, err)
		}
		t.conn = conn
	}
	ch, err := t.conn.Channel()
	if err != nil {
		return fmt.Errorf("rabbitmq: %s: open channel: %w", what, err)
	}
	defer ch.Close()
	if err := f(ch); err != nil {
		return fmt.Errorf("rabbitmq: %s: %w", what, err)
	}
	return nil
}

// Close closes the connection.
func (t *Topology) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.conn == nil {
		return nil
	}
	err := t.conn.Close()
	t.conn = nil
	if err != nil && !errors.Is(err, amqp.ErrClosed) {
		return fmt.Errorf("rabbitmq: close topology connection: %w", err)
	}
	return nil
}
