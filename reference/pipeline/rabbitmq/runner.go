package rabbitmq

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/outbox"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/relay"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/track"
)

// recheckInterval bounds how long WaitCaughtUp waits between checks of
// what it is not notified about.
const recheckInterval = 100 * time.Millisecond

// RunnerConfig configures a Runner.
type RunnerConfig struct {
	// Name names the architecture in errors.
	Name string
	// Schema holds the outbox (package outbox).
	Schema string
	// AMQP is the broker, the queues and the workers.
	AMQP Config
	// Relay tunes the relays; the Runner sets Schema and Channel.
	Relay relay.Config
	// Handler applies the workers' batches; it calls Runner.Handled with
	// the ids of the events it applied (or found applied).
	Handler Handler
	// EventID identifies an event: its AMQP message-id, and its id in the
	// tracker WaitCaughtUp waits on.
	EventID func(relay.Message) string
}

// Runner is the RabbitMQ side of an outbox architecture: the queues, the
// relays publishing the outbox through a Publisher (each event tracked
// before it is first published, package track), the pool of competing
// consumers, and the wait until they caught up.
//
//	r, err := rabbitmq.NewRunner(pool, cfg)
//	err = r.Declare(ctx)          // in Setup: the queues afresh, the publisher
//	err = r.Start(ctx)            // relays and workers, until Close
//	r.Handled(ids)                // in the Handler, after its commit
//	err = r.WaitCaughtUp(ctx, nil)
//	err = r.Close(ctx)
type Runner struct {
	cfg   RunnerConfig
	pool  *pgxpool.Pool
	relay *relay.Relay
	cons  *Consumer
	track *track.Tracker
	maxID string

	mu       sync.Mutex // lifecycle: the fields below
	topo     *Topology
	pub      *Publisher
	cancel   context.CancelFunc
	relayEnd chan struct{}
	started  bool
	closed   bool
}

// NewRunner returns a Runner for the outbox of cfg.Schema on pool; it
// connects to nothing before Declare.
func NewRunner(pool *pgxpool.Pool, cfg RunnerConfig) (*Runner, error) {
	r := &Runner{cfg: cfg, pool: pool, track: track.New(), maxID: outbox.MaxIDSQL(cfg.Schema)}
	rc := cfg.Relay
	rc.Schema, rc.Channel = cfg.Schema, outbox.Channel(cfg.Schema)
	var err error
	if r.relay, err = relay.New(pool, tracked{r}, rc); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Name, err)
	}
	if r.cons, err = NewConsumer(cfg.AMQP, cfg.Handler); err != nil {
		return nil, fmt.Errorf("%s: %w", cfg.Name, err)
	}
	return r, nil
}

// Relay returns the relays.
func (r *Runner) Relay() *relay.Relay { return r.relay }

// Consumer returns the workers.
func (r *Runner) Consumer() *Consumer { return r.cons }

// Publisher returns the publisher; nil before Declare.
func (r *Runner) Publisher() *Publisher {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pub
}

// Declare deletes and declares the queues (with any messages left by an
// earlier run) and opens the publisher.
func (r *Runner) Declare(ctx context.Context) error {
	topo, err := OpenTopology(ctx, r.cfg.AMQP)
	if err != nil {
		return err
	}
	if err := errors.Join(topo.Delete(ctx), topo.Declare(ctx)); err != nil {
		_ = topo.Close()
		return err
	}
	pub, err := NewPublisher(ctx, r.cfg.AMQP)
	if err != nil {
		_ = topo.Close()
		return err
	}
	r.mu.Lock()
	r.topo, r.pub = topo, pub
	r.mu.Unlock()
	return nil
}

// Start starts the workers and the relays, which run under the Runner's
// own context until Close; workers reconnect by themselves after the
// broker went away.
func (r *Runner) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case r.closed:
		return fmt.Errorf("%s: Start after Close", r.cfg.Name)
	case r.started:
		return fmt.Errorf("%s: already started", r.cfg.Name)
	case r.pub == nil:
		return fmt.Errorf("%s: Start before Setup", r.cfg.Name)
	}
	if err := r.relay.Prepare(ctx); err != nil {
		return fmt.Errorf("%s: %w", r.cfg.Name, err)
	}
	if err := r.cons.Start(ctx); err != nil {
		return fmt.Errorf("%s: start the workers: %w", r.cfg.Name, err)
	}
	run, cancel := context.WithCancel(context.WithoutCancel(ctx))
	r.cancel, r.relayEnd, r.started = cancel, make(chan struct{}), true
	go func() {
		defer close(r.relayEnd)
		_ = r.relay.Run(run) // returns at cancel; failures are retried inside
	}()
	return nil
}

// tracked is the relays' Publisher: it tracks each event before it is
// first published.
type tracked struct{ r *Runner }

