package relay

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
)

// Mode selects how relays find unpublished outbox rows.
type Mode string

// The relay modes.
const (
	// ModeSkipLocked (the default) claims the oldest rows with FOR UPDATE
	// SKIP LOCKED and deletes them in the same transaction, committed only
	// after the transport confirmed every message: nothing is lost,
	// several relays share the work, a failure publishes rows again
	// (duplicates).
	ModeSkipLocked Mode = "skip-locked"
	// ModeNaiveCursor takes rows with id > the last id it published,
	// skipping nothing locked: a deliberate negative control. A transaction that took
	// its id before another but commits after it is never seen once the
	// cursor has moved past its id (a visibility gap), so its event is
	// lost. Only one relay may run in this mode.
	ModeNaiveCursor Mode = "naive-cursor"
	// ModeWAL decodes the outbox's inserts from the WAL (logical
	// decoding, pgoutput, a replication slot of its own) as Debezium
	// does, instead of polling the table: a commit reaches the relay
	// within a millisecond. The slot's position advances only after the
	// transport confirmed the events and their rows were deleted, so a
	// relay that fails resumes from the slot (at-least-once). It needs
	// wal_level=logical; exactly one relay runs.
	ModeWAL Mode = "wal"
)

// Modes lists the relay modes, the default first.
func Modes() []Mode { return []Mode{ModeSkipLocked, ModeNaiveCursor, ModeWAL} }

// ParseMode returns the Mode named s.
func ParseMode(s string) (Mode, error) {
	if m := Mode(s); slices.Contains(Modes(), m) {
		return m, nil
	}
	return "", fmt.Errorf("unknown relay mode %q (want %s, %s or %s)", s, ModeSkipLocked, ModeNaiveCursor, ModeWAL)
}

// RunsAlone reports whether mode runs exactly one relay.
func (m Mode) RunsAlone() bool { return m == ModeNaiveCursor || m == ModeWAL }

// Defaults applied by Config.WithDefaults.
const (
	DefaultRelays       = 1
	DefaultBatchSize    = 1000
	DefaultPollInterval = 250 * time.Millisecond
	// DefaultActivePollInterval is how soon a worker that found rows looks
	// again.
	DefaultActivePollInterval = 5 * time.Millisecond
)

// Config configures the relays of one outbox.
type Config struct {
	// Schema holds the outbox table. Required.
	Schema string
	// Mode is ModeSkipLocked (default) or ModeNaiveCursor.
	Mode Mode
	// Relays is the number of concurrent relay workers; default 1.
	// ModeNaiveCursor allows only 1.
	Relays int
	// BatchSize is the most outbox rows one worker claims and publishes at
	// once (one Publish call); default DefaultBatchSize.
	BatchSize int
	// Linger is how long a woken worker waits before claiming, so that a
	// trickle of commands is published in fewer, larger batches; default 0
	// (claim at once: lowest latency; batches still grow under load, while
	// the previous batch is in flight).
	Linger time.Duration
	// PollInterval is how often an idle worker looks at the outbox without
	// being notified; default DefaultPollInterval. It bounds the delay of
	// a missed notification, and is the polling period with DisableNotify.
	PollInterval time.Duration
	// ActivePollInterval is how soon a worker that found rows looks again
	// (commands do not notify while the relays are busy, see
	// outbox.NotifyTriggerSQL), and how often a worker polls until it is armed;
	// default DefaultActivePollInterval. It bounds the relay's added
	// latency under load.
	ActivePollInterval time.Duration
	// Channel is the LISTEN/NOTIFY channel of the outbox trigger (see
	// outbox.NotifyTriggerSQL); empty or DisableNotify: poll only.
	Channel string
	// DisableNotify makes workers poll only, every PollInterval.
	DisableNotify bool
	// DuplicateFraction, in [0, 1], is the share of events published twice
	// (fault injection: duplicate delivery): the copy follows the original
	// in the same Publish call. Which events is decided by their outbox id,
	// deterministically. Default 0.
	DuplicateFraction float64
	// Hooks are fault-injection points; zero: none.
	Hooks Hooks
	// Observer receives StageClaimed and StageConfirmed; nil: none.
	Observer event.Observer
	// OnError is told about errors the workers recover from (database or
	// transport unavailable, failed publishes); nil: ignored (they are
	// counted in Counters either way).
	OnError func(error)
}

