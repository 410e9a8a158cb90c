package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Delivery is one message handed to a Handler.
type Delivery struct {
	// Body is the message body (Message.Value).
	Body []byte
	// MessageID is the AMQP message-id (Message.ID).
	MessageID string
	// Key is Message.Key, from header HeaderKey.
	Key []byte
	// Headers are the message's headers, HeaderKey included; quorum queues
	// add x-delivery-count to redeliveries.
	Headers map[string]any
	// Redelivered is set when the broker delivered the message before
	// (to any consumer) without an acknowledgement: it may have been
	// processed already.
	Redelivered bool
	// Received is when the worker took the delivery from its channel.
	Received time.Time
}

// Handler processes one batch of deliveries and returns once its effects
// are committed. It returns the indices into batch of poison messages (to
// be dead-lettered, never redelivered) and nil, or an error to have the
// whole batch redelivered. An error matching ErrCrash simulates a crash of
// the worker: its channel closes without acknowledging anything, and the
// broker redelivers the batch and everything else the worker held. The
// handler must not keep batch after it returned; it should return soon
// after ctx is done.
type Handler func(ctx context.Context, batch []Delivery) (poison []int, err error)

// ErrCrash, returned (wrapped) by a Handler, simulates a consumer crash
// after the handler's work and before the acknowledgement.
var ErrCrash = errors.New("rabbitmq: simulated consumer crash")

// handlerRetryDelay is how long a worker waits after a handler error
// before taking deliveries again, so a failing database is not hammered
// with redeliveries.
const handlerRetryDelay = 200 * time.Millisecond

// ConsumerCounters are what a Consumer's workers did since NewConsumer.
type ConsumerCounters struct {
	// Delivered is messages received, redeliveries included.
	Delivered int64
	// Redelivered is messages received with the redelivered flag.
	Redelivered int64
	// Batches is Handler calls.
	Batches int64
	// Acked is messages acknowledged after their handler succeeded.
	Acked int64
	// Requeued is messages rejected for redelivery after a handler error
	// (a crash requeues without counting here).
	Requeued int64
	// DeadLettered is messages rejected as poison, to the dead-letter
	// exchange.
	DeadLettered int64
	// HandlerErrors is Handler calls that returned an error, crashes
	// included.
	HandlerErrors int64
	// Crashes is simulated crashes (handler errors matching ErrCrash).
	Crashes int64
	// ChannelErrors is consuming channels lost to a broker error or a lost
	// connection.
	ChannelErrors int64
	// Reconnects is connections opened after a worker's previous one was
	// lost.
	Reconnects int64
}

type consumerCounters struct {
	delivered, redelivered, batches, acked, requeued, deadLettered atomic.Int64
	handlerErrors, crashes, channelErrors, reconnects              atomic.Int64
}

// Consumer is a pool of Config.Workers competing consumers of the event
// queue, each with its own connection and channel.
type Consumer struct {
	cfg     Config
	handler Handler
	c       consumerCounters

	stopCtx    context.Context // done when Close begins
	stop       context.CancelFunc
	handlerCtx context.Context // done when Close gives up waiting
	abort      context.CancelFunc
	wg         sync.WaitGroup

	mu      sync.Mutex
	started bool
	pauses  int           // Pauses not yet matched by a Resume
	pauseC  chan struct{} // closed by the first Pause
	resumeC chan struct{} // closed by the Resume that ends the last Pause
	active  int           // workers consuming (they may hold deliveries)
	idle    chan struct{} // closed when a worker stops consuming
}

// NewConsumer returns a consumer pool that calls h; Start starts it.
func NewConsumer(cfg Config, h Handler) (*Consumer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("rabbitmq config: %w", err)
	}
	if h == nil {
		return nil, errors.New("rabbitmq: consumer handler is nil")
	}
	c := &Consumer{
		cfg: cfg.WithDefaults(), handler: h,
		pauseC: make(chan struct{}), resumeC: make(chan struct{}), idle: make(chan struct{}),
	}
	c.stopCtx, c.stop = context.WithCancel(context.Background())
	c.handlerCtx, c.abort = context.WithCancel(context.Background())
	return c, nil
}

// Config returns the configuration in use, defaults applied.
func (c *Consumer) Config() Config { return c.cfg }

