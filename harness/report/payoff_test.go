package report_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/report"
	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// roundsArch is an architecture whose list_orders and create_order had the
// given p99s (ms) in rounds 0, 1, 2 …, at a sustained 400 ops/s.
func roundsArch(name string, readP99, writeP99 []float64) results.Architecture {
	a := results.Architecture{
		Name: name,
		Load: results.LoadSummary{Mode: "open", OfferedRate: 400, AchievedRate: 400, Scheduled: 12000, Completed: 12000},
		Ops:  []results.Op{op("list_orders", 6600, 0, 1, readP99[0]), op("create_order", 1800, 0, 2, writeP99[0])},
	}
	for i := range readP99 {
		a.Rounds = append(a.Rounds, results.Round{Round: i, AchievedRate: 400, Sustained: true, Ops: []results.RoundOp{
			{Name: "list_orders", Count: 2200, P50: readP99[i] * 1000 / 3, P99: readP99[i] * 1000},
			{Name: "create_order", Count: 600, P50: writeP99[i] * 1000 / 3, P99: writeP99[i] * 1000},
		}})
	}
	return a
}

// TestPayoffWeighsCapacityAgainstReads: 3x faster reads with 3x less
// capacity do not pay off at 20% reads (0.2·ln 3 < ln 3) and do not at
// 80% either (0.8·ln 3 < ln 3); with 1.5x less capacity they do at 80%
// (0.8·ln 3 > ln 1.5), not at 20% (0.2·ln 3 < ln 1.5).
func TestPayoffWeighsCapacityAgainstReads(t *testing.T) {
	crud := withCapacity(roundsArch("crud", []float64{6, 6.3, 6.1}, []float64{4, 4.2, 3.9}), 3000, 3100, 2950)
	for _, c := range []struct {
		share, capacity float64
		outcome         string
	}{
		{0.2, 1.0 / 3, results.DoesNotPayOff},
		{0.8, 1.0 / 3, results.DoesNotPayOff},
		{0.2, 1 / 1.5, results.DoesNotPayOff},
		{0.8, 1 / 1.5, results.PaysOff},
	} {
		r := 3000 * c.capacity
		fast := withCapacity(roundsArch("cqrs-kafka", []float64{2, 2.1, 2.03}, []float64{4, 4.2, 3.9}), r, r*1.03, r*0.98)
		run := payoffRun(crud, fast)
		run.Scenario.Mix = scenarios.Mix{"list_orders": c.share, "create_order": 1 - c.share}
		if v := report.Payoff(run).Architectures[0]; v.Outcome != c.outcome || !strings.Contains(v.Sentence, "the lower capacity") {
			t.Errorf("%.0f%% reads, capacity %.2fx: %s; want %s, weighing the lower capacity", c.share*100, c.capacity, v.Sentence, c.outcome)
		}
	}
}

// withCapacity sets a's predicted highest rate in each round.
func withCapacity(a results.Architecture, rates ...float64) results.Architecture {
	for i := range a.Rounds {
		a.Rounds[i].PredictedMaxRate = rates[i]
	}
	return a
}

func payoffRun(archs ...results.Architecture) *results.Run {
	return &results.Run{
		Scenario: &scenarios.Scenario{
			Mix:     scenarios.Mix{"list_orders": 60, "create_order": 40},
			Verdict: scenarios.Verdict{StalenessBudget: scenarios.Duration(200 * time.Millisecond)},
		},
		Operations:    []results.Operation{{Name: "create_order"}, {Name: "list_orders", Query: true}},
		Architectures: archs,
	}
}

func withLag(a results.Architecture, p99ms float64) results.Architecture {
	a.Lag = &results.Lag{Stages: []results.Stage{{Name: results.StageEndToEnd, Stats: lat(500, p99ms/3, p99ms)}}}
	return a
}

