package pipeline

import (
	"github.com/cqrsbench/cqrsbench/reference/pipeline/relay"
	"github.com/cqrsbench/cqrsbench/reference/settings"
)

// Options are the scenario options every pipeline architecture shares: its
// relay and its inbox. An architecture embeds them in its own options
// (`Options `yaml:",inline"“), so they read as its own fields:
// `options: {cqrs-kafka: {relays: 2}}`. DefaultOptions holds every default;
// the relay's come from package relay.
type Options struct {
	// ReadFrom puts the screens on a streaming replica (read_from:
	// replica). Default: primary.
	settings.ReadFrom `yaml:",inline"`
	// Relay is the outbox relay: "skip-locked" (claims rows with FOR UPDATE
	// SKIP LOCKED; correct), "wal" (decodes the outbox's inserts from the
	// WAL through a replication slot, as Debezium does; needs
	// wal_level=logical) or "naive-cursor" (reads id > last id; skips
	// events when transactions commit out of id order — a negative control).
	// Default: skip-locked.
	Relay string `yaml:"relay" json:"relay"`
	// Relays is the number of concurrent relay workers; naive-cursor and
	// wal allow only 1. Default: relay.DefaultRelays (1).
	Relays int `yaml:"relays" json:"relays"`
	// BatchSize is the most outbox rows a relay claims and publishes at
	// once. Default: relay.DefaultBatchSize (1000).
	BatchSize int `yaml:"batch_size" json:"batch_size"`
	// Linger is how long a woken relay waits before claiming, to publish a
	// trickle of commands in fewer batches. Default: 0 (claim at once;
	// batches still grow under load while the previous one is in flight).
	Linger settings.Duration `yaml:"linger" json:"linger"`
	// Poll is the relay's fallback poll period when no LISTEN/NOTIFY wakes
	// it. Default: relay.DefaultPollInterval (250ms).
	Poll settings.Duration `yaml:"poll" json:"poll"`
	// Inbox makes the projector record each event in an inbox table in the
	// same transaction as the read-model update, so a redelivered event is
	// applied once. false is a negative control. Default: true.
	Inbox bool `yaml:"inbox" json:"inbox"`
	// VersionGuard makes the projector's upserts keep a read-model row that
	// is newer than the event (WHERE excluded.version > version), so late
	// or reordered events never move a row back. false is a negative
	// control. Default: true.
	VersionGuard bool `yaml:"version_guard" json:"version_guard"`
}

// DefaultOptions returns the shared options with every default set.
func DefaultOptions() Options {
	return Options{
		ReadFrom: settings.ReadFrom{ReadFrom: settings.ReadPrimary},
		Relay:    string(relay.ModeSkipLocked), Relays: relay.DefaultRelays, BatchSize: relay.DefaultBatchSize,
		Poll: settings.Duration(relay.DefaultPollInterval), Inbox: true, VersionGuard: true,
	}
}

// Validate implements settings.Options.
func (o *Options) Validate() []settings.FieldError {
	errs := o.ReadFrom.Validate()
	bad := func(field, format string, args ...any) { errs = append(errs, settings.Errorf(field, format, args...)) }
	mode, err := relay.ParseMode(o.Relay)
	switch {
	case err != nil:
		bad("relay", "%v", err)
	case mode.RunsAlone() && o.Relays != 1:
		bad("relays", "the %s relay runs alone; must be 1, got %d", mode, o.Relays)
	}
	if o.Relays <= 0 {
		bad("relays", "must be > 0, got %d", o.Relays)
	}
	if o.BatchSize <= 0 {
		bad("batch_size", "must be > 0, got %d", o.BatchSize)
	}
	if o.Linger < 0 {
		bad("linger", "must be >= 0, got %s", o.Linger)
	}
	if o.Poll <= 0 {
		bad("poll", "must be > 0, got %s", o.Poll)
	}
	return errs
}

// Configure sets the relay fields of c from o (validated).
func (o *Options) Configure(c *relay.Config) {
	mode, _ := relay.ParseMode(o.Relay) // validated
	c.Mode, c.Relays, c.BatchSize = mode, o.Relays, o.BatchSize
	c.Linger, c.PollInterval = o.Linger.Std(), o.Poll.Std()
}
