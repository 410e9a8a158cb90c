package cqrskafka

import (
	"context"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/cqrskafka/projector"
	"github.com/cqrsbench/cqrsbench/reference/cqrskafka/relay"
)

// withFaultHooks returns the relay's and the projector's hooks with the
// architecture-neutral fault hooks h added to those the configuration
// already holds (a test's own hooks).
func withFaultHooks(h reference.Hooks, r relay.Hooks, dupFraction float64, p projector.Hooks) (relay.Hooks, float64, projector.Hooks) {
	if h.AfterConfirm != nil {
		r.AfterAck = chain(r.AfterAck, h.AfterConfirm)
	}
	if h.DuplicateFraction > 0 {
		dupFraction, r.DuplicatesOn = h.DuplicateFraction, h.DuplicatesOn
	}
	if h.BeforeDBCommit != nil {
		p.BeforeDBCommit = chain(p.BeforeDBCommit, batchHook(h.BeforeDBCommit))
	}
	if h.AfterDBCommit != nil {
		p.AfterDBCommit = chain(p.AfterDBCommit, batchHook(h.AfterDBCommit))
	}
	return r, dupFraction, p
}

// batchHook adapts a neutral batch hook to the projector's.
func batchHook(h func(context.Context, reference.Batch) error) func(context.Context, projector.Batch) error {
	return func(ctx context.Context, b projector.Batch) error {
		return h(ctx, reference.Batch{Records: b.Records, Applied: b.Applied, Duplicates: b.Duplicates, DeadLettered: b.DeadLettered})
	}
}

// chain runs a, then b unless a failed; a nil a is b.
func chain[T any](a, b func(context.Context, T) error) func(context.Context, T) error {
	if a == nil {
		return b
	}
	return func(ctx context.Context, v T) error {
		if err := a(ctx, v); err != nil {
			return err
		}
		return b(ctx, v)
	}
}
