package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// HeaderKey is the message header that carries Message.Key.
const HeaderKey = "cqrsbench-key"

// Message is one event to publish.
type Message struct {
	// ID identifies the event (for instance "order/version"); it becomes
	// the AMQP message-id, which consumers see as Delivery.MessageID.
	ID string
	// Key is the event's entity key (the order id), carried in header
	// HeaderKey. RabbitMQ does not partition by it: competing consumers
	// may process events of one key out of order.
	Key []byte
	// Value is the message body.
	Value []byte
	// Headers are further application headers (say the order id and
	// version); values must be valid AMQP table values. May be nil.
	Headers map[string]any
}

// PublisherCounters are what a Publisher did since NewPublisher. A batch
// that failed and is published again counts again.
type PublisherCounters struct {
	// Published is messages written to a channel (the broker may have
	// stored them even if their batch failed).
	Published int64
	// Confirmed is messages the broker confirmed (acked), in batches
	// Publish returned nil for.
	Confirmed int64
	// Nacked is messages the broker refused (basic.nack).
	Nacked int64
	// Returned is messages the broker could not route to a queue
	// (basic.return: the queue does not exist).
	Returned int64
	// Timeouts is batches whose confirms did not all arrive within
	// Config.ConfirmTimeout.
	Timeouts int64
	// Failures is Publish calls that returned an error other than the
	// caller's cancellation (nacks, returns, timeouts, lost channels).
	Failures int64
	// Reconnects is connections opened after the previous one was lost.
	Reconnects int64
	// Channels is channels opened (one per concurrent Publish caller,
	// again after a failure).
	Channels int64
}

type publisherCounters struct {
	published, confirmed, nacked, returned   atomic.Int64
	timeouts, failures, reconnects, channels atomic.Int64
}

// Publisher publishes batches of messages with publisher confirms. It is
// safe for concurrent use: each concurrent Publish call gets its own
// channel (kept for reuse), all on one connection, so callers wait for
// their confirms in parallel (about 1.45 times the throughput of callers
// taking turns on one channel; see BenchmarkPublish).
type Publisher struct {
	cfg      Config
	exchange string
	c        publisherCounters

	// dialing is a one-slot lock that a caller holds while it (re)connects,
	// so others wait for that connection, or for their ctx.
	dialing chan struct{}

	mu     sync.Mutex
	conn   *amqp.Connection
	free   []*pubChannel // idle channels of conn
	closed bool
}

// pubChannel is a channel in confirm mode with its notifications.
type pubChannel struct {
	conn    *amqp.Connection
	ch      *amqp.Channel
	returns chan amqp.Return
	closes  chan *amqp.Error
	dcs     []*amqp.DeferredConfirmation
}

// NewPublisher connects to the broker of cfg. It declares nothing: call
// Topology.Declare first, or Publish fails (its messages are returned as
// unroutable).
func NewPublisher(ctx context.Context, cfg Config) (*Publisher, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("rabbitmq config: %w", err)
	}
	p := &Publisher{cfg: cfg.WithDefaults(), exchange: cfg.Exchange, dialing: make(chan struct{}, 1)}
	conn, err := p.cfg.dial(ctx, "cqrsbench publisher")
	if err != nil {
		return nil, err
	}
	p.conn = conn
	return p, nil
}

// Config returns the configuration in use, defaults applied.
func (p *Publisher) Config() Config { return p.cfg }

// Counters returns what the publisher did so far.
func (p *Publisher) Counters() PublisherCounters {
	return PublisherCounters{
		Published: p.c.published.Load(), Confirmed: p.c.confirmed.Load(), Nacked: p.c.nacked.Load(),
		Returned: p.c.returned.Load(), Timeouts: p.c.timeouts.Load(), Failures: p.c.failures.Load(),
		Reconnects: p.c.reconnects.Load(), Channels: p.c.channels.Load(),
	}
}

// ErrClosed is returned by Publish after Close.
var ErrClosed = errors.New("rabbitmq: publisher is closed")

// Publish publishes msgs as persistent messages to the event queue and
// waits for the broker's confirms. It returns nil only when the broker
// confirmed every message, which then is stored in the quorum queue's
// majority. Otherwise (a nack, an unroutable message, no confirm within
// Config.ConfirmTimeout, the channel or connection lost) some messages may
// be stored and others not: the caller publishes the whole batch again,
// and consumers see duplicates (at-least-once). If the connection was lost,
// Publish first reconnects, retrying with backoff until ctx is done.
func (p *Publisher) Publish(ctx context.Context, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	pc, err := p.channel(ctx)
	if err != nil {
		return err
	}
	err = p.publish(ctx, pc, msgs)
	if err != nil {
		pc.ch.Close() // pending confirms would confuse the next batch
		if ctx.Err() == nil {
			p.c.failures.Add(1)
		}
		return err
	}
	p.mu.Lock()
	if p.conn == pc.conn && !p.closed {
		p.free = append(p.free, pc)
	} else {
		pc.ch.Close()
	}
	p.mu.Unlock()
	return nil
}

