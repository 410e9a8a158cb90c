package report

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/harness/stats"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// How the payoff verdict weighs the evidence.
const (
	// confidence is the level of the ratios' intervals.
	confidence = 0.95
	// minEffect is the smallest change the verdict calls a difference: on
	// a shared machine the same query's throughput moves ±30% between
	// consecutive runs, and a 5% gain is not worth an architecture.
	minEffect = 0.10
	// minSamplesP50 and minSamplesP99 are the fewest samples a round must
	// have, on both sides, for the ratio of that percentile to be called:
	// the p99 of fewer than 400 samples rests on the 3 slowest, often one
	// stall of the machine.
	minSamplesP50 = 20
	minSamplesP99 = 400
)

// Payoff judges each CQRS architecture of run against crud: does it pay
// off for this workload, not, or is the difference inside the noise? Nil
// when crud or every other architecture is missing.
//
// The rules, in order (the first that applies decides):
//  1. read models inconsistent after catch-up: does not pay off;
//  2. lag p99 over the scenario's staleness budget: does not pay off;
//  3. the offered load not sustained where crud sustained it, in most
//     rounds: does not pay off;
//  4. the headline query's p99 distinguishably lower than crud's (the
//     whole 95% interval of the ratio, across interleaved rounds, beyond
//     minEffect): pays off, unless the headline command's p99 is
//     distinguishably higher or the predicted capacity distinguishably
//     lower, and those costs outweigh the read gain: the read gain and the
//     write cost weighted by the mix's shares of reads and writes, the
//     capacity loss by the whole mix (logarithms of the ratios: 2× faster
//     reads at 50% reads balance 2× slower writes at 50% writes, and 4×
//     faster reads at 50% reads balance 2× less capacity);
//  5. the headline query no faster, but the predicted capacity (CPU per
//     operation, see results.Cost) distinguishably higher, writes not
//     costlier: pays off;
//  6. the headline query distinguishably slower, or no faster while writes
//     cost more or the capacity is lower: does not pay off;
//  7. otherwise: not distinguishable.
func Payoff(run *results.Run) *results.Payoff {
	if run == nil {
		return nil
	}
	crud, ok := run.Arch(catalog.Baseline())
	if !ok || len(run.Architectures) < 2 {
		return nil
	}
	budget := scenarios.DefaultStalenessBudget
	if run.Scenario != nil && run.Scenario.Verdict.StalenessBudget > 0 {
		budget = run.Scenario.Verdict.StalenessBudget.Std()
	}
	p := &results.Payoff{
		Rounds:            max(len(crud.Rounds), 1),
		Confidence:        confidence,
		MinEffect:         minEffect,
		StalenessBudgetMs: float64(budget) / float64(time.Millisecond),
		ReadShare:         readShare(run),
	}
	heads := headlineOps(run)
	for i := range run.Architectures {
		a := &run.Architectures[i]
		if a.Name == crud.Name {
			continue
		}
		d, _ := descriptorIn(run, a.Name)
		p.Architectures = append(p.Architectures, judge(a, crud, d, heads, p))
	}
	p.Summary = payoffSummary(p)
	return p
}

// readShare is the share of the scenario's mix that is queries.
func readShare(run *results.Run) float64 {
	if run.Scenario == nil {
		return 0
	}
	var reads, all float64
	for _, op := range workloadOps(run) {
		w := run.Scenario.Mix[scenarios.Op(op.Name)]
		all += w
		if op.Query {
			reads += w
		}
	}
	if all == 0 {
		return 0
	}
	return reads / all
}