// Counters returns what the workers did so far.
func (c *Consumer) Counters() ConsumerCounters {
	return ConsumerCounters{
		Delivered: c.c.delivered.Load(), Redelivered: c.c.redelivered.Load(), Batches: c.c.batches.Load(),
		Acked: c.c.acked.Load(), Requeued: c.c.requeued.Load(), DeadLettered: c.c.deadLettered.Load(),
		HandlerErrors: c.c.handlerErrors.Load(), Crashes: c.c.crashes.Load(),
		ChannelErrors: c.c.channelErrors.Load(), Reconnects: c.c.reconnects.Load(),
	}
}

// Start connects the workers and starts consuming. It fails if the broker
// cannot be reached or the queue does not exist; once started, workers
// reconnect by themselves after losing the broker, until Close.
func (c *Consumer) Start(ctx context.Context) error {
	c.mu.Lock()
	if c.started {
		c.mu.Unlock()
		return errors.New("rabbitmq: consumer started twice")
	}
	c.started = true
	c.mu.Unlock()
	conns := make([]*amqp.Connection, 0, c.cfg.Workers)
	closeAll := func() {
		for _, conn := range conns {
			conn.Close()
		}
	}
	for i := range c.cfg.Workers {
		conn, err := c.cfg.dial(ctx, fmt.Sprintf("cqrsbench consumer %d", i))
		if err != nil {
			closeAll()
			return err
		}
		conns = append(conns, conn)
	}
	if err := checkQueue(conns[0], c.cfg.Queue); err != nil {
		closeAll()
		return err
	}
	for i, conn := range conns {
		w := &worker{c: c, id: i, conn: conn}
		c.wg.Go(w.run)
	}
	return nil
}

// checkQueue fails with advice if queue does not exist.
func checkQueue(conn *amqp.Connection, queue string) error {
	ch, err := conn.Channel()
	if err != nil {
		return fmt.Errorf("rabbitmq: open channel: %w", err)
	}
	defer ch.Close()
	if _, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil); err != nil {
		return fmt.Errorf("rabbitmq: queue %s (declare the topology first): %w", queue, err)
	}
	return nil
}

// Pause stops consuming: each worker cancels its consumer, handles and
// acknowledges what it already received, and closes its channel. Pause
// returns once no worker holds a delivery; messages published meanwhile
// stay in the queue (a backlog) until Resume.
//
// Pauses nest: the workers consume again only once every Pause that
// returned nil has been matched by a Resume, so two parties (a catch-up
// measurement and a rebuild, say) can each hold the workers without one's
// Resume ending the other's pause. A Pause that returns an error holds
// nothing: do not Resume it.
func (c *Consumer) Pause(ctx context.Context) error {
	c.mu.Lock()
	c.pauses++
	if c.pauses == 1 {
		close(c.pauseC)
		c.resumeC = make(chan struct{})
	}
	c.mu.Unlock()
	if err := c.waitIdle(ctx); err != nil {
		_ = c.Resume() // cannot fail: this pause is held
		return err
	}
	return nil
}

// Resume ends one Pause; the workers consume again once no Pause holds
// them. It fails if no Pause is held.
func (c *Consumer) Resume() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.pauses == 0 {
		return errors.New("rabbitmq: Resume without a Pause")
	}
	c.pauses--
	if c.pauses == 0 {
		close(c.resumeC)
		c.pauseC = make(chan struct{})
	}
	return nil
}

// Paused reports whether a Pause holds the workers.
func (c *Consumer) Paused() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pauses > 0
}

// waitIdle returns once no worker consumes.
func (c *Consumer) waitIdle(ctx context.Context) error {
	for {
		c.mu.Lock()
		n, idle := c.active, c.idle
		c.mu.Unlock()
		if n == 0 {
			return nil
		}
		select {
		case <-idle:
		case <-ctx.Done():
			return fmt.Errorf("rabbitmq: wait for %d workers to stop consuming: %w", n, ctx.Err())
		}
	}
}

