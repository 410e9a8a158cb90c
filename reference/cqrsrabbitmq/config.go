package cqrsrabbitmq

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/rabbitmq"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/relay"
)

// Name is the architecture's name.
const Name = "cqrs-rabbitmq"

// Defaults applied by Config.WithDefaults.
const (
	// DefaultSchema is the default of Config.Schema.
	DefaultSchema = "cqrs_rabbitmq"
	// DefaultConsumer is the projection's name in the inbox.
	DefaultConsumer = "order-read-model"
)

// Config configures the cqrs-rabbitmq architecture. The zero value of every
// field but AMQP.URL means its default.
type Config struct {
	// Schema holds the write model (loaded beforehand), the outbox, its
	// archive, the inbox and the read models; default DefaultSchema.
	Schema string
	// ReadPool is where the screens read: a streaming replica of the
	// pool's server (WaitCaughtUp then also waits for its replay); nil:
	// the pool.
	ReadPool *pgxpool.Pool
	// AMQP is the broker and the queue, workers and prefetch
	// (rabbitmq.Config; each field's default there). URL is required; its
	// OnError is the System's.
	AMQP rabbitmq.Config
	// Relay tunes the relays (relay.Config; Schema, Channel, Observer,
	// OnError and the fault hooks are the System's).
	Relay relay.Config
	// Consumer names the projection in the inbox; default DefaultConsumer.
	Consumer string
	// DisableInbox and DisableVersionGuard are the negative controls of
	// the projection core (pipeline/apply).
	DisableInbox, DisableVersionGuard bool
	// Observer receives every event's stage timestamps; nil: none.
	Observer event.Observer
	// OnError is told about errors the workers recover from; nil: they are
	// only counted.
	OnError func(error)
	// Hooks are the harness's fault-injection points; zero: none.
	Hooks reference.Hooks
}

// WithDefaults returns c with zero fields replaced by their defaults.
func (c Config) WithDefaults() Config {
	if c.Schema == "" {
		c.Schema = DefaultSchema
	}
	if c.Consumer == "" {
		c.Consumer = DefaultConsumer
	}
	c.AMQP = c.AMQP.WithDefaults()
	return c
}

// Validate reports every invalid field.
func (c Config) Validate() error {
	d := c.WithDefaults()
	var errs []error
	if err := domain.ValidateSchemaName(d.Schema); err != nil {
		errs = append(errs, err)
	}
	if err := d.AMQP.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("amqp: %w", err))
	}
	return errors.Join(errs...)
}
