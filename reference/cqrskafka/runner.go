package cqrskafka

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/cqrskafka/projector"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/apply"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/outbox"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/relay"
)

// Runner is the Kafka side of an outbox architecture: the topic and its
// dead-letter topic, the relays publishing the outbox to the topic, the
// projector (a consumer-group member, restarted when it crashes or fails)
// with its Handler, pausing it, and the wait until it caught up. The
// shop's System runs on one with the projection core; the derived
// cqrs-kafka of a workload pack (reference/pack/derived) on one with its
// own Handler.
//
//	r, err := cqrskafka.NewRunner(pool, cfg, handler)
//	err = r.CreateTopics(ctx)     // in Setup: the topics afresh, the group at their end
//	err = r.Start(ctx)            // relays and projector, until Close
//	err = r.WaitCaughtUp(ctx)
//	err = r.Close(ctx)
type Runner struct {
	cfg      Config
	pool     *pgxpool.Pool
	maxIDSQL string

	// rebuildEpoch counts Rebuild's starts and ends: odd while one runs.
	// The group's committed offsets and the projector's positions are
	// rewound meanwhile, so a wait must not trust what it read before.
	rebuildEpoch atomic.Int64

	producer *kgo.Client // relays and the snapshot
	admin    *kgo.Client
	adm      *kadm.Client
	relay    *relay.Relay
	proj     *projector.Projector

	mu         sync.Mutex // lifecycle: the fields below
	ctx        context.Context
	cancel     context.CancelFunc
	relayDone  chan struct{}
	projCancel context.CancelFunc // nil while the projector is stopped
	projDone   chan struct{}      // the last projector's: closed once it stopped
	pauses     int                // PauseProjectors not yet resumed
	rebuild    rebuildPhase
	rebuildEnd chan struct{} // closed when the running Rebuild ends
	closed     bool
}

// NewRunner returns the Runner of cfg, whose projector applies its polls
// with h (nil: the shop's projection core, configured by cfg.Projector).
// It connects to nothing yet; Close releases the Kafka clients, and the
// pool, which holds the outbox (and, without h, the read models), stays
// the caller's.
func NewRunner(pool *pgxpool.Pool, cfg Config, h projector.Handler) (*Runner, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("cqrs-kafka config: %w", err)
	}
	cfg = cfg.WithDefaults()
	s := &Runner{cfg: cfg, pool: pool, maxIDSQL: outbox.MaxIDSQL(cfg.Schema)}
	base := cfg.ClientOptions()
	delivery := cmp.Or(cfg.Relay.DeliveryTimeout, DefaultDeliveryTimeout)
	var err error
	if s.producer, err = kgo.NewClient(append(base, kgo.RecordDeliveryTimeout(max(delivery, time.Second)))...); err != nil {
		return nil, fmt.Errorf("cqrs-kafka: kafka producer: %w", err)
	}
	if s.admin, err = kgo.NewClient(base...); err != nil {
		s.producer.Close()
		return nil, fmt.Errorf("cqrs-kafka: kafka admin client: %w", err)
	}
	s.adm = kadm.NewClient(s.admin)
	pub, err := NewPublisher(s.producer, cfg.Topic, delivery)
	if err != nil {
		s.closeClients()
		return nil, err
	}
	if s.relay, err = relay.New(pool, pub, cfg.relayConfig()); err != nil {
		s.closeClients()
		return nil, err
	}
	pc := cfg.projectorConfig()
	pc.Handler = h
	if s.proj, err = projector.New(pool, base, pc); err != nil {
		s.closeClients()
		return nil, err
	}
	return s, nil
}

// Relay returns the relays.
func (s *Runner) Relay() *relay.Relay { return s.relay }

// Projector returns the projector.
func (s *Runner) Projector() *projector.Projector { return s.proj }

