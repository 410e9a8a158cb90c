package cqrskafka

import (
	"fmt"

	"github.com/cqrsbench/cqrsbench/reference/pipeline"
	"github.com/cqrsbench/cqrsbench/reference/settings"
)

// Options are cqrs-kafka's scenario options (`options: {cqrs-kafka: ...}`):
// the pipeline's (relay, inbox, version guard) and Kafka's own.
// DefaultOptions holds every default.
type Options struct {
	pipeline.Options `yaml:",inline"`
	// Topic carries the events. Default: DefaultTopic. On a workload
	// pack, DefaultTopic (given or not) means a topic named after the
	// architecture's schema, so that runs on one cluster do not share it.
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
	return &Options{Options: pipeline.DefaultOptions(), Topic: DefaultTopic, Partitions: DefaultPartitions, Projectors: 1}
}

// Validate implements settings.Options.
func (o *Options) Validate() []settings.FieldError {
	errs := o.Options.Validate()
	bad := func(field, format string, args ...any) { errs = append(errs, settings.Errorf(field, format, args...)) }
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
	rc := c.relayConfig()
	o.Options.Configure(&rc)
	c.Relay.Mode, c.Relay.Relays, c.Relay.BatchSize = rc.Mode, rc.Relays, rc.BatchSize
	c.Relay.Linger, c.Relay.PollInterval = rc.Linger, rc.PollInterval
	c.Topic, c.DeadLetterTopic, c.Partitions = o.Topic, o.DeadLetterTopic, int32(o.Partitions)
	c.Projector.DisableInbox = !o.Inbox
	c.Projector.DisableVersionGuard = !o.VersionGuard
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