func TestPayoffRules(t *testing.T) {
	crud := roundsArch("crud", []float64{6, 7, 6.5}, []float64{4, 4.2, 3.9})
	for _, c := range []struct {
		name    string
		arch    results.Architecture
		outcome string
		first   string // the first reason starts with it
	}{
		{"reads 5x faster, writes the same", roundsArch("cqrs-sync", []float64{1.2, 1.4, 1.3}, []float64{4.1, 4, 4}),
			results.PaysOff, "list_orders faster than crud (p50 5.0x lower [5.0–5.0], p99 5.0x lower [5.0–5.0]; 3 rounds)"},
		{"reads within the noise", roundsArch("cqrs-sync", []float64{5, 9, 6}, []float64{4, 4.2, 3.9}),
			results.NotDistinguishable, "list_orders not distinguishable from crud"},
		{"reads slower", roundsArch("cqrs-sync", []float64{12, 14, 13}, []float64{4, 4.2, 3.9}),
			results.DoesNotPayOff, "its reads are slower"},
		{"reads the same, writes 3x dearer", roundsArch("cqrs-sync", []float64{6, 7, 6.5}, []float64{12, 12.6, 11.7}),
			results.DoesNotPayOff, "its reads are not distinguishably faster and its writes cost more"},
		{"reads 1.5x faster, writes 4x dearer", roundsArch("cqrs-sync", []float64{4, 4.7, 4.3}, []float64{16, 16.8, 15.6}),
			results.DoesNotPayOff, "at 60% reads the write cost outweighs"},
		{"reads 5x faster, writes 1.5x dearer", roundsArch("cqrs-sync", []float64{1.2, 1.4, 1.3}, []float64{6, 6.3, 5.85}),
			results.PaysOff, "at 60% reads the read gain outweighs"},
		{"fast but stale", withLag(roundsArch("cqrs-kafka", []float64{1.2, 1.4, 1.3}, []float64{4, 4, 4}), 900),
			results.DoesNotPayOff, "lag p99 900 ms, over the 200 ms staleness budget"},
		{"fast and fresh enough", withLag(roundsArch("cqrs-kafka", []float64{1.2, 1.4, 1.3}, []float64{4, 4, 4}), 30),
			results.PaysOff, "list_orders faster"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := report.Payoff(payoffRun(crud, c.arch))
			if p == nil || len(p.Architectures) != 1 {
				t.Fatalf("payoff %+v", p)
			}
			v := p.Architectures[0]
			t.Log(v.Sentence)
			if v.Outcome != c.outcome || !strings.HasPrefix(v.Reasons[0], c.first) {
				t.Errorf("%s\ngot %s, first reason %q; want %s, %q…", v.Sentence, v.Outcome, v.Reasons[0], c.outcome, c.first)
			}
			if p.Rounds != 3 || p.ReadShare != 0.6 {
				t.Errorf("rounds %d, read share %g; want 3, 0.6", p.Rounds, p.ReadShare)
			}
		})
	}
}

func TestPayoffDisqualifies(t *testing.T) {
	crud := roundsArch("crud", []float64{6, 7, 6.5}, []float64{4, 4.2, 3.9})
	fast := roundsArch("cqrs-sync", []float64{1.2, 1.4, 1.3}, []float64{4, 4, 4})

	broken := fast
	broken.Consistency = &results.Consistency{Violations: 3, Lost: 3}
	behindIn := func(a results.Architecture, rounds ...int) results.Architecture {
		a.Rounds = slices.Clone(a.Rounds)
		for _, i := range rounds {
			a.Rounds[i].Sustained = false
		}
		a.Load.AchievedRate, a.Load.Queued = 350, 900
		return a
	}
	behind := behindIn(fast, 0, 2)
	for name, a := range map[string]results.Architecture{"inconsistent": broken, "not sustained": behind} {
		v := report.Payoff(payoffRun(crud, a)).Architectures[0]
		if v.Outcome != results.DoesNotPayOff {
			t.Errorf("%s: %s", name, v.Sentence)
		}
	}
	// crud failing the load is what the faster architecture gains.
	if v := report.Payoff(payoffRun(behindIn(crud, 0, 2), behind)).Architectures[0]; v.Outcome != results.PaysOff {
		t.Errorf("both behind: %s", v.Sentence)
	}
	// One stall in one round of three does not decide.
	if v := report.Payoff(payoffRun(crud, behindIn(fast, 1))).Architectures[0]; v.Outcome != results.PaysOff {
		t.Errorf("behind in one round of three: %s", v.Sentence)
	}
}

func TestPayoffSummary(t *testing.T) {
	crud := roundsArch("crud", []float64{6, 7, 6.5}, []float64{4, 4.2, 3.9})
	slow := roundsArch("cqrs-sync", []float64{12, 14, 13}, []float64{4, 4.2, 3.9})
	p := report.Payoff(payoffRun(crud, slow))
	if !strings.HasPrefix(p.Summary, "crud is the better choice for this workload") || !strings.Contains(p.Summary, "cqrs-sync: its reads are slower") {
		t.Errorf("summary %q", p.Summary)
	}
	single := crud
	single.Rounds = single.Rounds[:1]
	one := slow
	one.Rounds = one.Rounds[:1]
	v := report.Payoff(payoffRun(single, one)).Architectures[0]
	if v.Outcome != results.NotDistinguishable || !strings.Contains(v.Sentence, "one round gives no interval") {
		t.Errorf("one round: %s", v.Sentence)
	}
	if report.Payoff(payoffRun(crud)) != nil {
		t.Error("crud alone: want no payoff verdict")
	}
}

