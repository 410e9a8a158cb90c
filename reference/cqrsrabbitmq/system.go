package cqrsrabbitmq

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/pipeline"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/apply"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/outbox"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/rabbitmq"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/relay"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/track"
	"github.com/cqrsbench/cqrsbench/reference/readmodel"
)

// What cqrs-rabbitmq offers the harness besides reference.System.
var (
	_ reference.System      = (*System)(nil)
	_ reference.Pipeline    = (*System)(nil)
	_ reference.Pausable    = (*System)(nil)
	_ reference.Rebuildable = (*System)(nil)
	_ reference.Poisonable  = (*System)(nil)
	_ reference.TxExecutor  = (*System)(nil)
)

// recheckInterval bounds how long WaitCaughtUp waits between checks of
// what it is not notified about.
const recheckInterval = 100 * time.Millisecond

// System is the cqrs-rabbitmq architecture on one schema.
type System struct {
	// Orders executes the shop's commands with their outbox rows and
	// answers its screens from the flat read models (shop.Architecture).
	pipeline.Orders

	cfg     Config
	pool    *pgxpool.Pool
	maxID   string
	track   *track.Tracker
	relay   *relay.Relay
	applier *apply.Applier // the workers'
	replay  *apply.Applier // Rebuild's: no hooks, no observer
	cons    *rabbitmq.Consumer

	// rebuilding counts the Rebuilds running: the read models are being
	// refilled, so WaitCaughtUp does not return meanwhile.
	rebuilding atomic.Int32
	// rebuild serializes Rebuilds: each truncates what the other replays.
	rebuild sync.Mutex

	mu       sync.Mutex // lifecycle: the fields below
	topo     *rabbitmq.Topology
	pub      *rabbitmq.Publisher
	cancel   context.CancelFunc
	relayEnd chan struct{}
	started  bool
	closed   bool
}

// New returns the architecture for cfg; the write model of cfg.Schema must
// be loaded (reference/datagen) before Setup. It connects to nothing yet.
func New(pool *pgxpool.Pool, cfg Config) (*System, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s config: %w", Name, err)
	}
	cfg = cfg.WithDefaults()
	cfg.AMQP.OnError = cfg.OnError
	orders, err := pipeline.NewOrders(pool, cfg.Schema, cfg.Observer)
	if err != nil {
		return nil, err
	}
	s := &System{Orders: orders, cfg: cfg, pool: pool,
		maxID: outbox.MaxIDSQL(cfg.Schema), track: track.New()}
	rc := cfg.Relay
	rc.Schema, rc.Channel, rc.Observer, rc.OnError = cfg.Schema, outbox.Channel(cfg.Schema), cfg.Observer, cfg.OnError
	var ah apply.Hooks
	rc.Hooks, rc.DuplicateFraction, ah = pipeline.WithFaultHooks(cfg.Hooks, rc.Hooks, rc.DuplicateFraction, apply.Hooks{})
	if s.relay, err = relay.New(pool, publisher{s}, rc); err != nil {
		return nil, err
	}
	ac := apply.Config{Schema: cfg.Schema, Consumer: cfg.Consumer, DisableInbox: cfg.DisableInbox,
		DisableVersionGuard: cfg.DisableVersionGuard, Hooks: ah, Observer: cfg.Observer}
	if s.applier, err = apply.New(ac); err != nil {
		return nil, err
	}
	ac.Hooks, ac.Observer = apply.Hooks{}, nil
	if s.replay, err = apply.New(ac); err != nil {
		return nil, err
	}
	if s.cons, err = rabbitmq.NewConsumer(cfg.AMQP, s.handle); err != nil {
		return nil, err
	}
	return s, nil
}

// Name implements reference.System.
func (s *System) Name() string { return Name }

// Config returns the configuration in use, defaults applied.
func (s *System) Config() Config { return s.cfg }