// Close stops the workers: each cancels its consumer, handles and
// acknowledges what it already received, closes its channel, then its
// connection (closing the connection right after the last
// acknowledgement can lose acknowledgements in flight; the channel's
// synchronous close cannot). If ctx ends first, the handlers' context is
// cancelled, failing batches are requeued, and Close waits for the workers
// to exit. Close is idempotent.
func (c *Consumer) Close(ctx context.Context) error {
	c.stop()
	done := make(chan struct{})
	go func() { c.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	c.abort()
	<-done
	return fmt.Errorf("rabbitmq: consumer close: handlers cancelled (their batches are redelivered): %w", ctx.Err())
}

// enter lets a worker start consuming unless paused (then it waits for
// Resume) or stopping (false). It returns the channel closed by the next
// Pause.
func (c *Consumer) enter() (<-chan struct{}, bool) {
	for {
		c.mu.Lock()
		if c.stopCtx.Err() != nil {
			c.mu.Unlock()
			return nil, false
		}
		if c.pauses == 0 {
			c.active++
			pauseC := c.pauseC
			c.mu.Unlock()
			return pauseC, true
		}
		resumeC := c.resumeC
		c.mu.Unlock()
		select {
		case <-resumeC:
		case <-c.stopCtx.Done():
		}
	}
}

// leave records that a worker stopped consuming.
func (c *Consumer) leave() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.active--
	close(c.idle)
	c.idle = make(chan struct{})
}

// worker is one competing consumer.
type worker struct {
	c        *Consumer
	id       int
	conn     *amqp.Connection
	sessions int

	batch []Delivery
	tags  []uint64
	bad   []bool
}

// run consumes in sessions (one channel each) until Close.
func (w *worker) run() {
	c := w.c
	defer func() { w.conn.Close() }()
	delay := firstReconnectDelay
	for {
		pauseC, ok := c.enter()
		if !ok {
			return
		}
		progressed, err := w.session(pauseC)
		c.leave()
		if err == nil {
			continue // paused or stopping
		}
		c.cfg.report(fmt.Errorf("rabbitmq consumer %d: %w", w.id, err))
		if progressed {
			delay = firstReconnectDelay
		}
		if errors.Is(err, ErrCrash) {
			continue // a restarted worker consumes at once
		}
		if w.conn.IsClosed() {
			conn, err := c.cfg.dialRetrying(c.stopCtx, fmt.Sprintf("cqrsbench consumer %d", w.id), func(err error) {
				c.cfg.report(fmt.Errorf("rabbitmq consumer %d: reconnect: %w", w.id, err))
			})
			if err != nil {
				return // stopping
			}
			w.conn = conn
			c.c.reconnects.Add(1)
			continue
		}
		// The channel failed on a live connection (say the queue was
		// deleted): wait before trying again.
		if !sleep(c.stopCtx, delay) {
			return
		}
		delay = min(2*delay, c.cfg.MaxReconnectDelay)
	}
}

// session consumes on a new channel until Pause or Close (it returns nil
// once the channel closed cleanly with nothing unacknowledged) or a
// failure. progressed reports whether a batch was acknowledged.
func (w *worker) session(pauseC <-chan struct{}) (progressed bool, err error) {
	c := w.c
	ch, err := w.conn.Channel()
	if err != nil {
		return false, fmt.Errorf("open channel: %w", err)
	}
	closes := ch.NotifyClose(make(chan *amqp.Error, 1))
	lost := func(what string, err error) error {
		c.c.channelErrors.Add(1)
		select {
		case e := <-closes:
			if e != nil {
				err = e
			}
		default:
		}
		ch.Close()
		return fmt.Errorf("%s (unacknowledged deliveries are redelivered): %w", what, err)
	}
	if err := ch.Qos(c.cfg.Prefetch, 0, false); err != nil {
		return false, lost("set prefetch", err)
	}
	w.sessions++
	tag := fmt.Sprintf("cqrsbench-w%d-s%d", w.id, w.sessions)
	deliveries, err := ch.Consume(c.cfg.Queue, tag, false, false, false, false, nil)
	if err != nil {
		return false, lost("consume queue "+c.cfg.Queue, err)
	}
	stopC := c.stopCtx.Done()
	cancelled := false
	// end finishes the session once deliveries is closed: cleanly after a
	// cancel (nothing is left unacknowledged), else the channel is lost.
	end := func() (bool, error) {
		if cancelled && !ch.IsClosed() {
			if err := ch.Close(); err != nil {
				return progressed, lost("close channel", err)
			}
			return progressed, nil
		}
		return progressed, lost("channel closed", amqp.ErrClosed)
	}
	for {
		var d amqp.Delivery
		ok := true
		if cancelled {
			d, ok = <-deliveries
		} else {
			select {
			case d, ok = <-deliveries:
			case <-pauseC:
				cancelled = true
			case <-stopC:
				cancelled = true
			}
			if cancelled {
				// The broker sends nothing after cancel-ok; the client then
				// hands over what it had buffered and closes deliveries.
				if err := ch.Cancel(tag, false); err != nil {
					return progressed, lost("cancel consumer", err)
				}
				continue
			}
		}
		if !ok {
			return end()
		}
		open := w.gather(d, deliveries)
		if ch.IsClosed() {
			return progressed, lost("channel closed", amqp.ErrClosed) // the broker requeued the batch
		}
		failed, err := w.handle(ch)
		switch {
		case errors.Is(err, ErrCrash):
			ch.Close() // nothing acknowledged: the broker redelivers
			return progressed, err
		case err != nil:
			return progressed, lost("acknowledge", err)
		case failed:
			sleep(c.stopCtx, handlerRetryDelay) // cut short by Close
		default:
			progressed = true
		}
		if !open {
			return end()
		}
	}
}

