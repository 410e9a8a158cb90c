package bench

import (
	"context"

	"github.com/cqrsbench/cqrsbench/harness/infra"
)

// CPUByClassSince reads the host's processes' CPU now, the services inf
// runs told apart by their process trees, and returns a function that
// gives each class's CPU seconds since.
func CPUByClassSince(ctx context.Context, inf infra.Infra) func() map[string]float64 {
	from := readCPU(ctx, inf)
	return func() map[string]float64 { return processCPUDelta(from.procCPU, readCPU(ctx, inf).procCPU) }
}

// QueueingMaxRate is queueingMaxRate, for the capacity search's test to
// check each prediction against the model.
var QueueingMaxRate = queueingMaxRate
