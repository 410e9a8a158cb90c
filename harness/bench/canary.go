package bench

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// The canary: a fixed, cheap, CPU-bound query run back to back on one
// connection for canaryWindow before every architecture's round, with
// no load offered. Its rate moves only with the machine (other tenants,
// frequency scaling, a noisy neighbour), so the spread of the rates
// across the run says how much the machine drifted while the
// architectures were measured. It runs between the measured runs, never
// during one: a query loop during a run would take the CPU it measures.
const (
	canaryWindow = 250 * time.Millisecond
	canaryQuery  = "SELECT count(*) FROM generate_series(1, 2000)"
)

// canary returns the canary query's rate, in queries per second.
func canary(ctx context.Context, pool *pgxpool.Pool) (float64, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, fmt.Errorf("canary: %w", err)
	}
	defer conn.Release()
	var n int64
	start := time.Now()
	for time.Since(start) < canaryWindow {
		var count int64
		if err := conn.QueryRow(ctx, canaryQuery).Scan(&count); err != nil {
			return 0, fmt.Errorf("canary: %w", err)
		}
		n++
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
