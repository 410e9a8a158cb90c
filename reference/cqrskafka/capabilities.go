package cqrskafka

import (
	"context"

	"github.com/cqrsbench/cqrsbench/reference"
)

// What cqrs-kafka offers the harness besides reference.System.
var (
	_ reference.Pipeline    = (*System)(nil)
	_ reference.Pausable    = (*System)(nil)
	_ reference.Rebuildable = (*System)(nil)
	_ reference.Poisonable  = (*System)(nil)
	_ reference.TxExecutor  = (*System)(nil)
)

// PipelineStats implements reference.Pipeline.
func (s *System) PipelineStats() reference.PipelineStats {
	st := s.Stats()
	r, p := st.Relay, st.Projector
	out := reference.PipelineStats{
		Relayed: r.Relayed, Published: r.Published, PublishedBytes: r.PublishedBytes, Delivered: p.Delivered, Applied: p.Applied,
		Duplicates: p.Duplicates, DeadLettered: p.DeadLettered, Snapshot: st.SnapshotEvents,
	}
	for _, rb := range st.Rebuilds {
		out.Replayed += rb.Applied
	}
	out.Errors = s.Runner.Errors()
	return out
}

// poisonValue is an undecodable event: its order id is not a number.
const poisonValue = `{"type":"order_created","order_id":"not-a-number","version":1}`

// InjectPoison implements reference.Poisonable: it produces one undecodable
// record to the event topic, keyed -n.
func (s *System) InjectPoison(ctx context.Context, n int) error {
	return s.Poison(ctx, n, []byte(poisonValue))
}
