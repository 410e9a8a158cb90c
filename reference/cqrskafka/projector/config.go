package projector

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/reference/pipeline/apply"
)

// DefaultMaxPollRecords is the default of Config.MaxPollRecords.
const DefaultMaxPollRecords = 10_000

// Config configures a projector.
type Config struct {
	// Topic is consumed. Required.
	Topic string
	// DeadLetterTopic receives records that cannot be decoded. Required.
	DeadLetterTopic string
	// Group is the Kafka consumer group. Required.
	Group string
	// MaxPollRecords bounds the records of one poll, and so of one
	// read-model transaction; default DefaultMaxPollRecords.
	MaxPollRecords int
	// Handler applies each poll; nil: the shop's projection core, an
	// apply.Applier configured by Apply.
	Handler Handler
	// Apply configures the projection core that applies each poll when
	// Handler is nil: the
	// schema, the inbox's consumer name, the negative controls, the
	// crash hooks and the Observer, which receives StageApplied from it
	// and StageDelivered from the projector.
	Apply apply.Config
	// OnError is told about errors the projector recovers from (database
	// or broker unavailable, failed offset commits); nil: ignored (they
	// are counted in Counters either way).
	OnError func(error)
}

// WithDefaults returns c with zero fields replaced by their defaults.
func (c Config) WithDefaults() Config {
	if c.MaxPollRecords == 0 {
		c.MaxPollRecords = DefaultMaxPollRecords
	}
	if c.Handler == nil {
		c.Apply = c.Apply.WithDefaults()
	}
	return c
}

// Validate reports every invalid field; zero fields that have a default are
// valid.
func (c Config) Validate() error {
	var errs []error
	if c.Handler == nil {
		if err := c.Apply.Validate(); err != nil {
			errs = append(errs, err)
		}
	}
	for _, f := range []struct{ name, v string }{
		{"topic", c.Topic}, {"dead-letter topic", c.DeadLetterTopic}, {"group", c.Group},
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

// Handler applies one poll's records and returns once its effects are
// committed (in one database transaction): the records to dead-letter,
// each with its reason, and nil; or an error, after which the projector
// hands it the same records again. An error matching apply.ErrCrash
// simulates a crash instead: the member leaves the group without
// committing the poll's offsets, and the records are delivered again to
// the next Run. A Handler must not keep recs after it returned.
type Handler func(ctx context.Context, recs []*kgo.Record) (dead []Dead, err error)

// Dead is a record to dead-letter, and why.
type Dead struct {
	Record *kgo.Record
	Reason error
}
