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
const rebuildSource = "the outbox archive in PostgreSQL (a snapshot of the loaded orders, then every relayed event) after the previous rebuild's checkpoint"

// Rebuild implements reference.Rebuildable: it pauses the workers, sets the
// read models and the inbox to the checkpoint (empty before the first
// rebuild), replays the archive after it up to its end when the rebuild
// began through the projection core, takes the result as the new
// checkpoint, and resumes the workers, whose queued events the inbox then
// recognizes. Commands keep running meanwhile. Stats.Events is the events
// replayed after the checkpoint; Total includes taking the new one.
//
// The checkpoint bounds the archive: a copy of the read models as the
// replay up to archive id C left them, and the archive's events up to C
// stripped to their keys (order id, version), which refill the inbox as
// that replay had — a queued copy of such an event must still be
// recognized, or its daily_sales delta would count twice. Restoring the
// checkpoint and replaying the rest gives exactly the read models and inbox
// of a replay of the whole archive, damage included, since the replay is
// deterministic (id order) and each event is archived once. So an archived
// event costs its payload only until the next rebuild, then a key like the
// inbox's, which grows as much.
func (s *System) Rebuild(ctx context.Context) (_ reference.RebuildStats, err error) {
	began := time.Now()
	stats := reference.RebuildStats{Source: rebuildSource}
	s.rebuild.Lock()
	defer s.rebuild.Unlock()
	s.rebuilding.Add(1) // WaitCaughtUp holds on until it ends
	defer func() {
		s.rebuilding.Add(-1)
		s.run.Notify()
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
	from, err := s.restore(ctx)
	if err != nil {
		return stats, fmt.Errorf("%s rebuild: %w", Name, err)
	}
	replay := time.Now()
	for last := from; last < upto; {
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
	if upto > from {
		if err := s.exec(ctx, `ANALYZE {{schema}}.order_read_model; ANALYZE {{schema}}.daily_sales`); err != nil {
			return stats, fmt.Errorf("%s rebuild: analyze: %w", Name, err)
		}
		if err := s.checkpoint(ctx, from, upto); err != nil {
			return stats, fmt.Errorf("%s rebuild: %w", Name, err)
		}
	}
	stats.Total = time.Since(began)
	return stats, nil
}

// restore empties the read models and the inbox and sets them to the
// checkpoint (see Rebuild), in one transaction: the read models as a
// replay of the archive up to it left them, and the inbox that replay
// filled, the keys of those events. It returns the checkpoint's archive id.
func (s *System) restore(ctx context.Context) (int64, error) {
	var from int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, s.expand(`SELECT upto FROM {{schema}}.archive_checkpoint`)).Scan(&from); err != nil {
			return err
		}
		if err := readmodel.Truncate(ctx, tx, s.cfg.Schema); err != nil {
			return err
		}
		if err := apply.TruncateInbox(ctx, tx, s.cfg.Schema); err != nil {
			return err
		}
		return s.execAll(ctx, tx, []statement{
			{sql: `INSERT INTO {{schema}}.order_read_model SELECT * FROM {{schema}}.checkpoint_order_read_model`},
			{sql: `INSERT INTO {{schema}}.daily_sales SELECT * FROM {{schema}}.checkpoint_daily_sales`},
			{sql: `INSERT INTO {{schema}}.inbox (consumer, order_id, version)
				SELECT $1, aggregate_id, version FROM {{schema}}.outbox_archive WHERE id <= $2`, args: []any{s.cfg.Consumer, from}},
		})
	})
	if err != nil {
		return 0, fmt.Errorf("restore the checkpoint: %w", err)
	}
	return from, nil
}

// checkpoint makes the read models, as the replay up to archive id upto
// left them (the workers are still paused), the checkpoint, and strips the
// events archived after the previous one (from) to their keys, in one
// transaction.
func (s *System) checkpoint(ctx context.Context, from, upto int64) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return s.execAll(ctx, tx, []statement{
			{sql: `TRUNCATE {{schema}}.checkpoint_order_read_model, {{schema}}.checkpoint_daily_sales`},
			{sql: `INSERT INTO {{schema}}.checkpoint_order_read_model SELECT * FROM {{schema}}.order_read_model`},
			{sql: `INSERT INTO {{schema}}.checkpoint_daily_sales SELECT * FROM {{schema}}.daily_sales`},
			{sql: `UPDATE {{schema}}.outbox_archive SET payload = NULL WHERE id > $1 AND id <= $2`, args: []any{from, upto}},
			{sql: `UPDATE {{schema}}.archive_checkpoint SET upto = $1`, args: []any{upto}},
		})
	})
	if err != nil {
		return fmt.Errorf("take the checkpoint at archive id %d: %w", upto, err)
	}
	return nil
}

// statement is one SQL statement ({{schema}} expanded) and its arguments.
type statement struct {
	sql  string
	args []any
}

// execAll runs statements in tx, in order.
func (s *System) execAll(ctx context.Context, tx pgx.Tx, statements []statement) error {
	for _, st := range statements {
		if _, err := tx.Exec(ctx, s.expand(st.sql), st.args...); err != nil {
			return err
		}
	}
	return nil
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
