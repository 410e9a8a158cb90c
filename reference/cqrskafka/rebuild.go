package cqrskafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/apply"
	"github.com/cqrsbench/cqrsbench/reference/readmodel"
)

// RebuildStats is what one Rebuild did: Events is the records replayed (the
// topic from its start to its end when the rebuild began: snapshots,
// command events, dead letters), Applied the events the projector applied
// meanwhile, Replay the time from the projector's restart at the start of
// the topic until it had applied every replayed record, Total the whole
// rebuild (pause, truncation, replay, ANALYZE).
type RebuildStats = reference.RebuildStats

// rebuildSource is what a rebuild replays, in words.
const rebuildSource = "the Kafka topic from its earliest offset (a snapshot of the loaded orders, then every event)"

// Rebuild empties the read models and the inbox and replays the topic from
// its earliest offset: it stops the projector, truncates, rewinds the
// consumer group to the start of every partition, restarts the projector
// and waits until it has applied everything the topic held when Rebuild
// began. Commands may keep running meanwhile; their events are applied
// after the replay. The topic must have been seeded with a snapshot of the
// loaded orders (Setup without SkipSnapshot): a replay of command events
// alone would lose every order loaded before Setup.
//
// A Rebuild that fails after stopping the projector restarts it (unless a
// PauseProjector holds it), so events keep being applied; whatever it had
// truncated by then stays truncated, which the checker reports. Rebuilds
// run one at a time.
func (s *System) Rebuild(ctx context.Context) (_ RebuildStats, err error) {
	began := time.Now()
	var snapshot *int64
	if err := s.pool.QueryRow(ctx, s.seedSQL, s.cfg.Topic).Scan(&snapshot); err != nil {
		return RebuildStats{}, fmt.Errorf("cqrs-kafka rebuild: read how topic %s was seeded (was Setup run?): %w", s.cfg.Topic, err)
	}
	if snapshot == nil {
		return RebuildStats{}, fmt.Errorf("cqrs-kafka rebuild: topic %s holds no snapshot of the orders loaded before Setup (Setup ran with SkipSnapshot); a replay would lose them", s.cfg.Topic)
	}
	s.rebuilding.Lock()
	defer s.rebuilding.Unlock()
	s.mu.Lock()
	started := s.ctx != nil && !s.closed
	s.mu.Unlock()
	if !started {
		return RebuildStats{}, errors.New("cqrs-kafka rebuild: Start the System first")
	}
	s.rebuildEpoch.Add(1) // odd: waits hold on until it is even again
	defer s.rebuildEpoch.Add(1)
	// The projector stops for the truncation and the rewind and runs for
	// the replay, whatever pauses hold it (a catch-up's); at the end it
	// runs again only if none does.
	s.mu.Lock()
	s.rebuild, s.rebuildEnd = rebuildStopped, make(chan struct{})
	done := s.settleLocked()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.rebuild = noRebuild
		close(s.rebuildEnd)
		s.settleLocked()
		s.mu.Unlock()
	}()
	if done != nil {
		select {
		case <-done:
		case <-ctx.Done():
			return RebuildStats{}, fmt.Errorf("cqrs-kafka rebuild: wait for the projector to stop: %w", ctx.Err())
		}
	}
	// The offsets first: a broker that does not answer then leaves the
	// read models as they were.
	starts, err := s.listOffsets(ctx, s.adm.ListStartOffsets)
	if err != nil {
		return RebuildStats{}, fmt.Errorf("cqrs-kafka rebuild: %w", err)
	}
	ends, err := s.endOffsets(ctx)
	if err != nil {
		return RebuildStats{}, fmt.Errorf("cqrs-kafka rebuild: %w", err)
	}
	if err := s.truncate(ctx); err != nil {
		return RebuildStats{}, fmt.Errorf("cqrs-kafka rebuild: %w", err)
	}
	if err := s.commitGroup(ctx, starts); err != nil {
		return RebuildStats{}, fmt.Errorf("cqrs-kafka rebuild: rewind: %w", err)
	}
	stats := RebuildStats{Source: rebuildSource}
	for p, end := range ends {
		stats.Events += end - starts[p]
	}
	s.proj.ResetPositions()
	applied := s.proj.Counters().Applied
	replay := time.Now()
	s.mu.Lock()
	s.rebuild = rebuildReplaying
	s.settleLocked()
	s.mu.Unlock()
	if err := s.waitApplied(ctx, ends, true); err != nil {
		return stats, fmt.Errorf("cqrs-kafka rebuild: replay %d events: %w", stats.Events, err)
	}
	stats.Replay = time.Since(replay)
	stats.Applied = s.proj.Counters().Applied - applied
	if _, err := s.pool.Exec(ctx, s.expand(`ANALYZE {{schema}}.order_read_model; ANALYZE {{schema}}.daily_sales`)); err != nil {
		return stats, fmt.Errorf("cqrs-kafka rebuild: analyze: %w", err)
	}
	stats.Total = time.Since(began)
	s.mu.Lock()
	s.rebuilds = append(s.rebuilds, stats)
	s.mu.Unlock()
	return stats, nil
}

// truncate empties the read models and the inbox in one transaction.
func (s *System) truncate(ctx context.Context) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("truncate: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit it is a no-op
	if err := readmodel.Truncate(ctx, tx, s.cfg.Schema); err != nil {
		return err
	}
	if err := apply.TruncateInbox(ctx, tx, s.cfg.Schema); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("truncate: commit: %w", err)
	}
	return nil
}
