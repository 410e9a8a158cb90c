// Package workload defines what the harness drives: a workload's named
// operations (commands and queries) with their default mix, its dataset,
// the per-architecture sessions that pick each operation's parameters and
// run it on an architecture, and the reconciliation of read models with
// the write model.
//
// The harness knows no operation, table or domain type: it asks a
// Workload. The order shop (reference/shop) is one workload, written in
// Go; reference/catalog lists the workloads. See docs/ARCHITECTURE.md,
// "Workloads".
package workload

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference"
)

// Operation is one named operation of a workload.
type Operation struct {
	// Name names it in scenarios' mixes, results and tables.
	Name string `json:"name"`
	// Query is true for a read (a screen), false for a command.
	Query bool `json:"query,omitempty"`
	// Weight is its weight in the workload's default mix.
	Weight float64 `json:"-"`
}

// Dataset sizes the data a workload loads; zero fields take the workload's
// defaults.
type Dataset struct {
	// Rows is how many rows of the workload's main entity to load (the
	// shop's orders).
	Rows int
	// Owners is how many owners those rows are spread over (the shop's
	// customers, whose screen lists their orders).
	Owners int
	// Skew shapes how rows concentrate on few owners; its scale and
	// default (0) are the workload's.
	Skew float64
	// Seed makes the data deterministic.
	Seed uint64
	// Today anchors generated dates (the day screens show).
	Today time.Time
}

