package bench

import "testing"

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
