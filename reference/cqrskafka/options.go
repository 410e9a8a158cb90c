package cqrskafka

import (
	"fmt"

	"github.com/cqrsbench/cqrsbench/reference/pipeline/relay"
	"github.com/cqrsbench/cqrsbench/reference/settings"
)

// Options are cqrs-kafka's scenario options (`options: {cqrs-kafka: ...}`).
// DefaultOptions holds every default; the relay's come from package relay.
type Options struct {
	// Relay is the outbox relay: "skip-locked" (claims rows with FOR UPDATE
	// SKIP LOCKED; correct) or "naive-cursor" (reads id > last id; skips
	// events when transactions commit out of id order — a negative control).
	// Default: skip-locked.
	Relay string `yaml:"relay" json:"relay"`
	// Relays is the number of concurrent relay workers; naive-cursor allows
	// only 1. Default: relay.DefaultRelays (1).
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
	// Topic carries the events. Default: DefaultTopic.
	Topic string `yaml:"topic" json:"topic"`
	// DeadLetterTopic receives events the projector cannot decode.
	// Default: "" — the topic followed by DeadLetterSuffix.
	DeadLetterTopic string `yaml:"dead_letter_topic" json:"dead_letter_topic,omitempty"`
	// Partitions is the topic's partition count (events are keyed by order
	// id). Default: DefaultPartitions (6).
	Partitions int `yaml:"partitions" json:"partitions"`
	// Projectors is the number of projector consumers in the group; this
	// build runs 1. Default: 1.
	Projectors int `yaml:"projectors" json:"projectors"`
}

// DefaultOptions returns cqrs-kafka's options with every default set.
func DefaultOptions() *Options {
	return &Options{
		Relay: string(relay.ModeSkipLocked), Relays: relay.DefaultRelays, BatchSize: relay.DefaultBatchSize,
		Poll: settings.Duration(relay.DefaultPollInterval), Inbox: true,
		Topic: DefaultTopic, Partitions: DefaultPartitions, Projectors: 1,
	}
}

// Validate implements settings.Options.
func (o *Options) Validate() []settings.FieldError {
	var errs []settings.FieldError
	bad := func(field, format string, args ...any) { errs = append(errs, settings.Errorf(field, format, args...)) }
	mode, err := relay.ParseMode(o.Relay)
	switch {
	case err != nil:
		bad("relay", "%v", err)
	case mode == relay.ModeNaiveCursor && o.Relays != 1:
		bad("relays", "the naive-cursor relay runs alone; must be 1, got %d", o.Relays)
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
	if msg := topicProblem(o.Topic); msg != "" {
		bad("topic", "%s", msg)
	}
	if o.DeadLetterTopic != "" {
		if msg := topicProblem(o.DeadLetterTopic); msg != "" {
			bad("dead_letter_topic", "%s", msg)
		} else if o.DeadLetterTopic == o.Topic {
			bad("dead_letter_topic", "must differ from the topic %q", o.Topic)
		}
	}
	if o.Partitions <= 0 || o.Partitions > 10_000 {
		bad("partitions", "must be 1 to 10000, got %d", o.Partitions)
	}
	if o.Projectors != 1 {
		bad("projectors", "%d projectors are not supported yet; use 1", o.Projectors)
	}
	return errs
}

// Configure sets c's fields from o (a validated Options).
func (o *Options) Configure(c *Config) {
	mode, _ := relay.ParseMode(o.Relay) // validated
	c.Topic, c.DeadLetterTopic, c.Partitions = o.Topic, o.DeadLetterTopic, int32(o.Partitions)
	c.Relay.Mode, c.Relay.Relays, c.Relay.BatchSize = mode, o.Relays, o.BatchSize
	c.Relay.Linger, c.Relay.PollInterval = o.Linger.Std(), o.Poll.Std()
	c.Projector.DisableInbox = !o.Inbox
}

// topicProblem says what is wrong with a Kafka topic name, or "".
func topicProblem(t string) string {
	if t == "" {
		return "must not be empty"
	}
	if len(t) > 249 {
		return fmt.Sprintf("at most 249 characters, got %d", len(t))
	}
	if t == "." || t == ".." {
		return fmt.Sprintf("%q is not a valid Kafka topic name", t)
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return fmt.Sprintf("%q has %q; Kafka topics use letters, digits, '.', '_' and '-'", t, r)
		}
	}
	return ""
}
