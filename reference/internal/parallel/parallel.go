// Package parallel runs numbered jobs on a bounded number of goroutines,
// stopping at the first error: the loaders use it to spread COPY and index
// builds over several connections.
package parallel

import (
	"context"
	"sync"
	"sync/atomic"
)

// Run calls fn(ctx, i) for i in [0, n) on up to workers goroutines, in
// order of i. The first error cancels the calls not yet started and is
// returned.
func Run(ctx context.Context, workers, n int, fn func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	for range max(1, min(workers, n)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := fn(ctx, i); err != nil {
					errOnce.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return context.Cause(ctx)
}
