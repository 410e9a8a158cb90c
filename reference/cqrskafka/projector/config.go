package projector

import (
	"context"
	"errors"
	"fmt"

	"github.com/cqrsbench/cqrsbench/reference/cqrskafka/event"
	"github.com/cqrsbench/cqrsbench/reference/domain"
)

// DefaultMaxPollRecords is the default of Config.MaxPollRecords.
const DefaultMaxPollRecords = 10_000

// Config configures a projector.
type Config struct {
	// Schema holds the read models and the inbox. Required.
	Schema string
	// Topic is consumed. Required.
	Topic string
	// DeadLetterTopic receives records that cannot be decoded. Required.
	DeadLetterTopic string
	// Group is the Kafka consumer group. Required.
	Group string
	// Consumer names the projection in the inbox: events are deduplicated
	// per (Consumer, order id, version). Every instance of one projection
	// must use the same name (a restarted instance recognizes what its
	// predecessor applied). Required.
	Consumer string
	// DisableInbox applies every delivered event: the negative control, in
	// which a duplicate is applied twice to daily_sales. Default false.
	DisableInbox bool
	// MaxPollRecords bounds the records of one poll, and so of one
	// read-model transaction; default DefaultMaxPollRecords.
	MaxPollRecords int
	// Hooks are fault-injection points; zero: none.
	Hooks Hooks
	// Observer receives StageConsumed and StageApplied; nil: none.
	Observer event.Observer
	// OnError is told about errors the projector recovers from (database
	// or broker unavailable, failed offset commits); nil: ignored (they
	// are counted in Counters either way).
	OnError func(error)
}

// Batch describes one poll's records as hooks see them.
type Batch struct {
	// Records is the number of records polled.
	Records int
	// Applied is events applied to the read models (all decodable records
	// when the inbox is disabled).
	Applied int
	// Duplicates is events the inbox found already applied.
	Duplicates int
	// DeadLettered is undecodable records sent to the dead-letter topic.
	DeadLettered int
}

// Hooks are optional fault-injection points. A non-nil error from a hook
// simulates a crash there: the projector leaves the group without
// committing offsets and Run returns an error matching ErrCrash. A nil hook
// costs one comparison.
type Hooks struct {
	// BeforeDBCommit runs inside the read-model transaction, after the
	// inbox insert and the upserts: a crash there rolls everything back.
	BeforeDBCommit func(ctx context.Context, b Batch) error
	// AfterDBCommit runs after the read-model transaction committed and
	// before the offsets are committed: a crash there makes the group
	// deliver the batch again, and the inbox must suppress it.
	AfterDBCommit func(ctx context.Context, b Batch) error
}

// ErrCrash matches the error Run returns after a hook simulated a crash.
var ErrCrash = errors.New("simulated projector crash")

// WithDefaults returns c with zero fields replaced by their defaults.
func (c Config) WithDefaults() Config {
	if c.MaxPollRecords == 0 {
		c.MaxPollRecords = DefaultMaxPollRecords
	}
	return c
}

// Validate reports every invalid field; zero fields that have a default are
// valid.
func (c Config) Validate() error {
	var errs []error
	if err := domain.ValidateSchemaName(c.Schema); err != nil {
		errs = append(errs, fmt.Errorf("projector schema: %w", err))
	}
	for _, f := range []struct{ name, v string }{
		{"topic", c.Topic}, {"dead-letter topic", c.DeadLetterTopic}, {"group", c.Group}, {"consumer", c.Consumer},
	} {
		if f.v == "" {
			errs = append(errs, fmt.Errorf("projector %s is empty", f.name))
		}
	}
	if c.Topic != "" && c.Topic == c.DeadLetterTopic {
		errs = append(errs, fmt.Errorf("projector dead-letter topic must differ from the topic %q", c.Topic))
	}
	if c.MaxPollRecords < 0 || c.MaxPollRecords > 1_000_000 {
		errs = append(errs, fmt.Errorf("projector max poll records must be 1 to 1000000 (or 0 for %d), got %d", DefaultMaxPollRecords, c.MaxPollRecords))
	}
	return errors.Join(errs...)
}