func (p *Publisher) publish(ctx context.Context, pc *pubChannel, msgs []Message) error {
	pc.dcs = pc.dcs[:0]
	for i := range msgs {
		m := &msgs[i]
		headers := amqp.Table{HeaderKey: string(m.Key)}
		for k, v := range m.Headers {
			headers[k] = v
		}
		dc, err := pc.ch.PublishWithDeferredConfirmWithContext(ctx, p.exchange, p.cfg.Queue, true, false, amqp.Publishing{
			Headers: headers, DeliveryMode: amqp.Persistent, MessageId: m.ID, Body: m.Value,
		})
		if err != nil {
			p.c.published.Add(int64(i)) // they may be stored
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("rabbitmq: publish message %d of %d (publish the batch again): %w", i+1, len(msgs), p.closeReason(pc, err))
		}
		pc.dcs = append(pc.dcs, dc)
	}
	p.c.published.Add(int64(len(msgs)))

	timer := time.NewTimer(p.cfg.ConfirmTimeout)
	defer timer.Stop()
	returned := 0
	var firstReturn amqp.Return
	for _, dc := range pc.dcs {
	wait:
		for {
			// A message's basic.return precedes its confirm: receive it
			// here, or the client's reader blocks before the confirm.
			select {
			case <-dc.Done():
				break wait
			case r, ok := <-pc.returns:
				if !ok {
					pc.returns = nil
					continue
				}
				if returned == 0 {
					firstReturn = r
				}
				returned++
			case <-timer.C:
				p.c.timeouts.Add(1)
				return fmt.Errorf("rabbitmq: no confirm for %d messages within %s (publish the batch again)", len(msgs), p.cfg.ConfirmTimeout)
			case <-ctx.Done():
				return ctx.Err()
			}
		}
	}
	if pc.ch.IsClosed() {
		// Confirms pending when a channel closes complete as nacks.
		return fmt.Errorf("rabbitmq: channel closed before every confirm arrived (publish the batch again): %w", p.closeReason(pc, amqp.ErrClosed))
	}
	nacked := 0
	for _, dc := range pc.dcs {
		if !dc.Acked() {
			nacked++
		}
	}
	if returned > 0 {
		p.c.returned.Add(int64(returned))
		return fmt.Errorf("rabbitmq: %d of %d messages were unroutable (%d %s): does queue %s exist? Declare the topology",
			returned, len(msgs), firstReturn.ReplyCode, firstReturn.ReplyText, p.cfg.Queue)
	}
	if nacked > 0 {
		p.c.nacked.Add(int64(nacked))
		return fmt.Errorf("rabbitmq: broker refused (nacked) %d of %d messages (publish the batch again)", nacked, len(msgs))
	}
	p.c.confirmed.Add(int64(len(msgs)))
	return nil
}

// closeReason returns the broker's reason for closing pc's channel if it
// sent one, else err.
func (p *Publisher) closeReason(pc *pubChannel, err error) error {
	select {
	case e, ok := <-pc.closes:
		if ok && e != nil {
			return e
		}
	default:
	}
	return err
}

// channel returns an idle channel of the current connection, or a new one,
// reconnecting first if the connection was lost.
func (p *Publisher) channel(ctx context.Context) (*pubChannel, error) {
	p.mu.Lock()
	for len(p.free) > 0 {
		pc := p.free[len(p.free)-1]
		p.free = p.free[:len(p.free)-1]
		if !pc.ch.IsClosed() {
			p.mu.Unlock()
			return pc, nil
		}
	}
	p.mu.Unlock()
	conn, err := p.connection(ctx)
	if err != nil {
		return nil, err
	}
	ch, err := conn.Channel()
	if err != nil {
		return nil, fmt.Errorf("rabbitmq: open a publisher channel (publish the batch again): %w", err)
	}
	if err := ch.Confirm(false); err != nil {
		ch.Close()
		return nil, fmt.Errorf("rabbitmq: put a channel in confirm mode (publish the batch again): %w", err)
	}
	p.c.channels.Add(1)
	return &pubChannel{
		conn: conn, ch: ch,
		returns: ch.NotifyReturn(make(chan amqp.Return)),
		closes:  ch.NotifyClose(make(chan *amqp.Error, 1)),
	}, nil
}

// connection returns the open connection, reconnecting if it was lost.
func (p *Publisher) connection(ctx context.Context) (*amqp.Connection, error) {
	select {
	case p.dialing <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-p.dialing }()
	p.mu.Lock()
	conn, closed := p.conn, p.closed
	p.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if !conn.IsClosed() {
		return conn, nil
	}
	conn, err := p.cfg.dialRetrying(ctx, "cqrsbench publisher", func(err error) {
		p.cfg.report(fmt.Errorf("rabbitmq publisher: reconnect: %w", err))
	})
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		conn.Close()
		return nil, ErrClosed
	}
	p.conn, p.free = conn, nil
	p.c.reconnects.Add(1)
	return conn, nil
}

// Close closes the channels and the connection. Publish calls in flight
// fail; later ones return ErrClosed.
func (p *Publisher) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	for _, pc := range p.free {
		pc.ch.Close()
	}
	p.free = nil
	if err := p.conn.Close(); err != nil && !errors.Is(err, amqp.ErrClosed) {
		return fmt.Errorf("rabbitmq: close publisher connection: %w", err)
	}
	return nil
}
