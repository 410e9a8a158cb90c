package cqrsrabbitmq

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/pipeline"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/apply"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/rabbitmq"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/relay"
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

// System is the cqrs-rabbitmq architecture on one schema.
type System struct {
	// Orders executes the shop's commands with their outbox rows and
	// answers its screens from the flat read models (shop.Architecture).
	pipeline.Orders

	cfg     Config
	pool    *pgxpool.Pool
	run     *rabbitmq.Runner // queues, relays, workers
	applier *apply.Applier   // the workers'
	replay  *apply.Applier   // Rebuild's: no hooks, no observer

	// rebuilding counts the Rebuilds running: the read models are being
	// refilled, so WaitCaughtUp does not return meanwhile.
	rebuilding atomic.Int32
	// rebuild serializes Rebuilds: each truncates what the other replays.
	rebuild sync.Mutex
}

// New returns the architecture for cfg; the write model of cfg.Schema must
// be loaded (reference/datagen) before Setup. It connects to nothing yet.
func New(pool *pgxpool.Pool, cfg Config) (*System, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("%s config: %w", Name, err)
	}
	cfg = cfg.WithDefaults()
	cfg.AMQP.OnError = cfg.OnError
	orders, err := pipeline.NewOrders(pool, cfg.ReadPool, cfg.Schema, cfg.Observer)
	if err != nil {
		return nil, err
	}
	s := &System{Orders: orders, cfg: cfg, pool: pool}
	rc := cfg.Relay
	rc.Observer, rc.OnError = cfg.Observer, cfg.OnError
	var ah apply.Hooks
	rc.Hooks, rc.DuplicateFraction, ah = pipeline.WithFaultHooks(cfg.Hooks, rc.Hooks, rc.DuplicateFraction, apply.Hooks{})
	s.run, err = rabbitmq.NewRunner(pool, rabbitmq.RunnerConfig{Name: Name, Schema: cfg.Schema, AMQP: cfg.AMQP, Relay: rc,
		Handler: s.handle, EventID: func(m relay.Message) string { return eventID(m.Ref) }})
	if err != nil {
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
	return s, nil
}

// Name implements reference.System.
func (s *System) Name() string { return Name }

// Config returns the configuration in use, defaults applied.
func (s *System) Config() Config { return s.cfg }

// Start implements reference.System: the relays and the workers run under
// the System's own context until Close. Workers reconnect by themselves
// after the broker went away.
func (s *System) Start(ctx context.Context) error { return s.run.Start(ctx) }

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
	s.run.Handled(ids)
	return poison, nil
}

// WaitCaughtUp implements reference.System: it waits until the relays have
// published every outbox row committed before the call, then until a
// worker has applied every event published by then, and no Rebuild runs.
func (s *System) WaitCaughtUp(ctx context.Context) error {
	if err := s.run.WaitCaughtUp(ctx, func() bool { return s.rebuilding.Load() == 0 }); err != nil {
		return err
	}
	return s.Orders.WaitReplayed(ctx)
}

// PauseProjector implements reference.Pausable: the workers stop taking
// messages (acknowledging what they hold) until ResumeProjector. Pauses
// nest (a catch-up's and a Rebuild's may overlap).
func (s *System) PauseProjector(ctx context.Context) error { return s.run.PauseProjector(ctx) }

// ResumeProjector implements reference.Pausable: it ends one
// PauseProjector.
func (s *System) ResumeProjector() error { return s.run.ResumeProjector() }

// Backlog implements reference.Pausable: events published and not yet
// applied.
func (s *System) Backlog(ctx context.Context) (int64, error) { return s.run.Backlog(ctx) }

// poisonValue is an undecodable event: its order id is not a number.
const poisonValue = `{"type":"order_created","order_id":"not-a-number","version":1}`

// InjectPoison implements reference.Poisonable: one undecodable message
// on the queue, which a worker must dead-letter.
func (s *System) InjectPoison(ctx context.Context, n int) error {
	return s.run.InjectPoison(ctx, n, []byte(poisonValue))
}

// PipelineStats implements reference.Pipeline.
func (s *System) PipelineStats() reference.PipelineStats {
	r, a, c := s.run.Relay().Counters(), s.applier.Counters(), s.run.Consumer().Counters()
	// Rebuilds replay with their own applier: not in Applied.
	out := reference.PipelineStats{Relayed: r.Relayed, Published: r.Published, PublishedBytes: r.PublishedBytes, Delivered: c.Delivered,
		Applied: a.Applied, Duplicates: a.Duplicates, DeadLettered: c.DeadLettered, Errors: s.run.Errors()}
	out.Errors = append(out.Errors, reference.Happened(
		reference.ErrorCount{Where: "projector database", Count: a.DBErrors},
		reference.ErrorCount{Where: "projector retry (deadlock or serialization failure)", Count: a.Retries})...)
	return out
}

// Close implements reference.System: it stops the relays and the workers
// (acknowledging what they applied) and closes the broker connections. It
// drops nothing.
func (s *System) Close(ctx context.Context) error { return s.run.Close(ctx) }

func (s *System) report(err error) {
	if s.cfg.OnError != nil {
		s.cfg.OnError(err)
	}
}

// expand replaces {{schema}} in sql.
func (s *System) expand(sql string) string { return readmodel.Expand(sql, s.cfg.Schema) }
