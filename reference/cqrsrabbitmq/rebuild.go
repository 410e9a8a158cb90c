package cqrsrabbitmq

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/apply"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
	"github.com/cqrsbench/cqrsbench/reference/readmodel"
)

// replayBatch is the archived events one replay transaction applies.
const replayBatch = 10_000

// rebuildSource is what a rebuild replays, in words.
const rebuildSource = "the outbox archive in PostgreSQL (a snapshot of the loaded orders, then every relayed event)"

// Rebuild implements reference.Rebuildable: it pauses the workers, empties
// the read models and the inbox, replays the archive up to its end when the
// rebuild began through the projection core, and resumes the workers, whose
// queued events the inbox then recognizes. Commands keep running meanwhile.
func (s *System) Rebuild(ctx context.Context) (_ reference.RebuildStats, err error) {
	began := time.Now()
	stats := reference.RebuildStats{Source: rebuildSource}
	s.rebuild.Lock()
	defer s.rebuild.Unlock()
	s.rebuilding.Add(1) // WaitCaughtUp holds on until it ends
	defer func() {
		s.rebuilding.Add(-1)
		s.track.changed.Notify()
	}()
	// A pause of its own, nested in any other (a catch-up's): resumed
	// whatever happens next, so the workers do not stay paused, and
	// without ending the other pause.
	if err := s.PauseProjector(ctx); err != nil {
		return stats, fmt.Errorf("%s rebuild: %w", Name, err)
	}
	defer func() {
		if rerr := s.ResumeProjector(); rerr != nil {
			err = errors.Join(err, fmt.Errorf("%s rebuild: %w", Name, rerr))
		}
	}()
	upto, err := s.archiveEnd(ctx)
	if err != nil {
		return stats, fmt.Errorf("%s rebuild: %w", Name, err)
	}
	if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := readmodel.Truncate(ctx, tx, s.cfg.Schema); err != nil {
			return err
		}
		return apply.TruncateInbox(ctx, tx, s.cfg.Schema)
	}); err != nil {
		return stats, fmt.Errorf("%s rebuild: %w", Name, err)
	}
	replay := time.Now()
	for last := int64(0); last < upto; {
		events, next, err := s.archived(ctx, last, upto)
		if err != nil {
			return stats, fmt.Errorf("%s rebuild: %w", Name, err)
		}
		if len(events) == 0 {
			break
		}
		b, err := s.replay.Apply(ctx, s.pool, events)
		if err != nil {
			return stats, fmt.Errorf("%s rebuild: replay events after archive id %d: %w", Name, last, err)
		}
		stats.Events += int64(len(events))
		stats.Applied += int64(b.Applied)
		last = next
	}
	stats.Replay = time.Since(replay)
	if err := s.exec(ctx, `ANALYZE {{schema}}.order_read_model; ANALYZE {{schema}}.daily_sales`); err != nil {
		return stats, fmt.Errorf("%s rebuild: analyze: %w", Name, err)
	}
	stats.Total = time.Since(began)
	return stats, nil
}

// archiveEnd returns the highest archive id once every relay transaction
// that archived rows has ended: a relay archives at its claim and commits
// after the broker's confirms, and a worker may have applied and
// acknowledged part of that batch already, so the replay must see it. The
// SHARE lock waits for those transactions (relays take ROW EXCLUSIVE) and
// holds new claims back only for the read.
func (s *System) archiveEnd(ctx context.Context) (int64, error) {
	var upto int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, s.expand(`LOCK TABLE {{schema}}.outbox_archive IN SHARE MODE`)); err != nil {
			return err
		}
		return tx.QueryRow(ctx, s.expand(`SELECT coalesce(max(id), 0) FROM {{schema}}.outbox_archive`)).Scan(&upto)
	})
	if err != nil {
		return 0, fmt.Errorf("read the end of the archive: %w", err)
	}
	return upto, nil
}

// archived reads up to replayBatch archived events with ids in (after,
// upto], in id order, and the last id read.
func (s *System) archived(ctx context.Context, after, upto int64) ([]event.OrderEvent, int64, error) {
	rows, err := s.pool.Query(ctx, s.expand(`SELECT id, payload::text FROM {{schema}}.outbox_archive WHERE id > $1 AND id <= $2 ORDER BY id LIMIT `+fmt.Sprint(replayBatch)), after, upto)
	if err != nil {
		return nil, 0, fmt.Errorf("read the archive: %w", err)
	}
	defer rows.Close()
	var events []event.OrderEvent
	last := after
	for rows.Next() {
		var payload []byte
		if err := rows.Scan(&last, &payload); err != nil {
			return nil, 0, fmt.Errorf("read the archive: %w", err)
		}
		var e event.OrderEvent
		if err := event.Decode(payload, &e); err != nil {
			return nil, 0, fmt.Errorf("archived event %d: %w", last, err)
		}
		events = append(events, e)
	}
	return events, last, rows.Err()
}
