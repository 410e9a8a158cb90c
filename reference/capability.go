package reference

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cqrsbench/cqrsbench/reference/domain"
)

// The capabilities below are what a System may offer besides the System
// interface. The harness asks for one with a type assertion
// (`p, ok := sys.(reference.Pipeline)`), never by an architecture's name or
// concrete type, and the architecture table (reference/catalog) asks the
// same of a descriptor's Prototype before anything runs, to validate a
// scenario. docs/ARCHITECTURE.md lists who offers what.

// Pipeline is offered by architectures whose read models are fed by an
// event pipeline (outbox → relay → transport → projector).
type Pipeline interface {
	// PipelineStats returns the pipeline's counters so far. Cheap.
	PipelineStats() PipelineStats
}

// PipelineStats counts what an event pipeline did.
type PipelineStats struct {
	// Relayed is outbox events published, confirmed by the transport and
	// removed from the outbox (each once, however often it was sent).
	Relayed int64
	// Published is messages the transport confirmed, duplicates included,
	// and PublishedBytes their keys' and payloads' bytes (the transport's
	// own framing apart).
	Published      int64
	PublishedBytes int64
	// Delivered is messages the projector received, redeliveries included.
	Delivered int64
	// Applied is events the projector applied to the read models.
	Applied int64
	// Replayed is events applied by rebuilds (part of Applied).
	Replayed int64
	// Duplicates is deliveries the inbox found already applied.
	Duplicates int64
	// DeadLettered is undecodable messages moved aside.
	DeadLettered int64
	// Snapshot is the snapshot events the set-up published (not counted in
	// Relayed).
	Snapshot int64
	// Errors counts the errors the pipeline recovered from, by where they
	// happened; a pipeline that retries all the time shows it here.
	Errors []ErrorCount
}

// ErrorCount is how often one part of a pipeline failed and recovered.
type ErrorCount struct {
	// Where names the part: "relay", "publish", "projector", "commit", ...
	Where string `json:"where"`
	// Count is how many times.
	Count int64 `json:"count"`
	// Last is the last error's message.
	Last string `json:"last,omitempty"`
}

// Happened returns the counts of counts that are not zero, in order: the
// errors a part recovered from, for PipelineStats.Errors.
func Happened(counts ...ErrorCount) []ErrorCount {
	var out []ErrorCount
	for _, c := range counts {
		if c.Count > 0 {
			out = append(out, c)
		}
	}
	return out
}

// Refresher is offered by architectures that refresh their read models
// periodically.
type Refresher interface {
	// RefreshStats returns the refreshes so far.
	RefreshStats() RefreshStats
}

// RefreshStats counts periodic refreshes.
type RefreshStats struct {
	// Count is completed refreshes, Errors failed ones.
	Count, Errors int64
	// Durations are the completed refreshes' durations, in order.
	Durations []time.Duration
}

// Pausable is offered by pipelines whose projector can be paused, so a
// backlog builds up (the catch-up fault).
type Pausable interface {
	// PauseProjector stops applying events until ResumeProjector.
	PauseProjector(ctx context.Context) error
	// ResumeProjector starts applying again.
	ResumeProjector() error
	// Backlog is the events published but not yet applied.
	Backlog(ctx context.Context) (int64, error)
}

// Rebuildable is offered by architectures that can rebuild their read
// models from scratch while running.
type Rebuildable interface {
	// Rebuild empties the read models and refills them; it returns when
	// they have caught up with what was there when it began.
	Rebuild(ctx context.Context) (RebuildStats, error)
}

// RebuildStats is what one rebuild did.
type RebuildStats struct {
	// Source says what was replayed ("the Kafka topic from its start").
	Source string
	// Events is the events replayed, Applied those applied meanwhile.
	Events, Applied int64
	// Replay is the replay's time, Total the whole rebuild's.
	Replay, Total time.Duration
}

// EventsPerSecond is the replay rate.
func (r RebuildStats) EventsPerSecond() float64 {
	if r.Replay <= 0 {
		return 0
	}
	return float64(r.Events) / r.Replay.Seconds()
}

// Poisonable is offered by pipelines into which an undecodable event can be
// injected (the poison fault): it must end in a dead letter, not stall the
// projector.
type Poisonable interface {
	// InjectPoison publishes one undecodable message on the transport; n
	// numbers the injections.
	InjectPoison(ctx context.Context, n int) error
}

// TxExecutor is offered by architectures whose commands can run inside a
// transaction the caller holds open (the visibility-gap fault: an early
// outbox id that commits late).
type TxExecutor interface {
	// ExecuteInTx applies cmd in tx; the caller commits.
	ExecuteInTx(ctx context.Context, tx pgx.Tx, cmd domain.Command) (Outcome, error)
}

// Hooks are fault-injection points a pipeline architecture wires into its
// relay and projector. A nil hook is no hook; a hook's non-nil error
// simulates a crash at that point.
type Hooks struct {
	// BeforePublish runs after the relay claimed (or decoded) a batch and
	// before it publishes it, with its outbox ids: a crash there, before
	// the transport saw the batch, must lose nothing.
	BeforePublish func(ctx context.Context, ids []int64) error
	// AfterConfirm runs after the transport confirmed a batch and before
	// its outbox rows are removed, with their ids: a crash there re-sends
	// the batch.
	AfterConfirm func(ctx context.Context, ids []int64) error
	// DuplicateFraction, in [0, 1], is the share of events the relay
	// publishes twice while DuplicatesOn reports true (nil: always).
	DuplicateFraction float64
	DuplicatesOn      func() bool
	// BeforeDBCommit runs inside the projector's transaction, after the
	// inbox insert: a crash there rolls the batch back.
	BeforeDBCommit func(ctx context.Context, b Batch) error
	// AfterDBCommit runs after the projector's commit and before its
	// acknowledgement (ack or offset commit): a crash there redelivers an
	// applied batch.
	AfterDBCommit func(ctx context.Context, b Batch) error
}

// Batch is one projector batch as hooks see it.
type Batch struct {
	// Records is the messages received, Applied the events applied,
	// Duplicates those the inbox suppressed, DeadLettered the undecodable.
	Records, Applied, Duplicates, DeadLettered int
}