// gather starts a batch with first and adds the deliveries the client
// has buffered, up to Config.MaxBatch, without waiting for more. It
// reports false if deliveries was closed.
func (w *worker) gather(first amqp.Delivery, deliveries <-chan amqp.Delivery) bool {
	w.batch, w.tags = w.batch[:0], w.tags[:0]
	w.add(&first)
	yielded := false
	for len(w.batch) < w.c.cfg.MaxBatch {
		select {
		case d, ok := <-deliveries:
			if !ok {
				return false
			}
			w.add(&d)
			yielded = false
		default:
			if yielded {
				return true
			}
			// The client hands buffered deliveries over one at a time
			// from another goroutine: let it run once before concluding
			// that nothing is buffered.
			runtime.Gosched()
			yielded = true
		}
	}
	return true
}

// add appends d to the batch.
func (w *worker) add(d *amqp.Delivery) {
	key, _ := d.Headers[HeaderKey].(string)
	w.batch = append(w.batch, Delivery{
		Body: d.Body, MessageID: d.MessageId, Key: []byte(key), Headers: d.Headers,
		Redelivered: d.Redelivered, Received: time.Now(),
	})
	w.tags = append(w.tags, d.DeliveryTag)
	w.c.c.delivered.Add(1)
	if d.Redelivered {
		w.c.c.redelivered.Add(1)
	}
}

// handle runs the handler on the batch and settles it: on success it
// rejects the poison deliveries to the dead-letter exchange, then
// acknowledges the rest with one multiple ack (which settles every
// unsettled delivery up to its tag on this channel: the batch's, since
// batches are settled in order); on failure it requeues the whole batch
// with one multiple nack. failed reports a handler error; err an error
// matching ErrCrash (nothing was settled) or a failed acknowledgement.
func (w *worker) handle(ch *amqp.Channel) (failed bool, err error) {
	c, n := w.c, len(w.batch)
	c.c.batches.Add(1)
	poison, herr := c.handler(c.handlerCtx, w.batch)
	if herr == nil {
		herr = w.markPoison(poison)
	}
	last := w.tags[n-1]
	if herr != nil {
		c.c.handlerErrors.Add(1)
		if errors.Is(herr, ErrCrash) {
			c.c.crashes.Add(1)
			return true, fmt.Errorf("handler crashed holding %d deliveries: %w", n, herr)
		}
		c.cfg.report(fmt.Errorf("rabbitmq consumer %d: handler failed on %d deliveries (requeued): %w", w.id, n, herr))
		if err := ch.Nack(last, true, true); err != nil {
			return true, fmt.Errorf("requeue %d deliveries: %w", n, err)
		}
		c.c.requeued.Add(int64(n))
		return true, nil
	}
	good := -1
	dead := 0
	for i, bad := range w.bad {
		if !bad {
			good = i
			continue
		}
		// Before the multiple ack below, which would settle it too.
		if err := ch.Nack(w.tags[i], false, false); err != nil {
			return false, fmt.Errorf("dead-letter a delivery: %w", err)
		}
		dead++
		c.c.deadLettered.Add(1)
	}
	if good >= 0 {
		if err := ch.Ack(w.tags[good], true); err != nil {
			return false, fmt.Errorf("acknowledge %d deliveries: %w", n-dead, err)
		}
		c.c.acked.Add(int64(n - dead))
	}
	return false, nil
}

// markPoison sets w.bad from the handler's poison indices.
func (w *worker) markPoison(poison []int) error {
	w.bad = slices.Grow(w.bad[:0], len(w.batch))[:len(w.batch)]
	clear(w.bad)
	for _, i := range poison {
		if i < 0 || i >= len(w.batch) {
			return fmt.Errorf("handler returned poison index %d for a batch of %d", i, len(w.batch))
		}
		w.bad[i] = true
	}
	return nil
}