// Hooks are optional fault-injection points. A nil hook costs one
// comparison.
type Hooks struct {
	// BeforePublish runs after a batch was claimed (the WAL relay:
	// decoded from the slot) and before it is published, with its outbox
	// ids. A non-nil error simulates a relay crash there, before the
	// transport saw the batch: the claim rolls back (the WAL relay
	// reconnects, and the slot, never told, sends the batch again), the
	// worker drops what it held and starts over; the crash is counted.
	BeforePublish func(ctx context.Context, ids []int64) error
	// AfterConfirm runs after the transport confirmed a batch and before
	// the deletion of its rows commits, with the outbox ids of the batch.
	// A non-nil error simulates a relay crash there: the transaction rolls
	// back, so the rows stay and are published again (duplicates), the
	// worker drops what it held and starts over; the crash is counted.
	AfterConfirm func(ctx context.Context, ids []int64) error
	// DuplicatesOn reports whether Config.DuplicateFraction applies now,
	// so duplicates can be injected in a window of time; nil: always.
	DuplicatesOn func() bool
}

// ErrCrash may be returned (wrapped) by hooks to simulate a crash; any
// non-nil error does.
var ErrCrash = errors.New("simulated crash")

// WithDefaults returns c with zero fields replaced by their defaults.
func (c Config) WithDefaults() Config {
	if c.Mode == "" {
		c.Mode = ModeSkipLocked
	}
	if c.Relays == 0 {
		c.Relays = DefaultRelays
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.PollInterval == 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.ActivePollInterval == 0 {
		c.ActivePollInterval = DefaultActivePollInterval
	}
	return c
}

// Validate reports every invalid field; zero fields that have a default are
// valid.
func (c Config) Validate() error {
	var errs []error
	if err := domain.ValidateSchemaName(c.Schema); err != nil {
		errs = append(errs, fmt.Errorf("relay schema: %w", err))
	}
	if c.Mode != "" {
		if _, err := ParseMode(string(c.Mode)); err != nil {
			errs = append(errs, err)
		}
	}
	switch {
	case c.Relays < 0 || c.Relays > 64:
		errs = append(errs, fmt.Errorf("relays must be 1 to 64 (or 0 for %d), got %d", DefaultRelays, c.Relays))
	case c.Mode.RunsAlone() && c.Relays > 1:
		errs = append(errs, fmt.Errorf("relay mode %s runs exactly one relay (its position is in memory, or in its one replication slot), got %d", c.Mode, c.Relays))
	}
	if c.BatchSize < 0 || c.BatchSize > 100_000 {
		errs = append(errs, fmt.Errorf("relay batch size must be 1 to 100000 (or 0 for %d), got %d", DefaultBatchSize, c.BatchSize))
	}
	if c.Linger < 0 || c.Linger > time.Minute {
		errs = append(errs, fmt.Errorf("relay linger must be 0 to 1m, got %s", c.Linger))
	}
	if c.PollInterval < 0 {
		errs = append(errs, fmt.Errorf("relay poll interval must be > 0 (or 0 for %s), got %s", DefaultPollInterval, c.PollInterval))
	}
	if c.ActivePollInterval < 0 {
		errs = append(errs, fmt.Errorf("relay active poll interval must be > 0 (or 0 for %s), got %s", DefaultActivePollInterval, c.ActivePollInterval))
	}
	if !(c.DuplicateFraction >= 0 && c.DuplicateFraction <= 1) {
		errs = append(errs, fmt.Errorf("relay duplicate fraction must be in [0, 1], got %g", c.DuplicateFraction))
	}
	return errors.Join(errs...)
}
