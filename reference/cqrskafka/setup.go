package cqrskafka

import (
	"context"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/reference/pipeline/apply"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/outbox"
	"github.com/cqrsbench/cqrsbench/reference/readmodel"
)

// snapshotSQL reads the backfilled read model, the state each snapshot
// event carries.
const snapshotSQL = `
SELECT order_id, customer_id, number, created_at, status, status_label, total_cents, item_count, first_image_url, version
FROM {{schema}}.order_read_model`

// topicSeedSQL creates the table that records how Setup seeded the topic;
// {{schema}} is the quoted schema.
const topicSeedSQL = `
CREATE TABLE {{schema}}.topic_seed (
    topic           text        NOT NULL PRIMARY KEY,
    snapshot_events bigint,
    seeded_at       timestamptz NOT NULL DEFAULT clock_timestamp()
);
COMMENT ON TABLE {{schema}}.topic_seed IS 'cqrs-kafka: how Setup seeded the topic: snapshot_events is the number of order_snapshot events published for the loaded orders, NULL when skipped (then the topic cannot rebuild the read models)'`

// Setup implements reference.System, on a loaded write model: it creates
// the outbox (with the trigger that wakes relays, unless DisableNotify; see
// outbox.NotifyTriggerSQL), the inbox, the topic_seed table and the read
// models, fills the read models from the write model, creates the
// topic and the dead-letter topic (or empties them), publishes one
// order_snapshot event per order unless SkipSnapshot, and commits the
// consumer group's offsets at the end of the topic, so the projector starts
// after the state the read models already hold.
// When the screens read a replica, it returns once the replica has
// replayed all of that, so that no read of the load finds it missing.
func (s *System) Setup(ctx context.Context) error {
	if err := s.setup(ctx); err != nil {
		return err
	}
	return s.Orders.WaitReplayed(ctx)
}

// setup is Setup on the primary.
func (s *System) setup(ctx context.Context) error {
	var loaded *string
	if err := s.pool.QueryRow(ctx, "SELECT to_regclass($1)::text", pgx.Identifier{s.cfg.Schema, "orders"}.Sanitize()).Scan(&loaded); err != nil {
		return fmt.Errorf("cqrs-kafka setup: %w", err)
	}
	if loaded == nil {
		return fmt.Errorf("cqrs-kafka setup: schema %q has no write model; load the dataset first (cqrsbench load)", s.cfg.Schema)
	}
	channel := outbox.Channel(s.cfg.Schema)
	if s.cfg.DisableNotify {
		channel = ""
	}
	if err := outbox.Create(ctx, s.pool, s.cfg.Schema, channel); err != nil {
		return fmt.Errorf("cqrs-kafka setup: %w", err)
	}
	if err := apply.CreateInbox(ctx, s.pool, s.cfg.Schema); err != nil {
		return fmt.Errorf("cqrs-kafka setup: %w", err)
	}
	if _, err := s.pool.Exec(ctx, s.expand(topicSeedSQL)); err != nil {
		return fmt.Errorf("cqrs-kafka setup: create table topic_seed in %s: %w", s.cfg.Schema, err)
	}
	if err := readmodel.Create(ctx, s.pool, s.cfg.Schema); err != nil {
		return fmt.Errorf("cqrs-kafka setup: %w", err)
	}
	if err := readmodel.Backfill(ctx, s.pool, s.cfg.Schema); err != nil {
		return fmt.Errorf("cqrs-kafka setup: %w", err)
	}
	if err := s.ensureTopic(ctx, s.cfg.Topic, s.cfg.Partitions); err != nil {
		return fmt.Errorf("cqrs-kafka setup: %w", err)
	}
	if err := s.ensureTopic(ctx, s.cfg.DeadLetterTopic, 1); err != nil {
		return fmt.Errorf("cqrs-kafka setup: %w", err)
	}
	var snapshot *int64
	if !s.cfg.SkipSnapshot {
		n, err := s.publishSnapshot(ctx)
		if err != nil {
			return fmt.Errorf("cqrs-kafka setup: %w", err)
		}
		snapshot = &n
		s.mu.Lock()
		s.snapshotted = n
		s.mu.Unlock()
	}
	if _, err := s.pool.Exec(ctx, s.expand(`INSERT INTO {{schema}}.topic_seed (topic, snapshot_events) VALUES ($1, $2)`), s.cfg.Topic, snapshot); err != nil {
		return fmt.Errorf("cqrs-kafka setup: record the topic's seed: %w", err)
	}
	if err := s.commitAtEnd(ctx); err != nil {
		return fmt.Errorf("cqrs-kafka setup: %w", err)
	}
	return nil
}

// publishSnapshot produces one order_snapshot event per row of the
// (backfilled) read model and returns how many.
func (s *System) publishSnapshot(ctx context.Context) (int64, error) {
	rows, err := s.pool.Query(ctx, s.expand(snapshotSQL))
	if err != nil {
		return 0, fmt.Errorf("snapshot: read order_read_model: %w", err)
	}
	var (
		n        int64
		mu       sync.Mutex
		firstErr error
		e        = event.OrderEvent{Type: event.OrderSnapshot}
	)
	promise := func(_ *kgo.Record, err error) {
		if err != nil {
			mu.Lock()
			if firstErr == nil {
				firstErr = err
			}
			mu.Unlock()
		}
	}
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	_, err = pgx.ForEachRow(rows, []any{&e.OrderID, &e.CustomerID, &e.Number, &e.CreatedAt, &e.Status, &e.StatusLabel,
		&e.TotalCents, &e.ItemCount, &e.FirstImageURL, &e.Version}, func() error {
		s.producer.Produce(pctx, &kgo.Record{
			Topic: s.cfg.Topic, Key: event.AppendKey(nil, e.OrderID), Value: e.AppendJSON(make([]byte, 0, 384)),
		}, promise)
		n++
		return nil
	})
	if err != nil {
		cancel()
		_ = s.producer.Flush(context.WithoutCancel(ctx))
		return n, fmt.Errorf("snapshot: read order_read_model: %w", err)
	}
	if err := s.producer.Flush(ctx); err != nil {
		return n, fmt.Errorf("snapshot: flush: %w", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if firstErr != nil {
		return n, fmt.Errorf("snapshot: produce %d events to %s: %w", n, s.cfg.Topic, firstErr)
	}
	return n, nil
}