// CreateTopics creates the topic and the dead-letter topic (or empties
// them) and commits the consumer group's offsets at the topic's end, where
// the projector starts. The projector must be stopped.
func (s *Runner) CreateTopics(ctx context.Context) error {
	if err := s.ensureTopic(ctx, s.cfg.Topic, s.cfg.Partitions); err != nil {
		return err
	}
	if err := s.ensureTopic(ctx, s.cfg.DeadLetterTopic, 1); err != nil {
		return err
	}
	return s.commitAtEnd(ctx)
}

// commitAtEnd commits the group's offsets at the topic's end.
func (s *Runner) commitAtEnd(ctx context.Context) error {
	ends, err := s.endOffsets(ctx)
	if err != nil {
		return err
	}
	return s.commitGroup(ctx, ends)
}

// Poison produces value, which must not decode as an event, to the topic,
// keyed -n, for the projector to dead-letter (reference.Poisonable).
func (s *Runner) Poison(ctx context.Context, n int, value []byte) error {
	key := strconv.AppendInt(nil, -int64(n), 10)
	if err := s.producer.ProduceSync(ctx, &kgo.Record{Topic: s.cfg.Topic, Key: key, Value: value}).FirstErr(); err != nil {
		return fmt.Errorf("poison: produce to %s: %w", s.cfg.Topic, err)
	}
	return nil
}

// Errors counts the errors the relays and the projector recovered from,
// by where (those that happened); injected projector crashes are listed
// as such.
func (s *Runner) Errors() []reference.ErrorCount {
	p := s.proj.Counters()
	return reference.Happened(append(s.relay.Counters().Errors(), []reference.ErrorCount{
		{Where: "projector database", Count: p.DBErrors},
		{Where: "projector retry (deadlock or serialization failure)", Count: p.Retries},
		{Where: "offset commit", Count: p.CommitErrors},
		{Where: "fetch", Count: p.FetchErrors},
		{Where: "dead-letter publish", Count: p.DeadLetterErrors},
		{Where: "projector crash (injected)", Count: p.Crashes},
	}...)...)
}

// restartDelay is how long a projector that failed other than by a
// simulated crash waits before it rejoins the group.
const restartDelay = time.Second

// recheckInterval bounds how long WaitCaughtUp waits between checks of
// state it is not notified about (committed offsets of projectors in other
// processes, transient errors).
const recheckInterval = 250 * time.Millisecond

func (s *Runner) closeClients() {
	s.producer.Close()
	s.admin.Close()
}

// Config returns the configuration in use, defaults applied.
func (s *Runner) Config() Config { return s.cfg }

// Start (for a System's reference.System) starts the relays and the
// projector under the Runner's own context (ctx only bounds Start), until
// Close. A projector that crashes (a hook) or fails is restarted, as a
// supervisor would restart its process.
func (s *Runner) Start(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.startable(); err != nil {
		return err
	}
	// Warm up the producer: a broker's first producer id can take a few
	// hundred milliseconds, which the first command's event would wait.
	// Best effort: relays retry whatever fails here.
	warm, cancel := context.WithTimeout(ctx, 10*time.Second)
	if _, _, err := s.producer.ProducerID(warm); err != nil && ctx.Err() == nil {
		s.report(fmt.Errorf("cqrs-kafka: start: initialize the idempotent producer: %w", err))
	}
	cancel()
	if err := s.relay.Prepare(ctx); err != nil {
		return fmt.Errorf("cqrs-kafka: start: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.startableLocked(); err != nil {
		return err
	}
	s.ctx, s.cancel = context.WithCancel(context.WithoutCancel(ctx))
	s.relayDone = make(chan struct{})
	go func() {
		defer close(s.relayDone)
		_ = s.relay.Run(s.ctx) // returns at cancel; failures are retried inside
	}()
	s.settleLocked()
	return nil
}

func (s *Runner) startable() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.startableLocked()
}

func (s *Runner) startableLocked() error {
	switch {
	case s.closed:
		return errors.New("cqrs-kafka: Start after Close")
	case s.ctx != nil:
		return errors.New("cqrs-kafka: already started")
	}
	return nil
}

