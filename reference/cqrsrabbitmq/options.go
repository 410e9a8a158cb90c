package cqrsrabbitmq

import (
	"github.com/cqrsbench/cqrsbench/reference/pipeline"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/rabbitmq"
	"github.com/cqrsbench/cqrsbench/reference/settings"
)

// Options are cqrs-rabbitmq's scenario options (`options: {cqrs-rabbitmq:
// ...}`): the pipeline's (relay, inbox, version guard) and the workers'.
// DefaultOptions holds every default.
type Options struct {
	pipeline.Options `yaml:",inline"`
	// Workers is the number of competing consumers (the Celery workers).
	// Default: rabbitmq.DefaultWorkers (4).
	Workers int `yaml:"workers" json:"workers"`
	// Prefetch is each worker's most unacknowledged deliveries, and so its
	// largest batch. Default: rabbitmq.DefaultPrefetch (256).
	Prefetch int `yaml:"prefetch" json:"prefetch"`
	// Queue holds the events (a durable quorum queue; its dead letters go
	// to Queue + ".dlx" and ".dead"). Default: DefaultQueue.
	Queue string `yaml:"queue" json:"queue"`
}

// DefaultQueue is the default of Options.Queue.
const DefaultQueue = "cqrsbench.order-events"

// DefaultOptions returns cqrs-rabbitmq's options with every default set.
func DefaultOptions() *Options {
	return &Options{Options: pipeline.DefaultOptions(), Workers: rabbitmq.DefaultWorkers, Prefetch: rabbitmq.DefaultPrefetch, Queue: DefaultQueue}
}

// Validate implements settings.Options.
func (o *Options) Validate() []settings.FieldError {
	errs := o.Options.Validate()
	if o.Workers < 1 {
		errs = append(errs, settings.Errorf("workers", "must be >= 1, got %d", o.Workers))
	}
	if o.Prefetch < 1 {
		errs = append(errs, settings.Errorf("prefetch", "must be >= 1 (each worker's unacknowledged deliveries), got %d", o.Prefetch))
	}
	if o.Queue == "" || len(o.Queue) > 200 {
		errs = append(errs, settings.Errorf("queue", "must be 1 to 200 characters, got %q", o.Queue))
	}
	return errs
}

// Configure sets c's fields from o (a validated Options).
func (o *Options) Configure(c *Config) {
	o.Options.Configure(&c.Relay)
	c.DisableInbox, c.DisableVersionGuard = !o.Inbox, !o.VersionGuard
	c.AMQP.Workers, c.AMQP.Prefetch = o.Workers, o.Prefetch
	c.AMQP.Queue = o.Queue
	c.AMQP.DeadLetterExchange, c.AMQP.DeadLetterQueue = o.Queue+".dlx", o.Queue+".dead"
}