// Start implements reference.System: the relays and the workers run under
// the System's own context until Close. Workers reconnect by themselves
// after the broker went away.
func (s *System) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return fmt.Errorf("%s: Start after Close", Name)
	case s.started:
		return fmt.Errorf("%s: already started", Name)
	case s.pub == nil:
		return fmt.Errorf("%s: Start before Setup", Name)
	}
	if err := s.cons.Start(ctx); err != nil {
		return fmt.Errorf("%s: start the workers: %w", Name, err)
	}
	run, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel, s.relayEnd, s.started = cancel, make(chan struct{}), true
	go func() {
		defer close(s.relayEnd)
		_ = s.relay.Run(run) // returns at cancel; failures are retried inside
	}()
	return nil
}

// publisher adapts the RabbitMQ publisher to the relay: each event is
// tracked before it is first published (package track).
type publisher struct{ s *System }

// Publish implements relay.Publisher.
func (p publisher) Publish(ctx context.Context, msgs []relay.Message) error {
	p.s.mu.Lock()
	pub := p.s.pub
	p.s.mu.Unlock()
	if pub == nil {
		return fmt.Errorf("%s: publish before Setup", Name)
	}
	out := make([]rabbitmq.Message, len(msgs))
	ids := make([]string, len(msgs))
	for i, m := range msgs {
		ids[i] = eventID(m.Ref)
		out[i] = rabbitmq.Message{ID: ids[i], Key: m.Key, Value: m.Value}
	}
	p.s.track.Publishing(ids)
	return pub.Publish(ctx, out)
}

// handle is the workers' Handler: decode, apply in one transaction, and
// only then let the consumer acknowledge.
func (s *System) handle(ctx context.Context, batch []rabbitmq.Delivery) ([]int, error) {
	events := make([]event.OrderEvent, 0, len(batch))
	var poison []int
	for i := range batch {
		var e event.OrderEvent
		if err := event.Decode(batch[i].Body, &e); err != nil {
			poison = append(poison, i)
			s.report(fmt.Errorf("%s: dead-letter message %q: %w", Name, batch[i].MessageID, err))
			continue
		}
		events = append(events, e)
	}
	if obs := s.cfg.Observer; obs != nil && len(events) > 0 {
		refs := make([]event.Ref, len(events))
		for i := range events {
			refs[i] = events[i].Ref()
		}
		obs.Observe(event.StageDelivered, batch[0].Received, refs)
	}
	if len(events) == 0 {
		return poison, nil
	}
	if _, err := s.applier.Apply(ctx, s.pool, events); err != nil {
		if errors.Is(err, apply.ErrCrash) {
			return nil, fmt.Errorf("%w: %w", rabbitmq.ErrCrash, err)
		}
		return nil, fmt.Errorf("%s: apply %d events: %w", Name, len(events), err)
	}
	ids := make([]string, len(events))
	for i := range events {
		ids[i] = eventID(events[i].Ref())
	}
	s.track.Handled(ids)
	return poison, nil
}

// WaitCaughtUp implements reference.System: it waits until the relays have
// published every outbox row committed before the call, then until a
// worker has applied every event published by then.
func (s *System) WaitCaughtUp(ctx context.Context) error {
	var maxID int64
	if err := s.pool.QueryRow(ctx, s.maxID).Scan(&maxID); err != nil {
		return fmt.Errorf("%s: wait caught up: read the outbox: %w", Name, err)
	}
	if err := s.relay.WaitPublished(ctx, maxID); err != nil {
		return fmt.Errorf("%s: wait caught up: %w", Name, err)
	}
	ready := func() bool { return s.rebuilding.Load() == 0 }
	if err := s.track.Wait(ctx, s.track.Mark(), ready, recheckInterval); err != nil {
		return fmt.Errorf("%s: wait caught up: %w", Name, err)
	}
	return nil
}

// PauseProjector implements reference.Pausable: the workers stop taking
// messages (acknowledging what they hold) until ResumeProjector. Pauses
// nest (a catch-up's and a Rebuild's may overlap): the workers run again
// once each PauseProjector that succeeded has been matched by a
// ResumeProjector.
func (s *System) PauseProjector(ctx context.Context) error {
	if err := s.cons.Pause(ctx); err != nil {
		return fmt.Errorf("%s: pause the workers: %w", Name, err)
	}
	return nil
}