// rebuildPhase is what a running Rebuild needs of the projector.
type rebuildPhase int8

const (
	noRebuild        rebuildPhase = iota
	rebuildStopped                // truncating and rewinding: stopped, whatever the pauses
	rebuildReplaying              // replaying: running, whatever the pauses
)

// settleLocked starts or stops the projector as the pauses and a running
// Rebuild want it, and returns the done channel of the last projector
// (closed once it stopped); s.mu held. It runs while the Runner is started
// and not closed, a Rebuild replays, or no Rebuild runs and no pause holds
// it.
func (s *Runner) settleLocked() <-chan struct{} {
	run := s.ctx != nil && !s.closed &&
		(s.rebuild == rebuildReplaying || s.rebuild == noRebuild && s.pauses == 0)
	switch {
	case run && s.projCancel == nil:
		s.startProjectorLocked()
	case !run && s.projCancel != nil:
		s.projCancel()
		s.projCancel = nil
	}
	return s.projDone
}

// startProjectorLocked runs the projector under a supervisor, once the
// previous one (if any) has stopped; s.mu held.
func (s *Runner) startProjectorLocked() {
	ctx, cancel := context.WithCancel(s.ctx)
	prev, done := s.projDone, make(chan struct{})
	s.projCancel, s.projDone = cancel, done
	go func() {
		defer close(done)
		if prev != nil {
			<-prev // cancelled already: one group member at a time
		}
		for ctx.Err() == nil {
			err := s.proj.Run(ctx)
			if err == nil || ctx.Err() != nil {
				continue
			}
			s.report(fmt.Errorf("cqrs-kafka: projector stopped, restarting: %w", err))
			if !errors.Is(err, apply.ErrCrash) {
				t := time.NewTimer(restartDelay)
				select {
				case <-ctx.Done():
				case <-t.C:
				}
				t.Stop()
			}
		}
	}()
}

// PauseProjector stops the projector (it leaves the group after committing
// what it applied) until ResumeProjector; events accumulate in Kafka. It
// is how a catch-up is measured. Pauses nest: the projector runs again
// once each PauseProjector that succeeded has been matched by a
// ResumeProjector, so a catch-up's pause and a Rebuild's overlap safely.
// While a Rebuild replays, PauseProjector waits for its end (the replay
// needs the projector). A PauseProjector that fails holds nothing.
func (s *Runner) PauseProjector(ctx context.Context) error {
	s.mu.Lock()
	if s.ctx == nil || s.closed {
		s.mu.Unlock()
		return errors.New("cqrs-kafka: pause: not started, or closed")
	}
	s.pauses++
	s.mu.Unlock()
	if err := s.awaitStopped(ctx); err != nil {
		s.mu.Lock()
		s.pauses--
		s.settleLocked()
		s.mu.Unlock()
		return err
	}
	return nil
}

// awaitStopped returns once the projector has stopped, waiting out a
// Rebuild's replay.
func (s *Runner) awaitStopped(ctx context.Context) error {
	for {
		s.mu.Lock()
		done := s.settleLocked()
		running, rebuilt := s.projCancel != nil, s.rebuildEnd
		s.mu.Unlock()
		if running { // a Rebuild replays
			select {
			case <-rebuilt:
				continue
			case <-ctx.Done():
				return fmt.Errorf("cqrs-kafka: pause: wait for the rebuild's replay: %w", ctx.Err())
			}
		}
		if done == nil {
			return nil
		}
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("cqrs-kafka: wait for the projector to stop: %w", ctx.Err())
		}
	}
}

// ResumeProjector ends one PauseProjector; the projector restarts once no
// pause holds it.
func (s *Runner) ResumeProjector() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.ctx == nil || s.closed:
		return errors.New("cqrs-kafka: resume: not started, or closed")
	case s.pauses == 0:
		return errors.New("cqrs-kafka: ResumeProjector without a PauseProjector")
	}
	s.pauses--
	s.settleLocked()
	return nil
}

