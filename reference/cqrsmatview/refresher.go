package cqrsmatview

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference"
)

// Refresher runs a refresh statement (REFRESH MATERIALIZED VIEW
// CONCURRENTLY …) every period after the previous one ended, counts and
// times the refreshes, and waits for a refresh on request. It gives a
// materialized-view architecture its Start, WaitCaughtUp, RefreshStats
// (reference.Refresher) and Close; the shop's cqrs-matview and the derived
// one of workload packs embed it.
type Refresher struct {
	pool   *pgxpool.Pool
	sql    string
	period time.Duration

	mu      sync.Mutex
	stats   reference.RefreshStats
	started uint64        // refreshes started
	done    uint64        // refreshes finished
	doneCh  chan struct{} // closed and replaced when a refresh finishes
	kick    chan struct{} // asks for an immediate refresh
	lastErr error
	cancel  context.CancelFunc
	stopped chan struct{}
}

// NewRefresher returns a refresher of sql on pool every period.
func NewRefresher(pool *pgxpool.Pool, sql string, period time.Duration) *Refresher {
	return &Refresher{pool: pool, sql: sql, period: period, doneCh: make(chan struct{}), kick: make(chan struct{}, 1)}
}

// Start implements reference.System: starts the refresher.
func (r *Refresher) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancel != nil {
		return errors.New("materialized views: the refresher is already started")
	}
	ctx, r.cancel = context.WithCancel(context.WithoutCancel(ctx))
	r.stopped = make(chan struct{})
	go r.refresher(ctx)
	return nil
}

// refresher refreshes every period after the previous refresh ended, or at
// once when kicked.
func (r *Refresher) refresher(ctx context.Context) {
	defer close(r.stopped)
	timer := time.NewTimer(r.period)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-r.kick:
		}
		r.refreshOnce(ctx)
		timer.Reset(r.period)
	}
}

func (r *Refresher) refreshOnce(ctx context.Context) {
	r.mu.Lock()
	r.started++
	r.mu.Unlock()
	start := time.Now()
	_, err := r.pool.Exec(ctx, r.sql)
	took := time.Since(start)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.done++
	if err != nil && ctx.Err() == nil {
		r.stats.Errors++
		r.lastErr = fmt.Errorf("refresh materialized views: %w", err)
	} else if err == nil {
		r.stats.Count++
		r.stats.Durations = append(r.stats.Durations, took)
		r.lastErr = nil
	}
	close(r.doneCh)
	r.doneCh = make(chan struct{})
}

// RefreshStats implements reference.Refresher: the refreshes so far.
func (r *Refresher) RefreshStats() reference.RefreshStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := r.stats
	st.Durations = slices.Clone(st.Durations)
	return st
}

// WaitCaughtUp implements reference.System: it asks for a refresh and waits
// until a refresh that started after the call has finished (its snapshot
// holds every command that returned before). Without a running refresher it
// refreshes itself.
func (r *Refresher) WaitCaughtUp(ctx context.Context) error {
	r.mu.Lock()
	running := r.cancel != nil
	target := r.started + 1 // the next refresh to start begins after this call
	r.mu.Unlock()
	if !running {
		if _, err := r.pool.Exec(ctx, r.sql); err != nil {
			return fmt.Errorf("refresh materialized views: %w", err)
		}
		return nil
	}
	select {
	case r.kick <- struct{}{}:
	default:
	}
	for {
		r.mu.Lock()
		done, ch, lastErr := r.done, r.doneCh, r.lastErr
		r.mu.Unlock()
		if done >= target {
			return lastErr
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-ch:
		}
	}
}

// Close implements reference.System: stops the refresher.
func (r *Refresher) Close(ctx context.Context) error {
	r.mu.Lock()
	cancel, stopped := r.cancel, r.stopped
	r.cancel = nil
	r.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-stopped:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
