package results

import (
	"time"

	"github.com/cqrsbench/cqrsbench/harness/services"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// SchemaVersion is the version of the document layout. Bump it on any
// incompatible change, and convert the older layouts on Read (migrate.go);
// readers refuse versions they do not know.
//
// Version 2 lists the services a run used (Environment.Infra.Services);
// version 1 had one field per service (see readV1).
const SchemaVersion = 2

// Run is one invocation of `cqrsbench run` for one scenario.
type Run struct {
	SchemaVersion int `json:"schema_version"`
	// Tool identifies the cqrsbench build.
	Tool Tool `json:"tool"`
	// StartedAt and FinishedAt bound the run (wall clock, UTC).
	StartedAt  time.Time `json:"started_at"`
	FinishedAt time.Time `json:"finished_at"`
	// Environment says what the numbers were measured on.
	Environment Environment `json:"environment"`
	// Scenario is the resolved scenario: every default filled in.
	Scenario *scenarios.Scenario `json:"scenario"`
	// Operations are the operations of the scenario's workload, in its
	// order; absent from files written before workloads were pluggable
	// (which all ran the order shop).
	Operations []Operation `json:"operations,omitempty"`
	// Architectures are the per-architecture results, in run order. With
	// interleaved rounds, each architecture's rounds are merged.
	Architectures []Architecture `json:"architectures"`
	// Verdicts are one-line conclusions computed from the numbers.
	Verdicts []string `json:"verdicts,omitempty"`
	// Payoff is the verdict on whether each CQRS architecture pays off
	// against crud, with intervals across the interleaved rounds; nil when
	// crud or every CQRS architecture was missing, and in files written
	// before it existed.
	Payoff *Payoff `json:"payoff,omitempty"`
	// Variants compare each variant run (an architecture again under
	// "<name>/<label>", with options of its own) with its architecture,
	// round by round; absent when the run has none beside its
	// architecture.
	Variants []VariantComparison `json:"variants,omitempty"`
	// Thresholds are the scenario's pass/fail conditions, evaluated.
	Thresholds []ThresholdResult `json:"thresholds,omitempty"`
	// Sweep holds each point of a sweep (the scenario run once per value
	// of a parameter); Architectures, Payoff and Thresholds are then
	// those of its last point. Nil without a sweep.
	Sweep *Sweep `json:"sweep,omitempty"`
	// Interrupted is true when the run was stopped (Ctrl-C, SIGTERM)
	// before every architecture finished: Architectures holds those that
	// did, and Thresholds are not evaluated.
	Interrupted bool `json:"interrupted,omitempty"`
}

// Sweep is a sweep's points, in the order they ran.
type Sweep struct {
	// Parameter is what the sweep changed (scenarios.SweepParameters).
	Parameter string       `json:"parameter"`
	Points    []SweepPoint `json:"points"`
}

// SweepPoint is the scenario run at one value of the sweep's parameter.
type SweepPoint struct {
	Value float64 `json:"value"`
	// Dataset, Mix and ReadShare are the point's data, operation mix and
	// share of reads in it.
	Dataset   scenarios.Dataset `json:"dataset"`
	Mix       scenarios.Mix     `json:"mix,omitempty"`
	ReadShare float64           `json:"read_share"`
	// Architectures are the point's results, rounds merged as a run's.
	Architectures []Architecture `json:"architectures"`
	// Payoff is the point's verdict (nil as a run's can be).
	Payoff *Payoff `json:"payoff,omitempty"`
}

// Point returns the sweep point p of run as a run of its own (the run's
// environment and operations; its scenario with the point's dataset and
// mix, without the sweep; the point's architectures), so every table and
// verdict can describe it.
func (r *Run) Point(p SweepPoint) *Run {
	c := *r
	c.Architectures, c.Payoff, c.Sweep, c.Verdicts, c.Thresholds = p.Architectures, p.Payoff, nil, nil, nil
	if r.Scenario != nil {
		sc := r.Scenario.Clone()
		sc.Sweep, sc.Dataset = nil, p.Dataset
		if p.Mix != nil {
			sc.Mix = p.Mix
		}
		c.Scenario = sc
	}
	return &c
}

// Tool identifies the build that produced a result.
type Tool struct {
	Version   string `json:"version"`
	GoVersion string `json:"go_version"`
}

// Environment describes the machine and services.
type Environment struct {
	// Infra is the provider and the services it supplied: their kind,
	// version, endpoints, image, settings and security.
	Infra services.Description `json:"infra"`
	// Host describes the machine running cqrsbench.
	Host Host `json:"host"`
}

// Host describes the machine running cqrsbench.
type Host struct {
	OS     string `json:"os"`
	Arch   string `json:"arch"`
	CPUs   int    `json:"cpus"`
	Memory string `json:"memory,omitempty"`
	Kernel string `json:"kernel,omitempty"`
}

// Architecture is one architecture's results.
type Architecture struct {
	Name string `json:"name"`
	// LoadSeconds is the time to load the dataset; SetupSeconds the time to
	// build the read models from it.
	LoadSeconds  float64 `json:"load_seconds"`
	SetupSeconds float64 `json:"setup_seconds"`
	// Load summarises the offered and achieved load, warmup excluded.
	Load LoadSummary `json:"load"`
	// Ops are the per-operation statistics.
	Ops []Op `json:"ops"`
	// Lag is the projection lag; nil for architectures without one.
	Lag *Lag `json:"lag,omitempty"`
	// Staleness classifies list_orders reads against committed writes.
	Staleness Staleness `json:"staleness"`
	// ReadYourWrites is what the architecture's read-your-writes policy did;
	// nil under the policy none.
	ReadYourWrites *ReadYourWrites `json:"read_your_writes,omitempty"`
	// Refresh summarises materialized-view refreshes (cqrs-matview).
	Refresh *Refresh `json:"refresh,omitempty"`
	// CatchUpSeconds is how long WaitCaughtUp took after the load stopped.
	CatchUpSeconds float64 `json:"catch_up_seconds"`
	// Consistency is the reconciliation of the read models with the write
	// model after catch-up; nil when it did not run.
	Consistency *Consistency `json:"consistency,omitempty"`
	// Faults are the faults injected into this architecture's run and what
	// each did; empty when none was.
	Faults []Fault `json:"faults,omitempty"`
	// WorkerErrors are the errors the architecture's background workers
	// (relay, transport, projector, refresher) recovered from; nil when
	// there were none. A pipeline that retries all the time shows here,
	// not only as lag.
	WorkerErrors *WorkerErrors `json:"worker_errors,omitempty"`
	// Capacity is the search for the highest rate sustained, beside the
	// rate the CPU cost predicts; nil when the scenario did not search.
	Capacity *Capacity `json:"capacity,omitempty"`
	// Cost is what the operations cost the database and the host; nil
	// in files written before it was measured. With interleaved rounds,
	// the rounds' counters are added up.
	Cost *Cost `json:"cost,omitempty"`
	// Rounds are this architecture's interleaved rounds one by one (the
	// fields above merge them), so comparisons can see the spread between
	// rounds; absent from files written before rounds were kept.
	Rounds []Round `json:"rounds,omitempty"`
}

// Round is one round of an architecture's run.
type Round struct {
	// Round numbers the round from 0: round i of every architecture ran
	// in the same pass over the architectures, next to each other in time.
	Round int `json:"round"`
	// AchievedRate is the operations completed per second.
	AchievedRate float64 `json:"achieved_rate"`
	// Sustained is LoadSummary.Sustained of the round.
	Sustained bool `json:"sustained"`
	// Ops are the operations' latency percentiles (from the intended
	// start, microseconds).
	Ops []RoundOp `json:"ops"`
	// LagP99 is the end-to-end projection lag p99 (microseconds) or, for
	// an architecture without a pipeline, the prober's commit→visible p99;
	// absent without samples.
	LagP99 float64 `json:"lag_p99_us,omitempty"`
	// Lag are the lag stages' percentiles in this round (Lag.Stages by
	// name, then "visible", the prober's), those with samples; absent in
	// files written before they were kept.
	Lag []RoundOp `json:"lag,omitempty"`
	// CPUPerOpUs is the host's CPU time per operation (Cost.CPUPerOpUs)
	// in this round; absent when not measured.
	CPUPerOpUs float64 `json:"cpu_per_op_us,omitempty"`
	// PredictedMaxRate is Cost.PredictedMaxRate in this round.
	PredictedMaxRate float64 `json:"predicted_max_rate,omitempty"`
	// CanaryQPS is the canary's rate just before this round's load: a
	// fixed, cheap query run back to back on one connection with nothing
	// else offered, so it moves only with the machine. Absent when not
	// measured.
	CanaryQPS float64 `json:"canary_qps,omitempty"`
}

// Canary summarises the canary's rates over a run's rounds: how much the
// machine itself drifted while the architectures were measured.
type Canary struct {
	// Samples is the number of rounds with a canary rate; Min and Max
	// its lowest and highest rate, queries per second.
	Samples  int
	Min, Max float64
}

// Canary returns the spread of the canary's rates over every round of
// every architecture; Samples is 0 when none was measured.
func (r *Run) Canary() Canary {
	var c Canary
	for _, a := range r.Architectures {
		for _, rd := range a.Rounds {
			if rd.CanaryQPS <= 0 {
				continue
			}
			if c.Samples == 0 || rd.CanaryQPS < c.Min {
				c.Min = rd.CanaryQPS
			}
			c.Max = max(c.Max, rd.CanaryQPS)
			c.Samples++
		}
	}
	return c
}

// RoundOp is one operation's latency, or one lag stage's, in one round.
type RoundOp struct {
	Name  string  `json:"name"`
	Count int64   `json:"count"`
	P50   float64 `json:"p50_us"`
	P99   float64 `json:"p99_us"`
}

// WorkerErrors counts the errors background workers recovered from.
type WorkerErrors struct {
	// Total is every error reported.
	Total int64 `json:"total"`
	// ByPart counts them by the part of the pipeline that failed.
	ByPart []PartErrors `json:"by_part,omitempty"`
	// Samples are the first distinct messages, with how often each came.
	Samples []ErrorSample `json:"samples,omitempty"`
}

// PartErrors is how often one part of a pipeline failed.
type PartErrors struct {
	Part  string `json:"part"`
	Count int64  `json:"count"`
}

// ErrorSample is one distinct error message and how often it came.
type ErrorSample struct {
	Message string `json:"message"`
	Count   int64  `json:"count"`
}

// Fault is what one fault of the scenario did to one architecture's run.
// The damage (events lost, duplicates applied, rows mismatched) is the
// architecture's Consistency: the checker cannot tell which fault caused it.
type Fault struct {
	// Kind is the fault (scenarios.FaultKind).
	Kind string `json:"kind"`
	// Spec is the fault's settings in words, e.g. "at 15s, down 10s".
	Spec string `json:"spec"`
	// Injected is how many times the fault happened (a crash armed but
	// never reached, for lack of traffic, does not count).
	Injected int `json:"injected"`
	// Injections lists them, oldest first.
	Injections []Injection `json:"injections,omitempty"`
	// RecoverySeconds is the longest recovery of an injection: from its
	// end (service back, crash, pause over) until the architecture had
	// caught up with every write committed before then. 0 when the fault
	// has no end (duplicates).
	RecoverySeconds float64 `json:"recovery_seconds"`
	// DuringOutage counts the operations started while a service was down
	// (broker-restart, pg-restart).
	DuringOutage *OutageOps `json:"during_outage,omitempty"`
	// CatchUp is the projector's catch-up after a pause (catch-up).
	CatchUp *CatchUp `json:"catch_up,omitempty"`
	// Rebuild is the replay of the read models (rebuild).
	Rebuild *Rebuild `json:"rebuild,omitempty"`
	// Errors are injections that could not be made, or recoveries that
	// were not awaited to the end.
	Errors []string `json:"errors,omitempty"`
}

// Injection is one injection of a fault.
type Injection struct {
	// AtSeconds is when it happened, from the start of the measured time.
	AtSeconds float64 `json:"at_seconds"`
	// DurationSeconds is how long it lasted (down time, pause, open
	// transaction); 0 for instant faults.
	DurationSeconds float64 `json:"duration_seconds,omitempty"`
	// RecoverySeconds is from its end until the architecture had caught up
	// with every write committed before then.
	RecoverySeconds float64 `json:"recovery_seconds"`
	// Detail says what was hit (e.g. "batch of 12 rows").
	Detail string `json:"detail,omitempty"`
}

// OutageOps counts the operations started while a service was down, so a
// report can say what happened to them: commands either failed (and the
// load generator was told) or were applied, and the checker verifies that
// each applied one reached the read models exactly once.
type OutageOps struct {
	// CommandsFailed could not be run (the load generator got the error);
	// CommandsRejected were answered by the domain (an invalid transition,
	// a missing order); CommandsApplied committed.
	CommandsFailed   int64 `json:"commands_failed"`
	CommandsRejected int64 `json:"commands_rejected"`
	CommandsApplied  int64 `json:"commands_applied"`
	ReadsFailed      int64 `json:"reads_failed"`
	ReadsOK          int64 `json:"reads_ok"`
	// ErrorKinds counts the failed commands by kind.
	ErrorKinds map[string]int64 `json:"error_kinds,omitempty"`
}

// CatchUp is a projector's catch-up after a pause.
type CatchUp struct {
	// Backlog is the records waiting when the projector resumed.
	Backlog int64 `json:"backlog"`
	// PausedSeconds is how long the projector was paused.
	PausedSeconds float64 `json:"paused_seconds"`
	// Applied is the events applied from the resume until caught up
	// (the backlog plus what the load added meanwhile).
	Applied int64 `json:"applied"`
	// Seconds is from the resume until caught up: every write committed
	// before the resume visible in the read models.
	Seconds float64 `json:"seconds"`
	// EventsPerSecond is Applied / Seconds.
	EventsPerSecond float64 `json:"events_per_second"`
	// RejoinSeconds is from the resume until the projector fetched its
	// first records (joining the consumer group, the assignment, the first
	// fetch); DrainEventsPerSecond is Applied over the time from then until
	// caught up.
	RejoinSeconds        float64 `json:"rejoin_seconds"`
	DrainEventsPerSecond float64 `json:"drain_events_per_second"`
}

// Rebuild is a replay of the read models from the topic.
type Rebuild struct {
	// Events is the records replayed; Applied the events applied meanwhile.
	Events  int64 `json:"events"`
	Applied int64 `json:"applied"`
	// ReplaySeconds is the replay itself; TotalSeconds includes the pause,
	// the truncation and ANALYZE: the time until consistent again.
	ReplaySeconds float64 `json:"replay_seconds"`
	TotalSeconds  float64 `json:"total_seconds"`
	// EventsPerSecond is Events / ReplaySeconds.
	EventsPerSecond float64 `json:"events_per_second"`
}

// Consistency is the checker's result for one architecture, plus the event
// counts of a pipeline that delivers events (cqrs-kafka).
type Consistency struct {
	// Violations is Lost + Extra + Mismatched over all read models.
	Violations int64 `json:"violations"`
	// Lost, Extra and Mismatched count read-model rows missing, present but
	// not implied by the write model, and present with a wrong field.
	Lost       int64 `json:"lost"`
	Extra      int64 `json:"extra"`
	Mismatched int64 `json:"mismatched"`
	// Tables are the per-read-model diffs, with sample rows.
	Tables []TableDiff `json:"tables,omitempty"`
	// Events: produced to the broker, delivered to the projector, of which
	// DuplicatesDelivered were seen before (suppressed by the inbox), and
	// DeadLettered undecodable. Zero for architectures without events.
	//
	// EventsCommitted is the events the write model committed during the
	// run (the sum of the orders' version increments); EventsLost those
	// the relays never published (committed minus relayed);
	// DuplicatesApplied the events applied more than once (applied minus
	// relayed, replays by a rebuild excepted).
	EventsCommitted     int64 `json:"events_committed,omitempty"`
	EventsLost          int64 `json:"events_lost"`
	DuplicatesApplied   int64 `json:"duplicates_applied"`
	EventsProduced      int64 `json:"events_produced,omitempty"`
	EventsDelivered     int64 `json:"events_delivered,omitempty"`
	EventsApplied       int64 `json:"events_applied,omitempty"`
	DuplicatesDelivered int64 `json:"duplicates_delivered,omitempty"`
	DeadLettered        int64 `json:"dead_lettered,omitempty"`
}

// TableDiff compares one read model with the write model.
type TableDiff struct {
	Table      string   `json:"table"`
	Expected   int64    `json:"expected"`
	Missing    int64    `json:"missing"`
	Extra      int64    `json:"extra"`
	Mismatched int64    `json:"mismatched"`
	Samples    []string `json:"samples,omitempty"`
}

// LoadSummary is the load generator's view of a run.
type LoadSummary struct {
	Mode            string  `json:"mode"`
	DurationSeconds float64 `json:"duration_seconds"`
	OfferedRate     float64 `json:"offered_rate"`
	AchievedRate    float64 `json:"achieved_rate"`
	Scheduled       int64   `json:"scheduled"`
	Completed       int64   `json:"completed"`
	Errors          int64   `json:"errors"`
	// Late ops started more than the tolerance after their intended start;
	// Dropped ops never started. Neither is hidden from the latencies:
	// late ops count from their intended start. Queued are the late ops
	// that had found every worker busy when due (the system did not keep
	// up); late ops that were not queued were made late by the load
	// generator's own scheduling. Queued is absent when 0, and from files
	// written before it was counted.
	Late    int64 `json:"late"`
	Queued  int64 `json:"queued,omitempty"`
	Dropped int64 `json:"dropped"`
	// WarmupOps were run and discarded.
	WarmupOps int64 `json:"warmup_ops"`
}

// Limits beyond which an open run's offered load counts as not sustained.
const (
	// QueuedLimit is the share of scheduled operations that found every
	// worker busy when due. Operations late only through the load
	// generator's own scheduling do not count: the system kept up.
	QueuedLimit = 0.01
	// DroppedLimit is the share of scheduled operations never started.
	DroppedLimit = 0.001
	// AchievedShare is the share of the offered rate that must complete.
	AchievedShare = 0.99
)

// Sustained reports whether l, an open run's load, kept up with the
// offered rate: achieved at least AchievedShare of it, queued fewer than
// QueuedLimit and dropped fewer than DroppedLimit of the operations. A
// closed run, or one that scheduled nothing, counts as sustained.
func (l LoadSummary) Sustained() bool {
	if l.Mode == string(scenarios.ModeClosed) || l.Scheduled == 0 {
		return true
	}
	queued := float64(l.Queued) / float64(l.Scheduled)
	dropped := float64(l.Dropped) / float64(l.Scheduled)
	return queued < QueuedLimit && dropped < DroppedLimit && l.AchievedRate >= AchievedShare*l.OfferedRate
}

// Op is one operation's statistics.
type Op struct {
	Name      string           `json:"name"`
	Count     int64            `json:"count"`
	Rate      float64          `json:"rate"`
	Errors    int64            `json:"errors"`
	Late      int64            `json:"late"`
	Dropped   int64            `json:"dropped"`
	ErrorKind map[string]int64 `json:"error_kinds,omitempty"`
	// Latency is from the intended start (queueing included); Service is
	// from the actual start.
	Latency Stats `json:"latency"`
	Service Stats `json:"service"`
}

// Stats summarises a latency histogram; durations in microseconds.
type Stats struct {
	Count int64   `json:"count"`
	Min   float64 `json:"min_us"`
	Mean  float64 `json:"mean_us"`
	P50   float64 `json:"p50_us"`
	P90   float64 `json:"p90_us"`
	P99   float64 `json:"p99_us"`
	P999  float64 `json:"p999_us"`
	Max   float64 `json:"max_us"`
	// Histogram is the HdrHistogram, compressed and base64-encoded
	// (hist.DecodeSnapshot reads it back).
	Histogram string `json:"histogram,omitempty"`
}

// Lag is the projection lag of an eventually consistent architecture.
type Lag struct {
	// Stages are per-stage latencies in pipeline order (committed→claimed,
	// claimed→confirmed, confirmed→delivered, delivered→applied) and
	// "end_to_end" (committed→applied), from in-process stage timestamps.
	Stages []Stage `json:"stages"`
	// Visible is the black-box prober's commit→visible-to-a-query lag.
	Visible Stats `json:"visible"`
	// ProbeTimeouts counts sampled writes never seen within the timeout.
	ProbeTimeouts int64 `json:"probe_timeouts"`
	// ProbeQueries is the list_orders queries the prober ran: load the
	// workload did not schedule, reported so it can be weighed.
	ProbeQueries int64 `json:"probe_queries,omitempty"`
	// ProbesSkipped counts sampled writes not probed because the most
	// probes allowed at once were polling, or because the write sorts
	// below its owner's full screen (workload.ErrOffScreen), where no poll
	// could ever see it.
	ProbesSkipped int64 `json:"probes_skipped,omitempty"`
	// ProbesOverCap counts sampled writes not probed because the prober's
	// query budget (ProbeCapQPS) was spent.
	ProbesOverCap int64 `json:"probes_over_cap,omitempty"`
	// ProbeCapQPS is the most queries per second the prober could run (a
	// share of the offered rate); 0: no cap (a closed run).
	ProbeCapQPS float64 `json:"probe_cap_qps,omitempty"`
	// Replica is how far the streaming replica the architecture reads was
	// behind its primary, sampled through the load; nil for the others.
	Replica *ReplicaLag `json:"replica,omitempty"`
	// Slot is the WAL relay's replication slot, sampled through the load;
	// nil for the other relays.
	Slot *SlotLag `json:"slot,omitempty"`
}

// SlotLag is what the WAL relay's replication slot held, sampled during
// the measured load (one query on the primary a sample). The time it lags
// is the committed→claimed stage: the relay claims an event when it
// decodes it from the slot.
type SlotLag struct {
	Samples int64 `json:"samples"`
	// BehindBytesMax is the most WAL the server had written and the relay
	// not yet confirmed relayed, over the samples.
	BehindBytesMax int64 `json:"behind_bytes_max"`
	// RetainedBytesMax is the most WAL the server kept for the slot: it
	// grows for as long as the relay is down, up to the server's
	// max_slot_wal_keep_size (unlimited by default).
	RetainedBytesMax int64 `json:"retained_bytes_max"`
	// InactiveSamples counts the samples that found no relay connected to
	// the slot (down, or reconnecting).
	InactiveSamples int64 `json:"inactive_samples,omitempty"`
	// Lost is true when a sample found the slot past
	// max_slot_wal_keep_size (wal_status unreserved or lost): the server
	// removes WAL the relay has not read, and events with it.
	Lost bool `json:"lost,omitempty"`
}

// ReplicaLag is a streaming replica's lag behind its primary, sampled
// during the measured load.
type ReplicaLag struct {
	// Samples is how often it was read, Queries the queries that took
	// (two a sample, on the primary and on the replica).
	Samples int64 `json:"samples"`
	Queries int64 `json:"queries"`
	// BytesBehindMax is the most WAL bytes the primary had written and
	// the replica not yet replayed, over the samples.
	BytesBehindMax int64 `json:"bytes_behind_max"`
	// ReplayAge is, at each sample that found WAL not yet replayed, how
	// long before it the last transaction the replica replayed had
	// committed on the primary (now() - pg_last_xact_replay_timestamp());
	// 0 at a sample that found the replica caught up.
	ReplayAge Stats `json:"replay_age"`
}

// Stage is one stage of the pipeline.
type Stage struct {
	Name  string `json:"name"`
	Stats Stats  `json:"stats"`
}

// Staleness classifies reads: a read is stale when it misses a write whose
// command returned before the read started.
type Staleness struct {
	Reads int64   `json:"reads"`
	Stale int64   `json:"stale"`
	Rate  float64 `json:"rate"`
	// Age is, for stale reads, how long before the read the oldest missed
	// write had committed.
	Age Stats `json:"age"`
	// OwnWriteReads counts the reads made right after the reader's own
	// command (the shop's order_then_list, a pack's sequences),
	// OwnWriteStale those that missed a write (their own, or, on the
	// shop, another committed before).
	OwnWriteReads int64 `json:"own_write_reads,omitempty"`
	OwnWriteStale int64 `json:"own_write_stale,omitempty"`
}

// ReadYourWrites is what a read-your-writes policy did in a run.
type ReadYourWrites struct {
	// Policy is the architecture's read-your-writes policy: its entry in
	// the scenario's read_your_writes.policies, else read_your_writes.policy.
	Policy string `json:"policy"`
	// Redirected counts reads sent to the write model
	// (primary-after-write); Waited reads retried at least once for the
	// reader's writes (wait-for-token; the timed-out ones
	// included), TimedOut those still missing it at the timeout.
	Redirected int64 `json:"redirected"`
	Waited     int64 `json:"waited"`
	TimedOut   int64 `json:"timed_out"`
}

// Refresh summarises materialized-view refreshes.
type Refresh struct {
	Count  int64 `json:"count"`
	Errors int64 `json:"errors"`
	Stats  Stats `json:"stats"`
}

// ThresholdResult is one evaluated threshold.
type ThresholdResult struct {
	Threshold string  `json:"threshold"`
	Value     float64 `json:"value"`
	Unit      string  `json:"unit,omitempty"`
	Passed    bool    `json:"passed"`
	// Skipped explains a threshold that could not be evaluated (its
	// architecture did not run).
	Skipped string `json:"skipped,omitempty"`
}

// RoundOf summarises a, the results of one round of an architecture's
// run, as that round (numbered round).
func RoundOf(a Architecture, round int) Round {
	r := Round{Round: round, AchievedRate: a.Load.AchievedRate, Sustained: a.Load.Sustained()}
	for _, op := range a.Ops {
		r.Ops = append(r.Ops, RoundOp{Name: op.Name, Count: op.Latency.Count, P50: op.Latency.P50, P99: op.Latency.P99})
	}
	r.LagP99 = a.Lag.P99()
	if a.Lag != nil {
		for _, st := range a.Lag.Stages {
			if st.Stats.Count > 0 {
				r.Lag = append(r.Lag, RoundOp{Name: st.Name, Count: st.Stats.Count, P50: st.Stats.P50, P99: st.Stats.P99})
			}
		}
		if v := a.Lag.Visible; v.Count > 0 {
			r.Lag = append(r.Lag, RoundOp{Name: StageVisible, Count: v.Count, P50: v.P50, P99: v.P99})
		}
	}
	if a.Cost != nil {
		r.CPUPerOpUs, r.PredictedMaxRate = a.Cost.CPUPerOpUs, a.Cost.PredictedMaxRate
	}
	return r
}

// P99 returns the end-to-end projection lag p99 (microseconds) or, without
// pipeline stages, the prober's commit→visible p99; 0 without samples or
// for a nil Lag.
func (l *Lag) P99() float64 {
	if l == nil {
		return 0
	}
	if st, ok := l.Stage(StageEndToEnd); ok && st.Stats.Count > 0 {
		return st.Stats.P99
	}
	return l.Visible.P99
}

// Cost is what an architecture's operations cost the machine and the
// database during the measured time (warmup excluded), from the server's
// and the host's own counters.
type Cost struct {
	// Seconds is the measured time the counters cover; Ops and Commands
	// the operations and commands completed in it.
	Seconds  float64 `json:"seconds"`
	Ops      int64   `json:"ops"`
	Commands int64   `json:"commands"`
	// WALBytes is the write-ahead log PostgreSQL wrote (LSN difference);
	// WALRecords its records (pg_stat_wal; 0 before PostgreSQL 14). Per
	// command: the write model's change and everything the architecture
	// writes besides it (read models, outbox, inbox).
	WALBytes           int64   `json:"wal_bytes"`
	WALRecords         int64   `json:"wal_records,omitempty"`
	WALBytesPerCommand float64 `json:"wal_bytes_per_command"`
	// Statements sums pg_stat_statements over the database: every
	// statement the architecture, its pipeline and the prober ran. Nil
	// when the extension is not available (StatementsMissing says why).
	Statements        *StatementCost `json:"statements,omitempty"`
	StatementsMissing string         `json:"statements_missing,omitempty"`
	// HostCPUSeconds is the CPU time every process of the host used
	// (/proc/stat, steal excluded): cqrsbench, PostgreSQL, the brokers
	// and anything else running. HostCPUs is the host's CPU count.
	// CPUPerOpUs is HostCPUSeconds per operation, in microseconds; zero
	// when the host's counters could not be read.
	HostCPUSeconds float64 `json:"host_cpu_seconds"`
	HostCPUs       int     `json:"host_cpus"`
	CPUPerOpUs     float64 `json:"cpu_per_op_us"`
	// IdleCPUs is the CPUs the run's own processes (RunCPUSeconds) kept
	// busy while the architecture ran with no load (brokers'
	// housekeeping, relays' polling), measured for IdleSeconds after its
	// run; 0 when not measured.
	IdleCPUs    float64 `json:"idle_cpus,omitempty"`
	IdleSeconds float64 `json:"idle_seconds,omitempty"`
	// PredictedMaxRate is the operations per second of this mix at which
	// the host's CPUs would be 100% busy with the run's own work, by the
	// utilization law with the idle work apart: (HostCPUs − IdleCPUs) /
	// (RunCPUSeconds per operation beyond the idle work). It holds when
	// the services run on this host, nothing else does, and the CPU, not
	// the disk or a lock, is what saturates first.
	PredictedMaxRate float64 `json:"predicted_max_rate"`
	// PredictionSkipped says why PredictedMaxRate is 0 although the CPU
	// was measured: the host's other processes (ProcessCPU "other") took
	// more than a quarter of its busy time; their time is not the run's,
	// but sharing its CPUs they move the run's own cost per operation.
	PredictionSkipped string `json:"prediction_skipped,omitempty"`
	// Storage is the size of each table of the architecture's schema
	// (with its indexes and TOAST) after the run.
	Storage []TableSize `json:"storage,omitempty"`
	// ProcessCPU splits HostCPUSeconds by process on this host:
	// PostgreSQL, Kafka, RabbitMQ, cqrsbench itself (the load generator,
	// the architecture's client side, its in-process relays and
	// projectors) and "other" (the rest of the host), in that order, each
	// with time. A service is the process tree of the server the provider
	// started (other servers of its kind on the host are "other"); with a
	// team's servers (the external provider), every process of a
	// service's name. Absent when /proc could not be read.
	ProcessCPU []ProcessCPU `json:"process_cpu,omitempty"`
	// TransportBytesPerEvent is the key and payload bytes of each message
	// a pipeline's relay published (the transport's own framing apart);
	// absent without a pipeline.
	TransportBytesPerEvent float64 `json:"transport_bytes_per_event,omitempty"`
}

// RunCPUSeconds is the CPU time the run's own processes used: ProcessCPU
// apart from "other" (the process trees of the services the provider runs
// and cqrsbench), or HostCPUSeconds when the host's processes could not
// be told apart.
func (c *Cost) RunCPUSeconds() float64 {
	if c.ProcessCPU == nil {
		return c.HostCPUSeconds
	}
	var s float64
	for _, p := range c.ProcessCPU {
		if p.Process != ProcessOther {
			s += p.Seconds
		}
	}
	return s
}

// DemandSeconds is the run's own CPU time per operation beyond its idle
// work (RunCPUSeconds less IdleCPUs over the run): the service demand of
// the utilization law; 0 without operations.
func (c *Cost) DemandSeconds() float64 {
	if c.Ops == 0 {
		return 0
	}
	return (c.RunCPUSeconds() - c.IdleCPUs*c.Seconds) / float64(c.Ops)
}

// ProcessOther is the ProcessCPU entry for the host's other processes.
const ProcessOther = "other"

// ProcessCPU is one process class's CPU during the measured time.
type ProcessCPU struct {
	Process string  `json:"process"`
	Seconds float64 `json:"seconds"`
	UsPerOp float64 `json:"us_per_op"`
}

// Capacity is the measured highest sustainable rate of an architecture.
type Capacity struct {
	// PredictedMaxRate is Cost.PredictedMaxRate of the run before the
	// search (0 when the host's CPU could not be read).
	PredictedMaxRate float64 `json:"predicted_max_rate"`
	// QueueingMaxRate is the highest rate the queueing model
	// (harness/queueing) sustains with the run's CPU demands split over
	// its operations, the pool, the load generator's workers and the
	// search's p99 bounds: below PredictedMaxRate when slow operations
	// fill the pool before the CPUs are all busy. 0 when the run's CPU was
	// not measured, or when the model sustains no rate at all.
	QueueingMaxRate float64 `json:"queueing_max_rate,omitempty"`
	// CalibratedMaxRate is the queueing model's highest rate again, with
	// the CPU time per operation measured in the search's first step, at
	// CalibratedAt ops/s (half the lower of the two predictions above),
	// instead of the run's: cheap operations at a low rate pay wake-ups
	// and round trips that a busier machine batches away, so the run's
	// cost per operation overstates the cost near the knee. 0 when the
	// step's CPU was not measured.
	CalibratedMaxRate float64 `json:"calibrated_max_rate,omitempty"`
	// CalibratedAt is the offered rate of the step CalibratedMaxRate's
	// CPU per operation was measured in; 0 with it.
	CalibratedAt float64 `json:"calibrated_at,omitempty"`
	// MeasuredMaxRate is the highest offered rate a step sustained; 0 when
	// none did.
	MeasuredMaxRate float64 `json:"measured_max_rate"`
	// FirstFailedRate is the lowest rate a step failed at; 0 when none
	// failed (the search stopped at its highest step).
	FirstFailedRate float64 `json:"first_failed_rate"`
	// Steps are the steps in the order they ran.
	Steps []CapacityStep `json:"steps"`
}

// CapacityStep is one rate of the search.
type CapacityStep struct {
	OfferedRate  float64 `json:"offered_rate"`
	AchievedRate float64 `json:"achieved_rate"`
	// WorstP99 is the highest p99 of any operation, microseconds, and
	// WorstOp that operation.
	WorstP99 float64 `json:"worst_p99_us"`
	WorstOp  string  `json:"worst_op"`
	// BusyCPUs is how many of the host's CPUs were busy during the step
	// (after its warmup): near Cost.HostCPUs at the knee when the CPU is
	// what saturates, well below it when something else is (a lock, the
	// disk's fsyncs, the load generator's workers).
	BusyCPUs float64 `json:"busy_cpus"`
	// RunCPUs is how many CPUs the run's own processes (the services and
	// cqrsbench) kept busy during the step, as Cost counts them; 0 when
	// the processes could not be read (never the host's CPU in their
	// place).
	RunCPUs   float64 `json:"run_cpus,omitempty"`
	Sustained bool    `json:"sustained"`
	// Why says why a step was not sustained.
	Why string `json:"why,omitempty"`
}

// DemandSeconds is the step's CPU time per operation beyond the idle
// work of idleCPUs (Cost.IdleCPUs), as Cost.DemandSeconds is the run's;
// 0 when the step's CPU was not measured or nothing was achieved.
func (s CapacityStep) DemandSeconds(idleCPUs float64) float64 {
	if s.RunCPUs <= 0 || s.AchievedRate <= 0 {
		return 0
	}
	return max(0, s.RunCPUs-idleCPUs) / s.AchievedRate
}

// StatementCost is pg_stat_statements summed over a database.
type StatementCost struct {
	Calls int64 `json:"calls"`
	// ExecMs is the statements' total execution time.
	ExecMs float64 `json:"exec_ms"`
	// ExecUsPerOp and CallsPerOp divide by the operations completed.
	ExecUsPerOp float64 `json:"exec_us_per_op"`
	CallsPerOp  float64 `json:"calls_per_op"`
	// SharedBlocks is blocks hit or read in shared buffers.
	SharedBlocks int64 `json:"shared_blocks"`
	// Rows is the rows the statements returned or changed.
	Rows int64 `json:"rows"`
	// CPUSeconds is the server's CPU time (user and system) executing the
	// statements, from pg_stat_kcache, and CPUUsPerOp per operation:
	// PostgreSQL's share of Cost.HostCPUSeconds, the rest being the
	// client, the pipeline, the brokers and the host. Zero without
	// pg_stat_kcache (CPUMissing says why).
	CPUSeconds float64 `json:"cpu_seconds,omitempty"`
	CPUUsPerOp float64 `json:"cpu_us_per_op,omitempty"`
	CPUMissing string  `json:"cpu_missing,omitempty"`
}

// The roles of a table in an architecture's schema (TableSize.Role).
const (
	RoleWriteModel = "write model"
	RoleReadModel  = "read model"
	RolePipeline   = "pipeline"
)

// TableSize is one table's size.
type TableSize struct {
	Table string `json:"table"`
	// Role is RoleWriteModel, RoleReadModel or RolePipeline (outbox,
	// inbox, archive: what the architecture keeps besides its models).
	Role  string `json:"role"`
	Bytes int64  `json:"bytes"`
}
