package apply

import (
	"context"
	"errors"
	"fmt"

	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
)

// DefaultMaxRetries is the default of Config.MaxRetries.
const DefaultMaxRetries = 8

// Config configures an Applier.
type Config struct {
	// Schema holds the read models and the inbox. Required.
	Schema string
	// Consumer names the projection in the inbox: events are deduplicated
	// per (Consumer, order id, version). Every instance of one projection
	// must use the same name (a restarted instance recognizes what its
	// predecessor applied). Required.
	Consumer string
	// DisableInbox applies every event given: the negative control, in
	// which a duplicate is applied twice to daily_sales. Default false.
	DisableInbox bool
	// DisableVersionGuard lets any event overwrite its order's read-model
	// row, even with an older version: the negative control, in which an
	// event delivered after a newer one of its order (several relays, or
	// competing consumers) moves the row back. Default false.
	DisableVersionGuard bool
	// MaxRetries bounds how often one Apply runs its transaction again
	// after a serialization failure or a deadlock (SQLSTATE 40001,
	// 40P01); default DefaultMaxRetries.
	MaxRetries int
	// Hooks are fault-injection points; zero: none.
	Hooks Hooks
	// Observer receives StageApplied; nil: none.
	Observer event.Observer
}

// Batch is what one Apply did, as hooks and callers see it.
type Batch struct {
	// Events is the number of events given to Apply.
	Events int
	// Applied is events applied to the read models (all of them when the
	// inbox is disabled).
	Applied int
	// Duplicates is events the inbox found already applied (by an earlier
	// transaction, or earlier in the same batch).
	Duplicates int
}

// Hooks are optional fault-injection points. A non-nil error from a hook
// simulates a crash there: Apply returns an error matching ErrCrash, and
// the caller must behave as a crashed process would (not acknowledge the
// events to the transport, so they are delivered again). A nil hook costs
// one comparison.
type Hooks struct {
	// BeforeDBCommit runs inside the read-model transaction, after the
	// inbox insert and the upserts: a crash there rolls everything back.
	BeforeDBCommit func(ctx context.Context, b Batch) error
	// AfterDBCommit runs after the read-model transaction committed: a
	// crash there makes the transport deliver the events again, and the
	// inbox must suppress them.
	AfterDBCommit func(ctx context.Context, b Batch) error
}

// ErrCrash matches the error Apply returns after a hook simulated a crash.
var ErrCrash = errors.New("simulated projector crash")

// WithDefaults returns c with zero fields replaced by their defaults.
func (c Config) WithDefaults() Config {
	if c.MaxRetries == 0 {
		c.MaxRetries = DefaultMaxRetries
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
	if c.Consumer == "" {
		errs = append(errs, errors.New("projector consumer is empty"))
	}
	if c.MaxRetries < 0 || c.MaxRetries > 1000 {
		errs = append(errs, fmt.Errorf("projector max retries must be 1 to 1000 (or 0 for %d), got %d", DefaultMaxRetries, c.MaxRetries))
	}
	return errors.Join(errs...)
}