// TestPayoffWeighsMedianAndTail: a read faster at the median but slower at
// the tail is no win; a tail gain at an equal median is one.
func TestPayoffWeighsMedianAndTail(t *testing.T) {
	crud := roundsArch("crud", []float64{6, 7, 6.5}, []float64{4, 4.2, 3.9})
	withMedians := func(a results.Architecture, p50 []float64) results.Architecture {
		for i := range a.Rounds {
			a.Rounds[i].Ops[0].P50 = p50[i] * 1000
		}
		return a
	}
	mixed := withMedians(roundsArch("cqrs-sync", []float64{14, 15, 13}, []float64{4, 4.2, 3.9}), []float64{0.5, 0.6, 0.55})
	if v := report.Payoff(payoffRun(crud, mixed)).Architectures[0]; v.Outcome != results.NotDistinguishable || v.Read.Call != results.Same {
		t.Errorf("median 4x faster, tail 2x slower: %s", v.Sentence)
	}
	tail := withMedians(roundsArch("cqrs-sync", []float64{2, 2.2, 2.1}, []float64{4, 4.2, 3.9}), []float64{2, 2.33, 2.17})
	if v := report.Payoff(payoffRun(crud, tail)).Architectures[0]; v.Outcome != results.PaysOff || v.Read.P50.Call != results.Same {
		t.Errorf("same median, tail 3x faster: %s", v.Sentence)
	}
}

// TestPayoffCountsCapacity: reads no faster, but 1.6x the predicted
// capacity, is a payoff; its interval is in the sentence.
func TestPayoffCountsCapacity(t *testing.T) {
	crud := withCapacity(roundsArch("crud", []float64{6, 7, 6.5}, []float64{4, 4.2, 3.9}), 1000, 1100, 950)
	same := withCapacity(roundsArch("cqrs-sync", []float64{6, 7, 6.5}, []float64{4, 4.2, 3.9}), 1600, 1800, 1500)
	v := report.Payoff(payoffRun(crud, same)).Architectures[0]
	if v.Outcome != results.PaysOff || v.Capacity == nil || v.Capacity.Call != results.Better ||
		!strings.Contains(v.Sentence, "predicted capacity 1.6x higher [") {
		t.Errorf("same latency, 1.6x capacity: %s (capacity %+v)", v.Sentence, v.Capacity)
	}
	less := withCapacity(roundsArch("cqrs-sync", []float64{6, 7, 6.5}, []float64{4, 4.2, 3.9}), 600, 700, 550)
	if v := report.Payoff(payoffRun(crud, less)).Architectures[0]; v.Outcome != results.DoesNotPayOff || v.Capacity.Call != results.Worse {
		t.Errorf("same latency, less capacity: %s", v.Sentence)
	}
}

// TestPayoffSaysItsCosts: beside the ratios that decide, the verdict says
// what the architecture costs: WAL per command over crud's, the storage
// of its read models and pipeline tables, and its rebuild time.
func TestPayoffSaysItsCosts(t *testing.T) {
	crud := roundsArch("crud", []float64{6, 7, 6.5}, []float64{4, 4.2, 3.9})
	crud.Cost = &results.Cost{WALBytesPerCommand: 1000}
	kafka := roundsArch("cqrs-kafka", []float64{1.2, 1.4, 1.3}, []float64{4.1, 4, 4})
	kafka.Cost = &results.Cost{WALBytesPerCommand: 1500, Storage: []results.TableSize{
		{Table: "order_read_model", Role: results.RoleReadModel, Bytes: 30 << 20},
		{Table: "outbox", Role: results.RolePipeline, Bytes: 2 << 20},
		{Table: "orders", Role: results.RoleWriteModel, Bytes: 90 << 20},
	}}
	kafka.Cost.TransportBytesPerEvent = 412
	kafka.Faults = []results.Fault{{Kind: "rebuild", Injected: 1, Rebuild: &results.Rebuild{Events: 5000, TotalSeconds: 2.5}}}
	v := report.Payoff(payoffRun(crud, kafka)).Architectures[0]
	if v.WALAmplification != 1.5 || v.ExtraStorageBytes != 32<<20 || v.RebuildSeconds != 2.5 {
		t.Errorf("costs %v WAL, %d bytes, %v s rebuild; want 1.5, 32 MB (the write model not counted), 2.5 s", v.WALAmplification, v.ExtraStorageBytes, v.RebuildSeconds)
	}
	for _, want := range []string{"each command writes 1.5x crud's WAL", "read models and pipeline tables take 32 MB", "rebuilding its read models took 2.50 s (5000 events)", "each event is 412 bytes on the transport"} {
		if !strings.Contains(v.Sentence, want) {
			t.Errorf("sentence lacks %q: %s", want, v.Sentence)
		}
	}
}