// DB is what checks and counts need: *pgxpool.Pool, *pgx.Conn and pgx.Tx
// satisfy it.
type DB interface {
	Begin(ctx context.Context) (pgx.Tx, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ReadModels maps each read model the checker reconciles (by the
// workload's name for it) to the table holding it in an architecture's
// schema. Empty for an architecture whose queries read the write model.
type ReadModels map[string]string

// Workload is one application the harness can drive on every architecture
// that implements it.
type Workload interface {
	// Name names it in scenarios and results.
	Name() string
	// Operations returns its operations, commands first, each with its
	// default weight.
	Operations() []Operation
	// Load creates the write model in schema (dropping what was there) and
	// loads the dataset into it.
	Load(ctx context.Context, pool *pgxpool.Pool, schema string, data Dataset) error
	// Open starts a session that drives sys, an architecture set up on
	// schema, which Load filled with data (db reaches it, for parameters
	// drawn from the data); seed makes its choices deterministic.
	Open(ctx context.Context, sys reference.System, db DB, schema string, data Dataset, seed uint64) (Session, error)
	// Committed counts the events committed in schema so far: every
	// event a successful command commits adds one (the shop: one per
	// command; a pack: one per read-model key it changed, where a derived
	// read side keeps key versions), so two counts bracket what a run
	// committed (the pipeline's losses and duplicates are counted against
	// it).
	Committed(ctx context.Context, db DB, schema string) (int64, error)
	// Check reconciles the read models of an architecture in schema with
	// what its write model implies; call it once the architecture caught
	// up, with no commands in flight.
	Check(ctx context.Context, db DB, schema string, rm ReadModels) ([]Diff, error)
	// Rejection names the kind of a command's error when it is the
	// application refusing the command (an invalid transition, a missing
	// entity): it reached the database and was answered. "" otherwise.
	Rejection(err error) string
}

// Session drives one architecture through a run. Its methods are called
// concurrently.
type Session interface {
	// Do runs one operation (by name, from Workload.Operations) with
	// parameters of the session's choosing and says what it wrote or read.
	Do(ctx context.Context, op string) (Effect, error)
}

// Prober is offered by sessions whose writes the read-your-writes prober
// can look for.
type Prober interface {
	// Shows reports whether a query of w.Owner's screen, started now,
	// shows w (its entity at w.Version or later). The prober polls it to
	// measure commit→visible. An error wrapping ErrOffScreen says no
	// poll ever will.
	Shows(ctx context.Context, w Write) (bool, error)
}

// ErrOffScreen is Prober.Shows's error for a write that sorts below its
// owner's full screen (Read.Floor): it is rightly never shown, so its
// visibility cannot be measured there.
var ErrOffScreen = errors.New("the write sorts below its owner's full screen")

// Read-your-writes policies: how a session serves an owner's reads right
// after the owner's own command (ReadYourWrites.Policy).
const (
	// RYWNone reads the read side as always: an owner may miss their own
	// write while the read side lags.
	RYWNone = "none"
	// RYWPrimaryAfterWrite sends an owner's reads within a window after
	// their own command to the write model on the primary.
	RYWPrimaryAfterWrite = "primary-after-write"
	// RYWWaitForToken keeps the owner's writes no read has shown yet (the
	// shop: each order and its version; a pack: the read-model keys) as a
	// token and retries a read that does not show them yet, up to a
	// timeout.
	RYWWaitForToken = "wait-for-token"
)

// RYWPolicies lists the read-your-writes policies, the default first.
func RYWPolicies() []string { return []string{RYWNone, RYWPrimaryAfterWrite, RYWWaitForToken} }

// ReadYourWrites configures a session's read-your-writes policy.
type ReadYourWrites struct {
	// Policy is one of RYWPolicies.
	Policy string
	// Window is how long after an owner's command their reads go to the
	// write model (RYWPrimaryAfterWrite).
	Window time.Duration
	// Timeout is the longest a read waits for the owner's token
	// (RYWWaitForToken); a read still missing it then is returned as is.
	Timeout time.Duration
}

// Validate checks that c names a policy and gives what it needs: a
// window for RYWPrimaryAfterWrite, a timeout for RYWWaitForToken.
func (c ReadYourWrites) Validate() error {
	switch c.Policy {
	case "", RYWNone:
	case RYWPrimaryAfterWrite:
		if c.Window <= 0 {
			return fmt.Errorf("read_your_writes %s: window must be > 0", c.Policy)
		}
	case RYWWaitForToken:
		if c.Timeout <= 0 {
			return fmt.Errorf("read_your_writes %s: timeout must be > 0", c.Policy)
		}
	default:
		return fmt.Errorf("read_your_writes: unknown policy %q; use one of %v", c.Policy, RYWPolicies())
	}
	return nil
}

// RYWCounters counts what a policy did as it does it; safe for
// concurrent use.
type RYWCounters struct {
	Redirected, Waited, TimedOut atomic.Int64
}

// Stats returns the counts so far.
func (c *RYWCounters) Stats() RYWStats {
	return RYWStats{Redirected: c.Redirected.Load(), Waited: c.Waited.Load(), TimedOut: c.TimedOut.Load()}
}

// RYWStats counts what a read-your-writes policy did.
type RYWStats struct {
	// Redirected counts reads sent to the write model.
	Redirected int64
	// Waited counts reads retried at least once for the owner's token
	// (those that timed out included); TimedOut those still missing it
	// at the timeout.
	Waited, TimedOut int64
}

// ReadYourWriter is offered by sessions that can apply a read-your-writes
// policy.
type ReadYourWriter interface {
	// UseReadYourWrites sets the policy, before the load starts.
	UseReadYourWrites(ReadYourWrites) error
	// ReadYourWritesStats returns what the policy did so far.
	ReadYourWritesStats() RYWStats
}

// HeldWriter is offered by sessions that can run a command inside a
// transaction the caller holds open (the visibility-gap fault).
type HeldWriter interface {
	// WriteInTx runs a command in tx; the caller commits.
	WriteInTx(ctx context.Context, tx pgx.Tx) (Write, error)
}

// Effect is what an operation did, for staleness tracking: a command's
// Write, or a query's Read; both nil when there is nothing to track.
type Effect struct {
	Write *Write
	Read  *Read
}

// Write is one committed change of an entity, as a command returned it.
type Write struct {
	// Owner is whose screen shows the entity (the shop: the customer); 0
	// when no owner's screen is known to show it: reads are then not
	// classified against it, but the prober may still look for it.
	Owner int64
	// Entity is the entity changed (the shop: the order).
	Entity int64
	// Version is the entity's version after the command.
	Version int32
	// Created is true when the command created the entity.
	Created bool
	// Probe says the prober may look for it even though it did not create
	// an entity (a pack's change of a read-model key).
	Probe bool
	// Ref is the workload's own reference to what was written, for its
	// Prober (a pack: the read model and key).
	Ref any
	// Committed is when the command's transaction was known committed, on
	// this process's monotonic clock.
	Committed time.Time
}

// Read is what one query of an owner's screen showed.
type Read struct {
	// Owner is whose screen it read.
	Owner int64
	// Started is when the query started (its snapshot is no older).
	Started time.Time
	// Shown lists each entity shown with the version shown.
	Shown []Shown
	// Newest is how many of the owner's latest created entities the screen
	// shows: an entity created among them must be there. 0: no such rule.
	Newest int
	// Floor, when the screen is full (Newest entities shown), is when its
	// last (oldest) entity was created: an entity created before it sorts
	// below the screen and is rightly not there, however new to the run
	// (the shop's dataset holds orders from later today than the run's
	// commands). Zero: every one of the Newest must be shown.
	Floor time.Time
	// OwnWrite marks a read the owner made right after their own command
	// (the same operation's Write): the read read-your-writes policies
	// are for.
	OwnWrite bool
	// MissedOwnWrite, when not nil, reports whether this own-write read
	// missed the owner's write, for reads whose rows do not tell (Shown
	// empty: a workload pack's), from a check made as the read started. It
	// may block until that check is done, so the harness calls it after
	// the operation, outside its latency. The Write's Committed dates a
	// miss.
	MissedOwnWrite func() bool
}

// Shown is one entity a screen showed, at a version.
type Shown struct {
	Entity  int64
	Version int32
}

// Version returns the version r showed of entity, and whether it showed it.
func (r Read) Version(entity int64) (int32, bool) {
	for _, s := range r.Shown {
		if s.Entity == entity {
			return s.Version, true
		}
	}
	return 0, false
}

// Diff compares one read model with its expected contents.
type Diff struct {
	// Table is the read model compared.
	Table string `json:"table"`
	// Expected is the number of rows the write model implies.
	Expected int64 `json:"expected"`
	// Missing rows are expected but absent, Extra present but not
	// expected, Mismatched present with some field different.
	Missing    int64 `json:"missing"`
	Extra      int64 `json:"extra"`
	Mismatched int64 `json:"mismatched"`
	// Samples show a few differing rows: key, expected and actual values.
	Samples []string `json:"samples,omitempty"`
}

// Violations is the number of rows that differ.
func (d Diff) Violations() int64 { return d.Missing + d.Extra + d.Mismatched }

// MaxSamples is how many differing rows a Diff shows.
const MaxSamples = 5
