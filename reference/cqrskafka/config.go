package cqrskafka

import (
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/cqrskafka/projector"
	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/pipeline"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/apply"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/outbox"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/relay"
)

// Defaults applied by Config.WithDefaults.
const (
	// DefaultTopic is the topic of the order events.
	DefaultTopic = "cqrsbench.order-events"
	// DefaultPartitions is the topic's partition count.
	DefaultPartitions = 6
	// DeadLetterSuffix makes the default dead-letter topic from the topic.
	DeadLetterSuffix = ".dead-letter"
	// DefaultGroup is the projector's consumer group.
	DefaultGroup = "cqrsbench.cqrs-kafka.read-model"
	// DefaultConsumer is the projection's name in the inbox.
	DefaultConsumer = "order-read-model"
	// DefaultMetadataMinAge is the Kafka clients' minimum metadata age:
	// franz-go's default (5s) would hold every client that saw a broker
	// fail for that long before it looks again.
	DefaultMetadataMinAge = 250 * time.Millisecond
)

// Name is the architecture's name; DefaultSchema the PostgreSQL schema it
// lives in unless told otherwise.
const (
	Name          = "cqrs-kafka"
	DefaultSchema = "cqrs_kafka"
)

// Config configures the cqrs-kafka architecture. The zero value of every
// field but Brokers means its default.
type Config struct {
	// Schema holds the write model (loaded beforehand), the outbox, the
	// inbox and the read models; default "cqrs_kafka".
	Schema string
	// ReadPool is where the screens read: a streaming replica of the
	// pool's server (WaitCaughtUp then also waits for its replay); nil:
	// the pool.
	ReadPool *pgxpool.Pool
	// Brokers are the Kafka seed brokers (host:port). Required.
	Brokers []string
	// KafkaOptions are added to every Kafka client the System makes (TLS,
	// SASL, logging, ...).
	KafkaOptions []kgo.Opt
	// Topic carries the order events; default DefaultTopic. Setup creates
	// it, or empties it (deleting its records) if it exists with
	// Partitions partitions.
	Topic string
	// Partitions is the topic's partition count; default DefaultPartitions.
	Partitions int32
	// ReplicationFactor of the topics Setup creates; default -1, the
	// broker's default.
	ReplicationFactor int16
	// DeadLetterTopic receives undecodable events; default Topic +
	// DeadLetterSuffix.
	DeadLetterTopic string
	// Group is the projector's consumer group; default DefaultGroup.
	Group string
	// Consumer names the projection in the inbox; default DefaultConsumer.
	Consumer string
	// MetadataMinAge is the Kafka clients' minimum metadata refresh
	// interval; default DefaultMetadataMinAge.
	MetadataMinAge time.Duration
	// SkipSnapshot makes Setup skip publishing a snapshot event per loaded
	// order. Setup is then faster (by roughly the time to produce one
	// event per order), but the topic lacks the loaded orders, so Rebuild
	// refuses to run. Default false: snapshot.
	SkipSnapshot bool
	// DisableNotify leaves out the outbox trigger that wakes idle relays
	// with NOTIFY (outbox.NotifyTriggerSQL): relays then poll every
	// Relay.PollInterval when idle. Default false: notify.
	DisableNotify bool
	// Relay tunes the relays.
	Relay RelayOptions
	// Projector tunes the projector.
	Projector ProjectorOptions
	// Observer receives every event's stage timestamps (StageCommitted
	// from Execute, the others from the relays and the projector); nil:
	// none, at no cost.
	Observer event.Observer
	// OnError is told about errors the background workers recover from;
	// nil: they are only counted (Stats).
	OnError func(error)
	// Hooks are the harness's fault-injection points, added to
	// Relay.Hooks and Projector.Hooks; zero: none.
	Hooks reference.Hooks
}

// RelayOptions tune the relays (see relay.Config for each field's meaning
// and default).
type RelayOptions struct {
	Mode               relay.Mode
	Relays             int
	BatchSize          int
	Linger             time.Duration
	PollInterval       time.Duration
	ActivePollInterval time.Duration
	// DeliveryTimeout bounds the wait for Kafka's acknowledgement of a
	// batch; default DefaultDeliveryTimeout. On timeout the batch is rolled
	// back and claimed again later.
	DeliveryTimeout   time.Duration
	DuplicateFraction float64
	Hooks             relay.Hooks
}