// judge applies Payoff's rules to a, whose descriptor in the run is d,
// against crud.
func judge(a, crud *results.Architecture, d catalog.Descriptor, heads [2][]string, p *results.Payoff) results.ArchPayoff {
	v := results.ArchPayoff{
		Architecture:   a.Name,
		StaleReadShare: a.Staleness.Rate,
		Sustained:      sustained(a.Load),
		Read:           compareLatency(crud, a, heads[0], false),
		Write:          compareLatency(a, crud, heads[1], true),
		Capacity:       capacityRatio(a, crud),
	}
	if a.Consistency != nil {
		v.Violations = a.Consistency.Violations
	}
	lagClause := ""
	if d.Consistency.Lags() {
		lag := a.Lag.P99()
		if slices.Contains(d.Needs, catalog.Replica) && a.Lag != nil {
			// The pipeline's end-to-end lag ends on the primary; the
			// screens see a write only once the replica replayed it.
			lag = max(lag, a.Lag.Visible.P99)
		}
		if lag > 0 {
			ms := lag / 1000
			v.LagP99Ms = &ms
			v.OverBudget = ms > p.StalenessBudgetMs
			lagClause = fmt.Sprintf("lag p99 %s (budget %s)", human(lag), human(p.StalenessBudgetMs*1000))
			if v.OverBudget {
				lagClause = fmt.Sprintf("lag p99 %s, over the %s staleness budget", human(lag), human(p.StalenessBudgetMs*1000))
			}
		} else {
			lagClause = "lag n/a (no samples)"
		}
	}
	readClause, writeClause := comparisonClause(v.Read, "lower", "higher"), comparisonClause(v.Write, "higher", "lower")
	var stale string
	if a.Staleness.Reads > 0 {
		stale = pct(a.Staleness.Rate) + " of reads stale"
	}
	readCall, writeCall := call(v.Read), call(v.Write)
	capacityCall, capacityClause := results.Same, ""
	if c := v.Capacity; c != nil {
		capacityCall = c.Call
		capacityClause = "predicted capacity " + ratioWords(*c, "higher", "lower") + " than crud's"
	}

	var deciding string
	switch {
	case v.Violations > 0:
		v.Outcome = results.DoesNotPayOff
		deciding = fmt.Sprintf("its read models were INCONSISTENT after catch-up (%s lost, extra or mismatched)", plural(v.Violations, "row", "rows"))
	case v.OverBudget:
		v.Outcome, deciding, lagClause = results.DoesNotPayOff, lagClause, ""
	case behindCRUD(a, crud):
		v.Outcome = results.DoesNotPayOff
		deciding = fmt.Sprintf("it did not sustain the offered load crud sustained (%s of %s ops/s; see the load table)", rate(a.Load.AchievedRate), rate(a.Load.OfferedRate))
	case readCall == results.Better && (writeCall == results.Worse || capacityCall == results.Worse):
		gain := p.ReadShare * math.Log(decisive(v.Read))
		var cost float64
		var costs []string
		if writeCall == results.Worse {
			cost += (1 - p.ReadShare) * math.Log(decisive(v.Write))
			costs = append(costs, "the write cost")
		}
		if capacityCall == results.Worse {
			cost += math.Log(1 / v.Capacity.Estimate)
			costs = append(costs, "the lower capacity")
		}
		if gain >= cost {
			v.Outcome = results.PaysOff
			deciding = fmt.Sprintf("at %s reads the read gain outweighs %s", pct(p.ReadShare), strings.Join(costs, " and "))
		} else {
			v.Outcome = results.DoesNotPayOff
			verb := "outweighs"
			if len(costs) > 1 {
				verb = "outweigh"
			}
			deciding = fmt.Sprintf("at %s reads %s %s the read gain", pct(p.ReadShare), strings.Join(costs, " and "), verb)
		}
	case readCall == results.Better:
		v.Outcome = results.PaysOff
	case readCall == results.Same && writeCall != results.Worse && capacityCall == results.Better:
		v.Outcome = results.PaysOff
		deciding = "it carries more load on this host"
	case readCall == results.Worse:
		v.Outcome = results.DoesNotPayOff
		deciding = "its reads are slower than crud's"
	case writeCall == results.Worse:
		v.Outcome = results.DoesNotPayOff
		deciding = "its reads are not distinguishably faster and its writes cost more"
	case capacityCall == results.Worse:
		v.Outcome = results.DoesNotPayOff
		deciding = "its reads are not distinguishably faster and it carries less load on this host"
	default:
		v.Outcome = results.NotDistinguishable
		if p.Rounds < 2 {
			deciding = "one round gives no interval: run interleaved rounds (interleaving.mode: interleaved)"
		}
	}
	costs := costClauses(a, crud, &v)
	for _, c := range append([]string{deciding, readClause, writeClause, capacityClause, lagClause, stale}, costs...) {
		if c != "" {
			v.Reasons = append(v.Reasons, c)
		}
	}
	v.Sentence = a.Name + " " + outcomeWords(v.Outcome) + " for this workload: " + strings.Join(v.Reasons, "; ")
	return v
}