// ResumeProjector implements reference.Pausable: it ends one
// PauseProjector.
func (s *System) ResumeProjector() error {
	if err := s.cons.Resume(); err != nil {
		return fmt.Errorf("%s: resume the workers: %w", Name, err)
	}
	return nil
}

// Backlog implements reference.Pausable: events published and not yet
// applied.
func (s *System) Backlog(context.Context) (int64, error) { return s.track.Backlog(), nil }

// poisonValue is an undecodable event: its order id is not a number.
const poisonValue = `{"type":"order_created","order_id":"not-a-number","version":1}`

// InjectPoison implements reference.Poisonable: one undecodable message
// on the queue, which a worker must dead-letter.
func (s *System) InjectPoison(ctx context.Context, n int) error {
	s.mu.Lock()
	pub := s.pub
	s.mu.Unlock()
	if pub == nil {
		return fmt.Errorf("%s: poison before Setup", Name)
	}
	key := strconv.Itoa(-n)
	return pub.Publish(ctx, []rabbitmq.Message{{ID: "poison/" + key, Key: []byte(key), Value: []byte(poisonValue)}})
}

// PipelineStats implements reference.Pipeline.
func (s *System) PipelineStats() reference.PipelineStats {
	r, a, c := s.relay.Counters(), s.applier.Counters(), s.cons.Counters()
	var p rabbitmq.PublisherCounters
	s.mu.Lock()
	if s.pub != nil {
		p = s.pub.Counters()
	}
	s.mu.Unlock()
	out := reference.PipelineStats{Relayed: r.Relayed, Published: r.Published, Delivered: c.Delivered,
		Applied: a.Applied, Duplicates: a.Duplicates, DeadLettered: c.DeadLettered}
	// Rebuilds replay with their own applier: not in Applied.
	for _, e := range []reference.ErrorCount{
		{Where: "relay database", Count: r.DBErrors},
		{Where: "publish", Count: r.PublishErrors},
		{Where: "relay retry (batch published again)", Count: r.Retries},
		{Where: "relay crash (injected)", Count: r.Crashes},
		{Where: "publish nacked", Count: p.Nacked},
		{Where: "publish unroutable", Count: p.Returned},
		{Where: "publish confirm timeout", Count: p.Timeouts},
		{Where: "publisher reconnect", Count: p.Reconnects},
		{Where: "worker handler error (redelivered)", Count: c.HandlerErrors - c.Crashes},
		{Where: "worker crash (injected)", Count: c.Crashes},
		{Where: "worker channel lost", Count: c.ChannelErrors},
		{Where: "worker reconnect", Count: c.Reconnects},
		{Where: "projector database", Count: a.DBErrors},
		{Where: "projector retry (deadlock or serialization failure)", Count: a.Retries},
	} {
		if e.Count > 0 {
			out.Errors = append(out.Errors, e)
		}
	}
	return out
}

// Close implements reference.System: it stops the relays and the workers
// (acknowledging what they applied) and closes the broker connections. It
// drops nothing.
func (s *System) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	cancel, relayEnd, started := s.cancel, s.relayEnd, s.started
	pub, topo := s.pub, s.topo
	s.mu.Unlock()
	var errs []error
	if cancel != nil {
		cancel()
		select {
		case <-relayEnd:
		case <-ctx.Done():
			errs = append(errs, fmt.Errorf("relays still stopping: %w", ctx.Err()))
		}
	}
	if started {
		errs = append(errs, wrap("close the workers", s.cons.Close(ctx)))
	}
	if pub != nil {
		errs = append(errs, wrap("close the publisher", pub.Close()))
	}
	if topo != nil {
		errs = append(errs, wrap("close the topology connection", topo.Close()))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%s: close: %w", Name, err)
	}
	return nil
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

func (s *System) report(err error) {
	if s.cfg.OnError != nil {
		s.cfg.OnError(err)
	}
}

// expand replaces {{schema}} in sql.
func (s *System) expand(sql string) string { return readmodel.Expand(sql, s.cfg.Schema) }
