package bench

import (
	"math"
	"strings"
	"testing"

	"github.com/cqrsbench/cqrsbench/harness/results"
)

// TestProcessCPUDelta: a process in both readings counts its growth, one
// started since counts all its time, one that ended since (another test's
// server stopping) counts nothing rather than taking its whole life's
// time off its class, and one its counted parent reaped counts its time
// since the first reading, once.
func TestProcessCPUDelta(t *testing.T) {
	t.Parallel()
	from := map[procKey]procSample{
		{pid: 10, start: 1}: {procPostgreSQL, 1, 5},   // lives on: +1.5
		{pid: 11, start: 1}: {procPostgreSQL, 1, 900}, // ends
		{pid: 20, start: 1}: {procRabbitMQ, 1, 40},    // lives on: +0.5
		{pid: 30, start: 1}: {procPostgreSQL, 1, 100}, // reaps 31: +3 of its own, +7 of 31's
		{pid: 31, start: 2}: {procPostgreSQL, 30, 4},  // ends after 3 more seconds: 7 in all
	}
	to := map[procKey]procSample{
		{pid: 10, start: 1}: {procPostgreSQL, 1, 6.5},
		{pid: 12, start: 7}: {procPostgreSQL, 1, 0.25}, // new
		{pid: 20, start: 1}: {procRabbitMQ, 1, 40.5},
		{pid: 11, start: 9}: {procKafka, 1, 2}, // PID 11 reused by a new process
		{pid: 30, start: 1}: {procPostgreSQL, 1, 110},
	}
	got := processCPUDelta(from, to)
	want := map[string]float64{procPostgreSQL: 1.75 + 3 + 3, procRabbitMQ: 0.5, procKafka: 2}
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
	// 2 CPUs over the run's own 1.8 ms per operation; the others' 0.2 ms
	// are not the architecture's.
	if want := 2 / 1.8e-3; math.Abs(quiet.PredictedMaxRate-want) > 1e-6 || quiet.PredictionSkipped != "" {
		t.Errorf("10%% other: predicted %v (%s), want %.1f/s", quiet.PredictedMaxRate, quiet.PredictionSkipped, want)
	}
	if busy.PredictedMaxRate != 0 || !strings.Contains(busy.PredictionSkipped, "took 40% of its busy time") {
		t.Errorf("40%% other: predicted %v (%q), want none, saying why", busy.PredictedMaxRate, busy.PredictionSkipped)
	}
}
