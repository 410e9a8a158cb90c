package derived

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/cqrsmatview"
	"github.com/cqrsbench/cqrsbench/reference/pack"
)

// Matview is the cqrs-matview architecture of a pack: each read model a
// materialized view of its projection query, with a unique index on its
// key, refreshed concurrently every period; commands touch the write model
// only.
type Matview struct {
	base
	// Refresher refreshes the views (Start, WaitCaughtUp, RefreshStats,
	// Close).
	*cqrsmatview.Refresher
}

var (
	_ pack.Executor       = (*Matview)(nil)
	_ pack.Verifier       = (*Matview)(nil)
	_ reference.Refresher = (*Matview)(nil)
)

// NewMatview returns pack p's cqrs-matview architecture, named name, on
// schema (whose write model p loaded), refreshing every period.
func NewMatview(ctx context.Context, name string, pool *pgxpool.Pool, schema string, p *pack.Pack, period time.Duration) (*Matview, error) {
	if period <= 0 {
		return nil, fmt.Errorf("%s: the refresh period must be > 0, got %v", name, period)
	}
	b, err := newBase(ctx, name, pool, schema, p)
	if err != nil {
		return nil, err
	}
	var refresh []string
	for _, rm := range p.ReadModels {
		refresh = append(refresh, "REFRESH MATERIALIZED VIEW CONCURRENTLY "+pgx.Identifier{schema, rm.Name}.Sanitize())
	}
	return &Matview{base: b, Refresher: cqrsmatview.NewRefresher(b.pool, strings.Join(refresh, ";\n"), period)}, nil
}

// Setup implements reference.System: a materialized view per read model,
// filled, with the unique index on its key that a concurrent refresh
// needs.
func (m *Matview) Setup(ctx context.Context) error {
	return m.afterReplay(ctx, pgx.BeginFunc(ctx, m.pool, func(tx pgx.Tx) error {
		for _, rm := range m.pack.ReadModels {
			err := buildReadModel(ctx, tx, rm, func(table, key string) []step {
				return []step{
					{"create", "CREATE MATERIALIZED VIEW " + table + " AS SELECT * FROM " + projection(rm) + " p"},
					{"key", "CREATE UNIQUE INDEX ON " + table + " (" + key + ")"},
					{"analyze", "ANALYZE " + table},
				}
			})
			if err != nil {
				return fmt.Errorf("%s: %w", m.name, err)
			}
		}
		return nil
	}))
}

// Start implements reference.System: starts the refresher.
func (m *Matview) Start(ctx context.Context) error { return m.Refresher.Start(ctx) }

// WaitCaughtUp implements reference.System: waits for a refresh that
// started after the call (and for a replica the screens read to replay
// it).
func (m *Matview) WaitCaughtUp(ctx context.Context) error {
	return m.afterReplay(ctx, m.Refresher.WaitCaughtUp(ctx))
}

// Close implements reference.System: stops the refresher, then the pools.
func (m *Matview) Close(ctx context.Context) error {
	return errors.Join(m.Refresher.Close(ctx), m.base.Close(ctx))
}

// Run implements pack.Executor: the statements, one transaction.
func (m *Matview) Run(ctx context.Context, cmd *pack.Command, args map[string]any) (pack.Outcome, error) {
	return runInTx(ctx, m.pool, cmd, args)
}

// Show implements pack.Executor with the screen's flat query on its view.
func (m *Matview) Show(ctx context.Context, s *pack.Screen, args map[string]any) (int, error) {
	return m.show(ctx, s.Name, s.Flat, args)
}

// Current implements pack.Verifier.
func (m *Matview) Current(ctx context.Context, rm *pack.ReadModel, key []any) (bool, error) {
	return m.current(ctx, rm, key, pgx.Identifier{rm.Name}.Sanitize())
}
