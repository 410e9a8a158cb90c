package cqrskafka

import (
	"context"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/cqrskafka/projector"
	"github.com/cqrsbench/cqrsbench/reference/pipeline"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/relay"
	"github.com/cqrsbench/cqrsbench/reference/readmodel"
)

var _ reference.System = (*System)(nil)

// System is the cqrs-kafka architecture on one schema: commands write the
// write model and an outbox row in one transaction, relays publish the
// outbox to Kafka, a projector applies the events to flat read models.
// Its Runner starts, pauses, waits for and closes the relays and the
// projector.
type System struct {
	// Orders executes the shop's commands with their outbox rows and
	// answers its screens from the flat read models (shop.Architecture).
	pipeline.Orders
	*Runner

	seedSQL string
	// rebuilding serializes Rebuilds.
	rebuilding sync.Mutex
	// Under Runner.mu.
	snapshotted int64
	rebuilds    []RebuildStats
}

// New returns the architecture for cfg; the write model of cfg.Schema must
// be loaded (reference/datagen) before Setup. It connects to nothing yet.
// Close releases the Kafka clients; the pool stays the caller's.
func New(pool *pgxpool.Pool, cfg Config) (*System, error) {
	r, err := NewRunner(pool, cfg, nil)
	if err != nil {
		return nil, err
	}
	cfg = r.Config()
	orders, err := pipeline.NewOrders(pool, cfg.ReadPool, cfg.Schema, cfg.Observer)
	if err != nil {
		r.closeClients()
		return nil, err
	}
	return &System{Orders: orders, Runner: r,
		seedSQL: "SELECT snapshot_events FROM " + pgx.Identifier{cfg.Schema}.Sanitize() + ".topic_seed WHERE topic = $1"}, nil
}

// Name implements reference.System.
func (s *System) Name() string { return Name }

// WaitCaughtUp implements reference.System: the projector applied every
// event published (Runner.WaitCaughtUp) and, when the screens read a
// replica, the replica replayed it.
func (s *System) WaitCaughtUp(ctx context.Context) error {
	if err := s.Runner.WaitCaughtUp(ctx); err != nil {
		return err
	}
	return s.Orders.WaitReplayed(ctx)
}

// Stats are the System's counters.
type Stats struct {
	// Relay is what the relays did.
	Relay relay.Counters
	// Projector is what the projector did (across restarts and rebuilds).
	Projector projector.Counters
	// SnapshotEvents is the order_snapshot events Setup published.
	SnapshotEvents int64
	// Rebuilds lists the rebuilds run, oldest first.
	Rebuilds []RebuildStats
}

// Stats returns the counters so far. Cheap: atomic loads.
func (s *System) Stats() Stats {
	s.mu.Lock()
	snap, rebuilds := s.snapshotted, append([]RebuildStats(nil), s.rebuilds...)
	s.mu.Unlock()
	return Stats{Relay: s.relay.Counters(), Projector: s.proj.Counters(), SnapshotEvents: snap, Rebuilds: rebuilds}
}

// expand replaces {{schema}} in sql.
func (s *System) expand(sql string) string { return readmodel.Expand(sql, s.cfg.Schema) }
