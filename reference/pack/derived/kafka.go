package derived

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/cqrskafka"
	"github.com/cqrsbench/cqrsbench/reference/cqrskafka/projector"
	"github.com/cqrsbench/cqrsbench/reference/pack"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/apply"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
)

// KafkaConfig configures the cqrs-kafka architecture of a pack.
type KafkaConfig struct {
	// Kafka is the brokers, the topics, the consumer group, the relays and
	// the projector's poll size (cqrskafka.Config; each field's default
	// there). Brokers are required. Schema, Observer, OnError and Hooks
	// are the architecture's; Consumer and the projector's inbox, version
	// guard and hooks are the shop's projection core's, which the pack's
	// projector does not use. Topic and Group default to names of the
	// schema (KafkaTopic, KafkaGroup), so runs on different schemas do not
	// share them.
	Kafka cqrskafka.Config
	// Observer receives every event's stage timestamps (event.Ref: the
	// outbox's aggregate_id and the key's version); nil: none.
	Observer event.Observer
	// NoVersionGuard applies every event, however old (a negative control:
	// an event delivered again after a newer one of its key moves the row
	// back).
	NoVersionGuard bool
	// OnError is told about errors the relays and the projector recover
	// from; nil: they are only counted.
	OnError func(error)
	// Hooks are the fault-injection points: the relay's (a crash after
	// Kafka's acknowledgement, duplicate publishes) and the projector's (a
	// crash before its commit, rolled back; after it, before the offsets'
	// commit, delivered again and skipped by the version guard). A crash
	// leaves the consumer group without committing, and the projector
	// rejoins it, as a restarted process would.
	Hooks reference.Hooks
}

// KafkaTopic is the default topic of the pack's cqrs-kafka on schema.
func KafkaTopic(schema string) string { return "cqrsbench." + schema + ".key-events" }

// KafkaGroup is the default consumer group of the pack's cqrs-kafka on
// schema.
func KafkaGroup(schema string) string { return "cqrsbench." + schema + ".read-model" }

// Kafka is the cqrs-kafka architecture of a pack: commands write
// event-carried state to an outbox, relays publish it to a Kafka topic
// keyed by read-model key, and a consumer-group projector applies each
// poll to a table per read model under a per-key version guard, committing
// the offsets after the database.
type Kafka struct {
	carried
	run *cqrskafka.Runner // topics, relays, projector
}

var (
	_ pack.Executor        = (*Kafka)(nil)
	_ pack.Verifier        = (*Kafka)(nil)
	_ reference.Pipeline   = (*Kafka)(nil)
	_ reference.Pausable   = (*Kafka)(nil)
	_ reference.Poisonable = (*Kafka)(nil)
)

// NewKafka returns pack p's cqrs-kafka architecture, named name, on
// schema (whose write model p loaded). It connects to Kafka in Setup.
func NewKafka(ctx context.Context, name string, pool *pgxpool.Pool, schema string, p *pack.Pack, cfg KafkaConfig) (*Kafka, error) {
	kc := cfg.Kafka
	kc.Schema, kc.Observer, kc.OnError, kc.Hooks = schema, cfg.Observer, cfg.OnError, cfg.Hooks
	if kc.Topic == "" {
		kc.Topic = KafkaTopic(schema)
	}
	if kc.Group == "" {
		kc.Group = KafkaGroup(schema)
	}
	b, err := newBase(ctx, name, pool, schema, p)
	if err != nil {
		return nil, err
	}
	s := &Kafka{carried: newCarried(b, carriedConfig{observer: cfg.Observer, noGuard: cfg.NoVersionGuard,
		hooks: cfg.Hooks, onError: cfg.OnError, crash: apply.ErrCrash})}
	if s.run, err = cqrskafka.NewRunner(b.pool, kc, s.handle); err != nil {
		b.pool.Close()
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return s, nil
}

// Setup implements reference.System: the tables as cqrs-rabbitmq's
// (each read model filled from the write model, the version tables, the
// outbox), then the topic and its dead-letter topic, created or emptied,
// and the consumer group's offsets at their end.
func (s *Kafka) Setup(ctx context.Context) error {
	if err := s.setup(ctx); err != nil {
		return err
	}
	if err := s.run.CreateTopics(ctx); err != nil {
		return fmt.Errorf("%s setup: %w", s.name, err)
	}
	return s.replayed(ctx)
}

// Start implements reference.System: the relays and the projector run
// under the architecture's own context until Close; a projector that
// crashes (a hook) or fails rejoins the group.
func (s *Kafka) Start(ctx context.Context) error { return s.run.Start(ctx) }

// handle is the projector's Handler: decode, apply in one transaction;
// the projector dead-letters the poison and commits the offsets after.
func (s *Kafka) handle(ctx context.Context, recs []*kgo.Record) ([]projector.Dead, error) {
	if len(recs) == 0 {
		return nil, nil
	}
	poison, err := s.carried.handle(ctx, len(recs), func(i int) []byte { return recs[i].Value },
		func(i int) string {
			return recs[i].Topic + "/" + strconv.Itoa(int(recs[i].Partition)) + "/" + strconv.FormatInt(recs[i].Offset, 10)
		}, time.Now())
	if err != nil {
		return nil, err
	}
	dead := make([]projector.Dead, len(poison))
	for i, p := range poison {
		dead[i] = projector.Dead{Record: recs[p.i], Reason: p.err}
	}
	return dead, nil
}

// WaitCaughtUp implements reference.System: it waits until the relays have
// published every outbox event committed before the call, then until the
// projector has applied (or skipped as old) every record on the topic by
// then, and a replica the screens read has replayed that.
func (s *Kafka) WaitCaughtUp(ctx context.Context) error {
	return s.afterReplay(ctx, s.run.WaitCaughtUp(ctx))
}

// PauseProjector implements reference.Pausable: the projector leaves the
// group (committing what it applied) until ResumeProjector; pauses nest.
func (s *Kafka) PauseProjector(ctx context.Context) error { return s.run.PauseProjector(ctx) }

// ResumeProjector implements reference.Pausable: it ends one
// PauseProjector.
func (s *Kafka) ResumeProjector() error { return s.run.ResumeProjector() }

// Backlog implements reference.Pausable: records on the topic not yet
// applied.
func (s *Kafka) Backlog(ctx context.Context) (int64, error) { return s.run.Backlog(ctx) }

// InjectPoison implements reference.Poisonable: one undecodable record on
// the topic, which the projector must dead-letter.
func (s *Kafka) InjectPoison(ctx context.Context, n int) error {
	return s.run.Poison(ctx, n, []byte(poisonValue))
}

// PipelineStats implements reference.Pipeline. Duplicates are events the
// version guard skipped: delivered again, or older than one applied.
func (s *Kafka) PipelineStats() reference.PipelineStats {
	r, p := s.run.Relay().Counters(), s.run.Projector().Counters()
	return reference.PipelineStats{Relayed: r.Relayed, Published: r.Published, PublishedBytes: r.PublishedBytes, Delivered: p.Delivered,
		Applied: s.applied.Load(), Duplicates: s.skipped.Load(), DeadLettered: p.DeadLettered, Errors: s.run.Errors()}
}

// Close implements reference.System: it stops the relays and the
// projector (committing the offsets of what it applied), closes the Kafka
// clients and the pools. It drops nothing.
func (s *Kafka) Close(ctx context.Context) error {
	return errors.Join(s.run.Close(ctx), s.base.Close(ctx))
}
