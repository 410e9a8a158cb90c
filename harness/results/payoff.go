package results

// Payoff is the verdict of a run: for each CQRS architecture, whether it
// pays off against crud for this workload, and why (harness/verdict
// computes it; results/README.md documents every field).
type Payoff struct {
	// Summary is one sentence for the whole run: which architectures pay
	// off, or that crud is the better choice and why.
	Summary string `json:"summary"`
	// Rounds is the number of interleaved rounds the ratios rest on.
	Rounds int `json:"rounds"`
	// Confidence is the level of the ratios' intervals (0.95).
	Confidence float64 `json:"confidence"`
	// MinEffect is the smallest change called a difference: a ratio is
	// "better" or "worse" only when its whole interval lies beyond 1 ±
	// MinEffect (0.1: 10%).
	MinEffect float64 `json:"min_effect"`
	// StalenessBudgetMs is the lag p99 beyond which an architecture is
	// disqualified (the scenario's verdict.staleness_budget).
	StalenessBudgetMs float64 `json:"staleness_budget_ms"`
	// ReadShare is the share of the mix's operations that are queries.
	ReadShare float64 `json:"read_share"`
	// Architectures holds one verdict per CQRS architecture, in run order.
	Architectures []ArchPayoff `json:"architectures"`
}

// The outcomes of an ArchPayoff.
const (
	PaysOff            = "pays_off"
	DoesNotPayOff      = "does_not_pay_off"
	NotDistinguishable = "not_distinguishable"
)

// ArchPayoff is the verdict on one CQRS architecture.
type ArchPayoff struct {
	Architecture string `json:"architecture"`
	// Outcome is PaysOff, DoesNotPayOff or NotDistinguishable.
	Outcome string `json:"outcome"`
	// Sentence says the outcome and its reasons in one line.
	Sentence string `json:"sentence"`
	// Reasons are the sentence's clauses, the deciding one first.
	Reasons []string `json:"reasons"`
	// Read compares the headline query with crud's: crud's latency over
	// this architecture's, above 1 when reads are faster here. Nil when
	// either has no samples.
	Read *Comparison `json:"read,omitempty"`
	// Write compares the headline command: this architecture's latency
	// over crud's, above 1 when writes cost more here.
	Write *Comparison `json:"write,omitempty"`
	// Capacity is this architecture's predicted highest rate of the mix
	// over crud's (Cost.PredictedMaxRate, round by round): above 1, it
	// would carry more load on this host. Nil when not measured.
	Capacity *Ratio `json:"capacity,omitempty"`
	// LagP99Ms is the end-to-end projection lag p99 (or the prober's
	// visible lag p99 without a pipeline); absent for architectures whose
	// reads never lag.
	LagP99Ms *float64 `json:"lag_p99_ms,omitempty"`
	// OverBudget is true when LagP99Ms exceeds the staleness budget.
	OverBudget bool `json:"over_budget,omitempty"`
	// StaleReadShare is the share of classified reads that were stale.
	StaleReadShare float64 `json:"stale_read_share"`
	// Sustained is false when the architecture did not keep up with the
	// offered load (see the load table).
	Sustained bool `json:"sustained"`
	// Violations is the checker's lost + extra + mismatched rows.
	Violations int64 `json:"violations"`
	// WALAmplification is this architecture's WAL bytes per command over
	// crud's (absent when either was not measured): what each write
	// costs the disk and every replica.
	WALAmplification float64 `json:"wal_amplification,omitempty"`
	// ExtraStorageBytes is the size of its read models and pipeline
	// tables (outbox, inbox), indexes included, after the run: storage
	// crud does not need.
	ExtraStorageBytes int64 `json:"extra_storage_bytes,omitempty"`
	// RebuildSeconds is how long rebuilding its read models took, when
	// the run rebuilt them (the rebuild fault).
	RebuildSeconds float64 `json:"rebuild_seconds,omitempty"`
}

// The calls of a Ratio.
const (
	Better = "better"
	Worse  = "worse"
	Same   = "not_distinguishable"
)

// Comparison is one operation's latency in two architectures, at the
// median and at the tail.
type Comparison struct {
	Op  string `json:"op"`
	P50 Ratio  `json:"p50"`
	P99 Ratio  `json:"p99"`
	// Call combines the two: Better when one percentile is better and
	// neither worse, Worse when one is worse and neither better, Same
	// otherwise. The median is what most operations see and is steady
	// from round to round; the p99 of a short round can be one stall of
	// the machine, so it alone rarely decides.
	Call string `json:"call"`
}

// Ratio is a ratio of a latency percentile between two architectures,
// estimated across interleaved rounds: Estimate is the geometric mean of
// the rounds' ratios, [Low, High] its confidence interval (a t interval on
// the logarithms); both 0 with fewer than 2 rounds.
type Ratio struct {
	Estimate float64 `json:"estimate"`
	Low      float64 `json:"low"`
	High     float64 `json:"high"`
	Rounds   int     `json:"rounds"`
	// TooFewSamples is true when a round had too few samples on either
	// side for this percentile to be called (the call is then Same).
	TooFewSamples bool `json:"too_few_samples,omitempty"`
	// Call is Better when the whole interval says this architecture is
	// better by more than MinEffect (faster reads: Low > 1 + MinEffect;
	// cheaper writes: High < 1/(1 + MinEffect)), Worse when it says the
	// opposite, Same otherwise: not distinguishable.
	Call string `json:"call"`
}

// VariantComparison is a variant (an architecture run again under
// "<name>/<label>", with options of its own) measured against its
// architecture in the same interleaved rounds: each ratio is the
// variant's percentile over the architecture's, so below 1 is lower
// latency or lag for the variant.
type VariantComparison struct {
	// Variant is the variant's name, Of its architecture's.
	Variant string `json:"variant"`
	Of      string `json:"of"`
	// Rounds is the number of rounds both ran.
	Rounds int `json:"rounds"`
	// Measures are the ratios: the lag stages both recorded (Kind "lag"),
	// then the operations both ran (Kind "operation").
	Measures []MeasureRatio `json:"measures"`
}

// The kinds of a MeasureRatio.
const (
	MeasureLag       = "lag"
	MeasureOperation = "operation"
)

// MeasureRatio is one measure's p50 and p99 ratio, variant over
// architecture; each Ratio's Call is Better when the variant is
// distinguishably lower (faster, less lag), Worse when higher.
type MeasureRatio struct {
	// Measure is a lag stage's name (Round.Lag) or an operation's.
	Measure string `json:"measure"`
	Kind    string `json:"kind"`
	P50     Ratio  `json:"p50"`
	P99     Ratio  `json:"p99"`
}