// Publish implements relay.Publisher.
func (t tracked) Publish(ctx context.Context, msgs []relay.Message) error {
	pub := t.r.Publisher()
	if pub == nil {
		return fmt.Errorf("%s: publish before Setup", t.r.cfg.Name)
	}
	out := make([]Message, len(msgs))
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = t.r.cfg.EventID(m)
		out[i] = Message{ID: ids[i], Key: m.Key, Value: m.Value}
	}
	t.r.track.Publishing(ids)
	return pub.Publish(ctx, out)
}

// Handled tells WaitCaughtUp that a worker applied (or found applied) the
// events ids (RunnerConfig.EventID).
func (r *Runner) Handled(ids []string) { r.track.Handled(ids) }

// Notify wakes WaitCaughtUp to check its ready condition again.
func (r *Runner) Notify() { r.track.Notify() }

// PauseProjector stops the workers taking messages (they acknowledge what
// they hold) until ResumeProjector (reference.Pausable). Pauses nest: the
// workers run again once each PauseProjector that succeeded has been
// matched by a ResumeProjector.
func (r *Runner) PauseProjector(ctx context.Context) error {
	if err := r.cons.Pause(ctx); err != nil {
		return fmt.Errorf("%s: pause the workers: %w", r.cfg.Name, err)
	}
	return nil
}

// ResumeProjector ends one PauseProjector.
func (r *Runner) ResumeProjector() error {
	if err := r.cons.Resume(); err != nil {
		return fmt.Errorf("%s: resume the workers: %w", r.cfg.Name, err)
	}
	return nil
}

// Backlog is the events published and not handled yet
// (reference.Pausable).
func (r *Runner) Backlog(context.Context) (int64, error) { return r.track.Backlog(), nil }

// InjectPoison publishes value, which must not decode as an event, for a
// worker to dead-letter; n tells injections apart (reference.Poisonable).
// It is not tracked: WaitCaughtUp does not wait for it.
func (r *Runner) InjectPoison(ctx context.Context, n int, value []byte) error {
	pub := r.Publisher()
	if pub == nil {
		return fmt.Errorf("%s: poison before Setup", r.cfg.Name)
	}
	key := strconv.Itoa(-n)
	return pub.Publish(ctx, []Message{{ID: "poison/" + key, Key: []byte(key), Value: value}})
}

// WaitCaughtUp waits until the relays have published every outbox row
// committed before the call, then until the workers have handled every
// event published by then and ready (nil: always) reports true.
func (r *Runner) WaitCaughtUp(ctx context.Context, ready func() bool) error {
	var maxID int64
	if err := r.pool.QueryRow(ctx, r.maxID).Scan(&maxID); err != nil {
		return fmt.Errorf("%s: wait caught up: read the outbox: %w", r.cfg.Name, err)
	}
	if err := r.relay.WaitPublished(ctx, maxID); err != nil {
		return fmt.Errorf("%s: wait caught up: %w", r.cfg.Name, err)
	}
	if err := r.track.Wait(ctx, r.track.Mark(), ready, recheckInterval); err != nil {
		return fmt.Errorf("%s: wait caught up: %w", r.cfg.Name, err)
	}
	return nil
}

// Errors counts the errors the relays, the publisher and the workers
// recovered from, by where (those that happened), the simulated crashes
// apart.
func (r *Runner) Errors() []reference.ErrorCount {
	rc, c := r.relay.Counters(), r.cons.Counters()
	var p PublisherCounters
	if pub := r.Publisher(); pub != nil {
		p = pub.Counters()
	}
	return reference.Happened(append(rc.Errors(), []reference.ErrorCount{
		{Where: "publish nacked", Count: p.Nacked},
		{Where: "publish unroutable", Count: p.Returned},
		{Where: "publish confirm timeout", Count: p.Timeouts},
		{Where: "publisher reconnect", Count: p.Reconnects},
		{Where: "worker handler error (redelivered)", Count: c.HandlerErrors - c.Crashes},
		{Where: "worker crash (injected)", Count: c.Crashes},
		{Where: "worker channel lost", Count: c.ChannelErrors},
		{Where: "worker reconnect", Count: c.Reconnects},
	}...)...)
}

// Close stops the relays and the workers (acknowledging what they
// applied) and closes the broker connections. It drops nothing.
func (r *Runner) Close(ctx context.Context) error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil
	}
	r.closed = true
	cancel, relayEnd, started, pub, topo := r.cancel, r.relayEnd, r.started, r.pub, r.topo
	r.mu.Unlock()
	var errs []error
	if cancel != nil {
		cancel()
		select {
		case <-relayEnd:
			errs = append(errs, r.relay.Drop(ctx))
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("relays still stopping: %w", ctx.Err()))
		}
	}
	if started {
		errs = append(errs, wrap("close the workers", r.cons.Close(ctx)))
	}
	if pub != nil {
		errs = append(errs, wrap("close the publisher", pub.Close()))
	}
	if topo != nil {
		errs = append(errs, wrap("close the topology connection", topo.Close()))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: close: %w", r.cfg.Name, err)
	}
	return nil
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