// ProjectorOptions tune the projector (see projector.Config and
// apply.Config for each field's meaning and default).
type ProjectorOptions struct {
	DisableInbox        bool
	DisableVersionGuard bool
	MaxPollRecords      int
	Hooks               apply.Hooks
}

// WithDefaults returns c with zero fields replaced by their defaults.
func (c Config) WithDefaults() Config {
	if c.Schema == "" {
		c.Schema = DefaultSchema
	}
	if c.Topic == "" {
		c.Topic = DefaultTopic
	}
	if c.Partitions == 0 {
		c.Partitions = DefaultPartitions
	}
	if c.ReplicationFactor == 0 {
		c.ReplicationFactor = -1
	}
	if c.DeadLetterTopic == "" {
		c.DeadLetterTopic = c.Topic + DeadLetterSuffix
	}
	if c.Group == "" {
		c.Group = DefaultGroup
	}
	if c.Consumer == "" {
		c.Consumer = DefaultConsumer
	}
	if c.MetadataMinAge == 0 {
		c.MetadataMinAge = DefaultMetadataMinAge
	}
	return c
}

// Validate reports every invalid field; zero fields that have a default are
// valid.
func (c Config) Validate() error {
	var errs []error
	d := c.WithDefaults()
	if err := domain.ValidateSchemaName(d.Schema); err != nil {
		errs = append(errs, err)
	}
	if len(c.Brokers) == 0 {
		errs = append(errs, errors.New("no Kafka brokers: pass the seed brokers (host:port)"))
	}
	for _, b := range c.Brokers {
		if b == "" {
			errs = append(errs, errors.New("empty Kafka broker address"))
		}
	}
	if c.Partitions < 0 || c.Partitions > 10_000 {
		errs = append(errs, fmt.Errorf("partitions must be 1 to 10000 (or 0 for %d), got %d", DefaultPartitions, c.Partitions))
	}
	if c.ReplicationFactor < -1 {
		errs = append(errs, fmt.Errorf("replication factor must be ≥ 1 (or 0 or -1 for the broker's default), got %d", c.ReplicationFactor))
	}
	if r := c.Relay.DeliveryTimeout; r < 0 {
		errs = append(errs, fmt.Errorf("relay delivery timeout must be > 0 (or 0 for %s), got %s", DefaultDeliveryTimeout, r))
	}
	if c.MetadataMinAge < 0 {
		errs = append(errs, fmt.Errorf("metadata min age must be > 0 (or 0 for %s), got %s", DefaultMetadataMinAge, c.MetadataMinAge))
	}
	if err := d.relayConfig().Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := d.projectorConfig().Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// relayConfig is the relays' configuration of a defaulted Config.
func (c Config) relayConfig() relay.Config {
	r := c.Relay
	r.Hooks, r.DuplicateFraction, _ = pipeline.WithFaultHooks(c.Hooks, r.Hooks, r.DuplicateFraction, apply.Hooks{})
	return relay.Config{
		Schema: c.Schema, Mode: r.Mode, Relays: r.Relays, BatchSize: r.BatchSize,
		Linger: r.Linger, PollInterval: r.PollInterval, ActivePollInterval: r.ActivePollInterval,
		Channel: outbox.Channel(c.Schema), DisableNotify: c.DisableNotify,
		DuplicateFraction: r.DuplicateFraction, Hooks: r.Hooks,
		Observer: c.Observer, OnError: c.OnError,
	}
}

// projectorConfig is the projector's configuration of a defaulted Config.
func (c Config) projectorConfig() projector.Config {
	p := c.Projector
	_, _, p.Hooks = pipeline.WithFaultHooks(c.Hooks, relay.Hooks{}, 0, p.Hooks)
	return projector.Config{
		Topic: c.Topic, DeadLetterTopic: c.DeadLetterTopic, Group: c.Group, MaxPollRecords: p.MaxPollRecords,
		Apply: apply.Config{
			Schema: c.Schema, Consumer: c.Consumer, DisableInbox: p.DisableInbox,
			DisableVersionGuard: p.DisableVersionGuard, Hooks: p.Hooks, Observer: c.Observer,
		},
		OnError: c.OnError,
	}
}

// ClientOptions are the options of every Kafka client the System makes:
// seed brokers, metadata age and KafkaOptions. Call it on a configuration
// with defaults applied (System.Config).
func (c Config) ClientOptions() []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(c.Brokers...), kgo.MetadataMinAge(c.MetadataMinAge)}
	return append(opts, c.KafkaOptions...)
}
