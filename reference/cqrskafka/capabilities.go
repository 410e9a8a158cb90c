package cqrskafka

import (
	"context"
	"fmt"
	"strconv"

	"github.com/twmb/franz-go/pkg/kgo"

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
		Relayed: r.Relayed, Published: r.Published, Delivered: p.Delivered, Applied: p.Applied,
		Duplicates: p.Duplicates, DeadLettered: p.DeadLettered, Snapshot: st.SnapshotEvents,
	}
	for _, rb := range st.Rebuilds {
		out.Replayed += rb.Applied
	}
	for _, e := range append(r.Errors(), []reference.ErrorCount{
		{Where: "projector database", Count: p.DBErrors},
		{Where: "projector retry (deadlock or serialization failure)", Count: p.Retries},
		{Where: "offset commit", Count: p.CommitErrors},
		{Where: "fetch", Count: p.FetchErrors},
		{Where: "dead-letter publish", Count: p.DeadLetterErrors},
		{Where: "projector crash (injected)", Count: p.Crashes},
	}...) {
		if e.Count > 0 {
			out.Errors = append(out.Errors, e)
		}
	}
	return out
}

// poisonValue is an undecodable event: its order id is not a number.
const poisonValue = `{"type":"order_created","order_id":"not-a-number","version":1}`

// InjectPoison implements reference.Poisonable: it produces one undecodable
// record to the event topic, keyed -n.
func (s *System) InjectPoison(ctx context.Context, n int) error {
	cl, err := kgo.NewClient(s.cfg.ClientOptions()...)
	if err != nil {
		return fmt.Errorf("poison: kafka client: %w", err)
	}
	defer cl.Close()
	key := strconv.AppendInt(nil, -int64(n), 10)
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: s.cfg.Topic, Key: key, Value: []byte(poisonValue)}).FirstErr(); err != nil {
		return fmt.Errorf("poison: produce to %s: %w", s.cfg.Topic, err)
	}
	return nil
}