// WaitCaughtUp (for a System's reference.System) takes the highest outbox id
// committed now, waits until the relays published every committed row up
// to it, then takes every partition's end offset and waits until the
// projector applied up to it (its own applied positions, or the group's
// committed offsets for a projector in another process). It is driven by
// the relays' and the projector's progress; nothing is slept for. While
// the projector is paused it waits for ResumeProjector (or ctx).
func (s *Runner) WaitCaughtUp(ctx context.Context) error {
	var maxID int64
	if err := s.pool.QueryRow(ctx, s.maxIDSQL).Scan(&maxID); err != nil {
		return fmt.Errorf("cqrs-kafka: wait caught up: read the outbox: %w", err)
	}
	if err := s.relay.WaitPublished(ctx, maxID); err != nil {
		return fmt.Errorf("cqrs-kafka: wait caught up: %w", err)
	}
	ends, err := s.endOffsets(ctx)
	if err != nil {
		return fmt.Errorf("cqrs-kafka: wait caught up: %w", err)
	}
	return s.waitApplied(ctx, ends, false)
}

// waitApplied waits until every partition is applied up to target. Unless
// inRebuild (Rebuild's own wait for its replay), it does not return while a
// Rebuild runs, and it forgets offsets read before one.
func (s *Runner) waitApplied(ctx context.Context, target map[int32]int64, inRebuild bool) error {
	tick := time.NewTicker(recheckInterval)
	defer tick.Stop()
	var committed map[int32]int64
	epoch := s.rebuildEpoch.Load()
	for {
		changed := s.proj.Changed()
		if e := s.rebuildEpoch.Load(); e != epoch && !inRebuild {
			epoch, committed = e, nil // rewound: what was read before no longer holds
		}
		pos := s.proj.Positions()
		behind := 0
		for p, end := range target {
			if max(pos[p], committed[p]) < end {
				behind++
			}
		}
		if behind == 0 && (inRebuild || epoch%2 == 0 && s.rebuildEpoch.Load() == epoch) {
			return nil
		}
		if committed == nil {
			// A projector that has not applied anything since this
			// System started (or that runs elsewhere) is known only by
			// its group's committed offsets.
			if c, err := s.committedOffsets(ctx); err == nil {
				committed = c
				continue
			}
			committed = map[int32]int64{}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cqrs-kafka: wait for the projector: %d of %d partitions behind: %w", behind, len(target), ctx.Err())
		case <-changed:
		case <-tick.C:
			if c, err := s.committedOffsets(ctx); err == nil {
				committed = c
			}
		}
	}
}

// Backlog returns how many records on the topic the projector has not
// applied yet: per partition, the end offset minus the projector's applied
// position (or the group's committed offset, whichever is further). Rows
// still in the outbox are not counted. It is how a catch-up scenario knows
// its backlog is built.
func (s *Runner) Backlog(ctx context.Context) (int64, error) {
	ends, err := s.endOffsets(ctx)
	if err != nil {
		return 0, fmt.Errorf("cqrs-kafka backlog: %w", err)
	}
	committed, err := s.committedOffsets(ctx)
	if err != nil {
		return 0, fmt.Errorf("cqrs-kafka backlog: %w", err)
	}
	pos := s.proj.Positions()
	var n int64
	for p, end := range ends {
		n += max(end-max(pos[p], committed[p]), 0)
	}
	return n, nil
}

// endOffsets returns the topic's end offset per partition.
func (s *Runner) endOffsets(ctx context.Context) (map[int32]int64, error) {
	return s.listOffsets(ctx, s.adm.ListEndOffsets)
}

func (s *Runner) listOffsets(ctx context.Context, list func(context.Context, ...string) (kadm.ListedOffsets, error)) (map[int32]int64, error) {
	listed, err := list(ctx, s.cfg.Topic)
	if err == nil {
		err = listed.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list offsets of topic %s: %w", s.cfg.Topic, err)
	}
	out := map[int32]int64{}
	listed.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out, nil
}

