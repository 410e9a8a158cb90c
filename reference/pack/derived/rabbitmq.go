package derived

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/pack"
	"github.com/cqrsbench/cqrsbench/reference/pipeline"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/apply"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/rabbitmq"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/relay"
)

// RabbitMQConfig configures the cqrs-rabbitmq architecture of a pack.
type RabbitMQConfig struct {
	// AMQP is the broker and the queue, workers and prefetch
	// (rabbitmq.Config; each field's default there). URL is required; its
	// OnError is the architecture's.
	AMQP rabbitmq.Config
	// Relay tunes the relays (relay.Config; Schema, Channel and OnError
	// are the architecture's).
	Relay relay.Config
	// Observer receives every event's stage timestamps (event.Ref: the
	// outbox's aggregate_id and the key's version); nil: none.
	Observer event.Observer
	// NoVersionGuard applies every event, however old (a negative control:
	// an event delivered after a newer one of its key moves the row back).
	NoVersionGuard bool
	// OnError is told about errors the relays and workers recover from;
	// nil: they are only counted.
	OnError func(error)
	// Hooks are the fault-injection points: the relay's (a crash after
	// the broker's confirm, duplicate publishes) and the workers' (a crash
	// before their commit, rolled back and redelivered; after it, before
	// the acknowledgement, redelivered and skipped by the version guard).
	Hooks reference.Hooks
}

// RabbitMQ is the cqrs-rabbitmq architecture of a pack: commands write
// event-carried state to an outbox, relays publish it to a RabbitMQ quorum
// queue, competing workers apply it to a table per read model under a
// per-key version guard.
type RabbitMQ struct {
	carried
	run *rabbitmq.Runner // queues, relays, workers
}

var (
	_ pack.Executor        = (*RabbitMQ)(nil)
	_ pack.Verifier        = (*RabbitMQ)(nil)
	_ reference.Pipeline   = (*RabbitMQ)(nil)
	_ reference.Pausable   = (*RabbitMQ)(nil)
	_ reference.Poisonable = (*RabbitMQ)(nil)
)

// NewRabbitMQ returns pack p's cqrs-rabbitmq architecture, named name, on
// schema (whose write model p loaded). It connects to the broker in Setup.
func NewRabbitMQ(ctx context.Context, name string, pool *pgxpool.Pool, schema string, p *pack.Pack, cfg RabbitMQConfig) (*RabbitMQ, error) {
	cfg.AMQP.OnError = cfg.OnError
	if err := cfg.AMQP.Validate(); err != nil {
		return nil, fmt.Errorf("%s: amqp: %w", name, err)
	}
	cfg.AMQP = cfg.AMQP.WithDefaults()
	b, err := newBase(ctx, name, pool, schema, p)
	if err != nil {
		return nil, err
	}
	s := &RabbitMQ{carried: newCarried(b, carriedConfig{observer: cfg.Observer, noGuard: cfg.NoVersionGuard,
		hooks: cfg.Hooks, onError: cfg.OnError})}
	rc := cfg.Relay
	rc.OnError, rc.Observer = cfg.OnError, cfg.Observer
	rc.Hooks, rc.DuplicateFraction, _ = pipeline.WithFaultHooks(cfg.Hooks, rc.Hooks, rc.DuplicateFraction, apply.Hooks{})
	s.run, err = rabbitmq.NewRunner(b.pool, rabbitmq.RunnerConfig{Name: name, Schema: schema, AMQP: cfg.AMQP, Relay: rc,
		Handler: s.handle, EventID: func(m relay.Message) string { return strconv.FormatInt(m.ID, 10) }})
	if err != nil {
		b.pool.Close()
		return nil, err
	}
	return s, nil
}

// Setup implements reference.System: each read model becomes a table with
// the projection's columns and a primary key on its key, filled from the
// write model; the key-version table (write side), the applied-version
// table (read side) and the outbox, with its relays' wake-up trigger, are
// created; the queues are declared afresh (any left by an earlier run are
// deleted with their messages).
func (s *RabbitMQ) Setup(ctx context.Context) error {
	if err := s.setup(ctx); err != nil {
		return err
	}
	if err := s.run.Declare(ctx); err != nil {
		return fmt.Errorf("%s setup: queues: %w", s.name, err)
	}
	return s.replayed(ctx)
}

// Start implements reference.System: the relays and the workers run under
// the architecture's own context until Close.
func (s *RabbitMQ) Start(ctx context.Context) error { return s.run.Start(ctx) }

// handle is the workers' Handler: decode, apply in one transaction, and
// only then let the consumer acknowledge. Poison is dead-lettered.
func (s *RabbitMQ) handle(ctx context.Context, batch []rabbitmq.Delivery) ([]int, error) {
	if len(batch) == 0 {
		return nil, nil
	}
	poison, err := s.carried.handle(ctx, len(batch), func(i int) []byte { return batch[i].Body },
		func(i int) string { return batch[i].MessageID }, batch[0].Received)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(batch))
	for i := range batch {
		ids[i] = batch[i].MessageID
	}
	s.run.Handled(ids)
	idx := make([]int, len(poison))
	for i, p := range poison {
		idx[i] = p.i
	}
	return idx, nil
}

// WaitCaughtUp implements reference.System: it waits until the relays have
// published every outbox event committed before the call, then until a
// worker has applied (or skipped as old) every event published by then,
// and a replica the screens read has replayed that.
func (s *RabbitMQ) WaitCaughtUp(ctx context.Context) error {
	return s.afterReplay(ctx, s.run.WaitCaughtUp(ctx, nil))
}

// PauseProjector implements reference.Pausable: the workers stop taking
// messages until ResumeProjector; pauses nest.
func (s *RabbitMQ) PauseProjector(ctx context.Context) error { return s.run.PauseProjector(ctx) }

// ResumeProjector implements reference.Pausable: it ends one
// PauseProjector.
func (s *RabbitMQ) ResumeProjector() error { return s.run.ResumeProjector() }

// Backlog implements reference.Pausable: events published and not yet
// handled.
func (s *RabbitMQ) Backlog(ctx context.Context) (int64, error) { return s.run.Backlog(ctx) }

// InjectPoison implements reference.Poisonable: one undecodable message
// on the queue, which a worker must dead-letter.
func (s *RabbitMQ) InjectPoison(ctx context.Context, n int) error {
	return s.run.InjectPoison(ctx, n, []byte(poisonValue))
}

// PipelineStats implements reference.Pipeline. Duplicates are events the
// version guard skipped: delivered again, or older than one applied.
func (s *RabbitMQ) PipelineStats() reference.PipelineStats {
	r, c := s.run.Relay().Counters(), s.run.Consumer().Counters()
	return reference.PipelineStats{Relayed: r.Relayed, Published: r.Published, PublishedBytes: r.PublishedBytes, Delivered: c.Delivered,
		Applied: s.applied.Load(), Duplicates: s.skipped.Load(), DeadLettered: c.DeadLettered, Errors: s.run.Errors()}
}

// Close implements reference.System: it stops the relays and the workers
// (acknowledging what they applied), closes the broker connections and
// the pools. It drops nothing.
func (s *RabbitMQ) Close(ctx context.Context) error {
	return errors.Join(s.run.Close(ctx), s.base.Close(ctx))
}