// costClauses fills v's WAL amplification, extra storage and rebuild
// time and says them: what the architecture costs beside its latencies,
// weighed by the reader, not by the rules.
func costClauses(a, crud *results.Architecture, v *results.ArchPayoff) []string {
	var out []string
	if a.Cost != nil && crud.Cost != nil && a.Cost.WALBytesPerCommand > 0 && crud.Cost.WALBytesPerCommand > 0 {
		v.WALAmplification = a.Cost.WALBytesPerCommand / crud.Cost.WALBytesPerCommand
		out = append(out, fmt.Sprintf("each command writes %s crud's WAL", ratio(v.WALAmplification)))
	}
	if a.Cost != nil {
		v.ExtraStorageBytes = storageOf(a.Cost, results.RoleReadModel) + storageOf(a.Cost, results.RolePipeline)
		if v.ExtraStorageBytes > 0 {
			out = append(out, fmt.Sprintf("read models and pipeline tables take %s MB", megabytes(v.ExtraStorageBytes)))
		}
		if b := a.Cost.TransportBytesPerEvent; b > 0 {
			out = append(out, fmt.Sprintf("each event is %.0f bytes on the transport", b))
		}
	}
	for _, f := range a.Faults {
		if f.Rebuild != nil && f.Rebuild.TotalSeconds > 0 {
			v.RebuildSeconds = f.Rebuild.TotalSeconds
			out = append(out, fmt.Sprintf("rebuilding its read models took %s (%s)", human(f.Rebuild.TotalSeconds*1e6), plural(f.Rebuild.Events, "event", "events")))
		}
	}
	return out
}

// outcomeWords says an outcome in a sentence.
func outcomeWords(outcome string) string {
	switch outcome {
	case results.PaysOff:
		return "pays off"
	case results.DoesNotPayOff:
		return "does not pay off"
	}
	return "is not distinguishable from crud"
}

// compareLatency compares num's latency with den's (num over den) for the
// first of ops both ran with samples, at p50 and p99, pairing their rounds
// by number (a file without rounds gives one ratio from the merged
// percentiles). worseIfAbove says which way is worse for the architecture
// judged: a write ratio above 1 is a cost, a read ratio above 1 a gain.
// Nil when no operation has samples on both sides.
func compareLatency(num, den *results.Architecture, ops []string, worseIfAbove bool) *results.Comparison {
	for _, name := range ops {
		p50, p99, ok50, ok99 := percentileRatios(num, den, opIn(name), worseIfAbove)
		if !ok50 || !ok99 {
			continue
		}
		return &results.Comparison{Op: name, P50: p50, P99: p99, Call: combine(p50.Call, p99.Call)}
	}
	return nil
}

// percentileRatios estimates num's over den's p50 and p99 of what pick
// takes from a round (an operation's latency, a lag stage's) across their
// paired rounds, each ok when some round had samples on both sides.
func percentileRatios(num, den *results.Architecture, pick func(results.Round) (results.RoundOp, bool), worseIfAbove bool) (p50, p99 results.Ratio, ok50, ok99 bool) {
	p50, ok50 = percentileRatio(num, den, pick, func(o results.RoundOp) float64 { return o.P50 }, minSamplesP50, worseIfAbove)
	p99, ok99 = percentileRatio(num, den, pick, func(o results.RoundOp) float64 { return o.P99 }, minSamplesP99, worseIfAbove)
	return p50, p99, ok50, ok99
}

