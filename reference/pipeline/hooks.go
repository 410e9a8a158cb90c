package pipeline

import (
	"context"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/apply"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/relay"
)

// WithFaultHooks returns a relay's and a projection core's hooks with the
// harness's architecture-neutral fault hooks h added to those a
// configuration already holds (a test's own), and the relay's duplicate
// fraction. Every transport's architecture wires its fault hooks through
// it.
func WithFaultHooks(h reference.Hooks, r relay.Hooks, dupFraction float64, p apply.Hooks) (relay.Hooks, float64, apply.Hooks) {
	if h.BeforePublish != nil {
		r.BeforePublish = chain(r.BeforePublish, h.BeforePublish)
	}
	if h.AfterConfirm != nil {
		r.AfterConfirm = chain(r.AfterConfirm, h.AfterConfirm)
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

// batchHook adapts a neutral batch hook to the projection core's. The core
// sees decoded events: Records counts them, and undecodable messages,
// dead-lettered before the transaction, are not in the batch.
func batchHook(h func(context.Context, reference.Batch) error) func(context.Context, apply.Batch) error {
	return func(ctx context.Context, b apply.Batch) error {
		return h(ctx, reference.Batch{Records: b.Events, Applied: b.Applied, Duplicates: b.Duplicates})
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
