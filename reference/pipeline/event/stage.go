package event

import (
	"fmt"
	"time"
)

// Stage is a point of the pipeline an event passes, in the pipeline's
// words, whatever the transport.
type Stage uint8

// The stages, in pipeline order.
const (
	// StageCommitted: the command's transaction (write model + outbox row)
	// committed; the time is the command's reference.Outcome.Committed.
	StageCommitted Stage = iota
	// StageClaimed: a relay read the outbox row.
	StageClaimed
	// StageConfirmed: the transport confirmed the publish (Kafka: the
	// acknowledgement of every in-sync replica; RabbitMQ: the publisher
	// confirm).
	StageConfirmed
	// StageDelivered: the projector received the event from the
	// transport.
	StageDelivered
	// StageApplied: the projector's read-model transaction committed (for
	// duplicates suppressed by the inbox too: the event is visible).
	StageApplied
)

// Stages returns every stage in pipeline order.
func Stages() []Stage {
	return []Stage{StageCommitted, StageClaimed, StageConfirmed, StageDelivered, StageApplied}
}

// String returns the stage's name as used in reports.
func (s Stage) String() string {
	switch s {
	case StageCommitted:
		return "committed"
	case StageClaimed:
		return "claimed"
	case StageConfirmed:
		return "confirmed"
	case StageDelivered:
		return "delivered"
	case StageApplied:
		return "applied"
	}
	return fmt.Sprintf("stage(%d)", uint8(s))
}

// Observer receives the stage timestamps of events. Observe is called once
// per batch with one time for every event of the batch, taken with
// time.Now on this process's monotonic clock, from the goroutine that
// passed the stage (relays and projectors run concurrently, so an Observer
// must be safe for concurrent use and should return quickly). refs is only
// valid during the call. An event delivered more than once is observed at
// StageDelivered and StageApplied once per delivery.
type Observer interface {
	Observe(stage Stage, at time.Time, refs []Ref)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(stage Stage, at time.Time, refs []Ref)

// Observe implements Observer.
func (f ObserverFunc) Observe(stage Stage, at time.Time, refs []Ref) { f(stage, at, refs) }
