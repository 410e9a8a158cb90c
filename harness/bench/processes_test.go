package bench

import (
	"strings"
	"testing"

	"github.com/cqrsbench/cqrsbench/harness/results"
)

// TestProcessCPUDelta: a process in both readings counts its growth, one
// started since counts all its time, and one that ended since (another
// test's server stopping) counts nothing rather than taking its whole
// life's time off its class.
func TestProcessCPUDelta(t *testing.T) {
	t.Parallel()
	from := map[procKey]procSample{
		{pid: 10, start: 1}: {procPostgreSQL, 5},   // lives on: +1.5
		{pid: 11, start: 1}: {procPostgreSQL, 900}, // ends
		{pid: 20, start: 1}: {procRabbitMQ, 40},    // lives on: +0.5
	}
	to := map[procKey]procSample{
		{pid: 10, start: 1}: {procPostgreSQL, 6.5},
		{pid: 12, start: 7}: {procPostgreSQL, 0.25}, // new
		{pid: 20, start: 1}: {procRabbitMQ, 40.5},
		{pid: 11, start: 9}: {procKafka, 2}, // PID 11 reused by a new process
	}
	got := processCPUDelta(from, to)
	want := map[string]float64{procPostgreSQL: 1.75, procRabbitMQ: 0.5, procKafka: 2}
	for class, w := range want {
		if got[class] != w {
			t.Errorf("%s: %v CPU seconds, want %v (all: %v)", class, got[class], w, got)
		}
	}
}

// TestNoPredictionFromOthersCPU: when the host's other processes took
// more than a quarter of its busy time, the cost per operation is theirs
// as much as the architecture's, and no capacity is predicted from it.
func TestNoPredictionFromOthersCPU(t *testing.T) {
	t.Parallel()
	cost := func(other float64) *results.Cost {
		return &results.Cost{Seconds: 10, Ops: 1000, HostCPUs: 2, HostCPUSeconds: 2, ProcessCPU: []results.ProcessCPU{
			{Process: procPostgreSQL, Seconds: 2 - other}, {Process: results.ProcessOther, Seconds: other}}}
	}
	quiet, busy := cost(0.2), cost(0.8)
	perOp(quiet)
	perOp(busy)
	if quiet.PredictedMaxRate != 1000 || quiet.PredictionSkipped != "" {
		t.Errorf("10%% other: predicted %v (%s), want 1000/s", quiet.PredictedMaxRate, quiet.PredictionSkipped)
	}
	if busy.PredictedMaxRate != 0 || !strings.Contains(busy.PredictionSkipped, "took 40% of its busy time") {
		t.Errorf("40%% other: predicted %v (%q), want none, saying why", busy.PredictedMaxRate, busy.PredictionSkipped)
	}
}