// percentileRatio estimates num's over den's percentile (pct) of what
// pick takes from a round, across their paired rounds; it is called only
// when every round had minSamples on both sides.
func percentileRatio(num, den *results.Architecture, pick func(results.Round) (results.RoundOp, bool), pct func(results.RoundOp) float64, minSamples int64, worseIfAbove bool) (results.Ratio, bool) {
	numRounds, denRounds := roundsOf(num), roundsOf(den)
	var ratios []float64
	tooFew := false
	for _, rn := range numRounds {
		for _, rd := range denRounds {
			if rd.Round != rn.Round {
				continue
			}
			x, okX := pick(rn)
			y, okY := pick(rd)
			if okX && okY && pct(x) > 0 && pct(y) > 0 {
				ratios = append(ratios, pct(x)/pct(y))
				tooFew = tooFew || x.Count < minSamples || y.Count < minSamples
			}
		}
	}
	return ratioOf(ratios, worseIfAbove, tooFew)
}

// behindCRUD reports whether a fell behind the offered load where crud
// kept up: in most of their paired rounds, so that one stall of a shared
// machine in one round does not decide.
func behindCRUD(a, crud *results.Architecture) bool {
	behind, paired := 0, 0
	for _, ra := range roundsOf(a) {
		for _, rc := range roundsOf(crud) {
			if ra.Round == rc.Round {
				paired++
				if !ra.Sustained && rc.Sustained {
					behind++
				}
			}
		}
	}
	return behind*2 > paired
}

// capacityRatio estimates a's predicted highest rate over crud's across
// their paired rounds; nil when a round lacks a prediction.
func capacityRatio(a, crud *results.Architecture) *results.Ratio {
	var ratios []float64
	for _, ra := range roundsOf(a) {
		for _, rc := range roundsOf(crud) {
			if ra.Round == rc.Round && ra.PredictedMaxRate > 0 && rc.PredictedMaxRate > 0 {
				ratios = append(ratios, ra.PredictedMaxRate/rc.PredictedMaxRate)
			}
		}
	}
	r, ok := ratioOf(ratios, false, false)
	if !ok {
		return nil
	}
	return &r
}

// ratioOf estimates a ratio from the rounds' ratios and calls it (unless
// tooFew): Better when it is beyond 1 + minEffect in the architecture's
// favour — above 1, or below when worseIfAbove — Worse the other way.
func ratioOf(ratios []float64, worseIfAbove, tooFew bool) (results.Ratio, bool) {
	iv, err := stats.RatioInterval(ratios, confidence)
	if err != nil || len(ratios) == 0 {
		return results.Ratio{}, false
	}
	r := results.Ratio{Estimate: iv.Estimate, Low: iv.Low, High: iv.High, Rounds: iv.N, Call: results.Same, TooFewSamples: tooFew}
	switch c := iv.Compare(minEffect); {
	case tooFew:
	case c == stats.Above && !worseIfAbove, c == stats.Below && worseIfAbove:
		r.Call = results.Better
	case c != stats.Inside:
		r.Call = results.Worse
	}
	return r, true
}

// roundsOf returns a's rounds; a file written before rounds were kept
// has one, made of the merged statistics.
func roundsOf(a *results.Architecture) []results.Round {
	if len(a.Rounds) > 0 {
		return a.Rounds
	}
	return []results.Round{results.RoundOf(*a, 0)}
}

// opIn picks operation op's latency from a round, if it had samples.
func opIn(op string) func(results.Round) (results.RoundOp, bool) {
	return func(r results.Round) (results.RoundOp, bool) { return named(r.Ops, op) }
}

// lagIn picks lag stage stage from a round, if it had samples.
func lagIn(stage string) func(results.Round) (results.RoundOp, bool) {
	return func(r results.Round) (results.RoundOp, bool) { return named(r.Lag, stage) }
}