// committedOffsets returns the group's committed offset per partition.
func (s *Runner) committedOffsets(ctx context.Context) (map[int32]int64, error) {
	resp, err := s.adm.FetchOffsetsForTopics(ctx, s.cfg.Group, s.cfg.Topic)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("fetch the offsets of group %s: %w", s.cfg.Group, err)
	}
	out := map[int32]int64{}
	resp.Each(func(o kadm.OffsetResponse) {
		if o.Topic == s.cfg.Topic {
			out[o.Partition] = o.At
		}
	})
	return out, nil
}

// Close (for a System's reference.System) stops the relays and the projector
// (committing what was applied) and closes the Kafka clients. It does not
// drop anything.
func (s *Runner) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	cancel, relayDone, projDone := s.cancel, s.relayDone, s.projDone
	s.mu.Unlock()
	var err error
	if cancel != nil {
		cancel()
		for _, done := range []chan struct{}{relayDone, projDone} {
			if done == nil {
				continue
			}
			select {
			case <-done:
			case <-ctx.Done():
				err = fmt.Errorf("cqrs-kafka: close: workers still stopping: %w", ctx.Err())
			}
		}
		if err == nil {
			err = s.relay.Drop(ctx)
		}
	}
	s.closeClients()
	return err
}

func (s *Runner) report(err error) {
	if s.cfg.OnError != nil {
		s.cfg.OnError(err)
	}
}

// ensureTopic creates topic with partitions, or, if it exists with as many
// partitions, deletes its records (the log start moves to the end).
func (s *Runner) ensureTopic(ctx context.Context, topic string, partitions int32) error {
	resp, err := s.adm.CreateTopic(ctx, partitions, s.cfg.ReplicationFactor, nil, topic)
	if err == nil {
		err = resp.Err
	}
	if err == nil {
		return s.awaitTopic(ctx, topic)
	}
	if !errors.Is(err, kerr.TopicAlreadyExists) {
		return fmt.Errorf("create topic %s: %w", topic, err)
	}
	details, err := s.adm.ListTopics(ctx, topic)
	if err == nil {
		err = details.Error()
	}
	if err != nil {
		return fmt.Errorf("describe existing topic %s: %w", topic, err)
	}
	if got := int32(len(details[topic].Partitions)); got != partitions {
		return fmt.Errorf("topic %s exists with %d partitions, want %d: delete it or choose another topic name", topic, got, partitions)
	}
	ends, err := s.adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fmt.Errorf("list end offsets of existing topic %s: %w", topic, err)
	}
	del, err := s.adm.DeleteRecords(ctx, ends.Offsets())
	if err == nil {
		err = del.Error()
	}
	if err != nil {
		return fmt.Errorf("empty existing topic %s: %w", topic, err)
	}
	return nil
}

// awaitTopic waits until a new topic's partitions all have a leader, so the
// first produce and offset listing do not race its creation.
func (s *Runner) awaitTopic(ctx context.Context, topic string) error {
	for {
		listed, err := s.adm.ListEndOffsets(ctx, topic)
		if err == nil {
			err = listed.Error()
		}
		if err == nil {
			return nil
		}
		// A fresh topic's leaders are elected within milliseconds.
		t := time.NewTimer(20 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("wait for new topic %s: %w (last: %w)", topic, ctx.Err(), err)
		case <-t.C:
		}
	}
}

// commitGroup sets the group's committed offsets of the topic. The group
// must have no active member (only this Runner's projector joins it, and
// it is stopped).
func (s *Runner) commitGroup(ctx context.Context, offsets map[int32]int64) error {
	var set kadm.Offsets
	for p, o := range offsets {
		set.AddOffset(s.cfg.Topic, p, o, -1)
	}
	resp, err := s.adm.CommitOffsets(ctx, s.cfg.Group, set)
	if err == nil {
		err = resp.Error()
	}
	if err != nil {
		return fmt.Errorf("set the offsets of consumer group %s (is another projector of the group running?): %w", s.cfg.Group, err)
	}
	return nil
}