// named is the entry of list called name, if it had samples.
func named(list []results.RoundOp, name string) (results.RoundOp, bool) {
	for _, o := range list {
		if o.Name == name && o.Count > 0 {
			return o, true
		}
	}
	return results.RoundOp{}, false
}

// decisive is the estimate of the percentile that made c's call: the
// p50's when it agrees with the call (it is the steadier), else the p99's.
func decisive(c *results.Comparison) float64 {
	if c.P50.Call == c.Call {
		return c.P50.Estimate
	}
	return c.P99.Estimate
}

// combine is a Comparison's call from its percentiles' calls.
func combine(a, b string) string {
	better := a == results.Better || b == results.Better
	worse := a == results.Worse || b == results.Worse
	switch {
	case better && !worse:
		return results.Better
	case worse && !better:
		return results.Worse
	}
	return results.Same
}

// call is c's call; Same when c is nil.
func call(c *results.Comparison) string {
	if c == nil {
		return results.Same
	}
	return c.Call
}

// comparisonClause says c in words: "list_orders faster than crud (p50
// 3.7x lower [3.4–4.0], p99 2.8x lower [0.2–46]; 3 rounds)", the brackets
// holding 95% intervals; up and down name the directions of a ratio above
// and below 1.
func comparisonClause(c *results.Comparison, up, down string) string {
	if c == nil {
		return ""
	}
	head := c.Op + " not distinguishable from crud"
	switch c.Call {
	case results.Better:
		head = c.Op + " faster than crud"
	case results.Worse:
		head = c.Op + " slower than crud"
	}
	rounds := plural(int64(c.P50.Rounds), "round", "rounds")
	if c.P50.Rounds < 2 {
		rounds = "1 round: no interval"
	}
	return fmt.Sprintf("%s (p50 %s, p99 %s; %s)", head, ratioWords(c.P50, up, down), ratioWords(c.P99, up, down), rounds)
}

// ratioWords says r: "3.7x lower [3.4–4.0]", "1.1x higher [0.6–2.0]";
// up and down name the directions of a ratio above and below 1.
func ratioWords(r results.Ratio, up, down string) string {
	dir, f, lo, hi := up, r.Estimate, r.Low, r.High
	if f < 1 {
		dir, f, lo, hi = down, 1/f, 1/r.High, 1/r.Low
	}
	s := factor(f) + "x " + dir
	if r.Rounds >= 2 {
		s += " [" + factor(lo) + "–" + factor(hi) + "]"
	}
	if r.TooFewSamples {
		s += " (too few samples a round to call)"
	}
	return s
}

// payoffSummary says p in one sentence: which architectures pay off, or
// that crud is the better choice and why.
func payoffSummary(p *results.Payoff) string {
	by := map[string][]string{}
	var why []string
	for _, a := range p.Architectures {
		by[a.Outcome] = append(by[a.Outcome], a.Architecture)
		if a.Outcome == results.DoesNotPayOff && len(a.Reasons) > 0 {
			why = append(why, a.Architecture+": "+a.Reasons[0])
		}
	}
	list := func(outcome string) string { return strings.Join(by[outcome], ", ") }
	if len(by[results.PaysOff]) > 0 {
		s := "Pays off for this workload: " + list(results.PaysOff)
		if len(by[results.DoesNotPayOff]) > 0 {
			s += "; does not: " + list(results.DoesNotPayOff)
		}
		if len(by[results.NotDistinguishable]) > 0 {
			s += "; not distinguishable from crud: " + list(results.NotDistinguishable)
		}
		return s + "."
	}
	if len(by[results.NotDistinguishable]) == 0 {
		return "crud is the better choice for this workload: none of the others pays off (" + strings.Join(why, "; ") + ")."
	}
	// "The others": the CQRS architectures, and crud-replica, judged alike.
	s := "None of the others is distinguishably better than crud for this workload"
	if len(why) > 0 {
		s += " (" + strings.Join(why, "; ") + ")"
	}
	return s + ": crud is simpler, keep it unless more rounds show a difference."
}
