package infra

import (
	"context"
	"errors"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/harness/services"
)

// Infra is running infrastructure: a PostgreSQL database and a Kafka cluster
// that cqrsbench may use, plus what is needed to stop them again.
type Infra interface {
	// PostgresDSN returns a libpq/pgx connection string for the database.
	PostgresDSN() string
	// PostgresReadDSN returns the connection string of a streaming
	// replica of the database (Config.Replica); empty when none was asked
	// for.
	PostgresReadDSN() string
	// KafkaBrokers returns the seed brokers as host:port.
	KafkaBrokers() []string
	// KafkaOptions returns the options every Kafka client needs besides
	// the seed brokers (TLS, SASL); nil when none are.
	KafkaOptions() []kgo.Opt
	// AMQPURL returns the RabbitMQ broker's amqp:// or amqps:// URL; empty
	// when none was started or given (Config.RabbitMQ).
	AMQPURL() string
	// Describe says which services the provider supplied, how, and what
	// they are, for results and tables; it never holds a password.
	Describe() services.Description
	// HostProcesses returns, by service role (services.RolePostgres,
	// services.RoleKafka, services.RoleRabbitMQ), the process IDs on this
	// host of the main processes of the services the provider runs: each
	// one's process tree is that service's, so the run's own CPU can be
	// told from other processes', other servers of the same kind included.
	// Read now, since a restart changes them; empty for services that are
	// not processes of this host the provider started (external, kfake).
	HostProcesses(ctx context.Context) map[string][]int
	// Close stops everything the provider started and removes its temporary
	// files. It is safe to call more than once.
	Close(ctx context.Context) error
}

// UnavailableError says that a service could not be had and how to fix it.
// The command line maps it to exit code 3.
type UnavailableError struct {
	// Service names what is missing: "PostgreSQL", "Kafka", "Docker".
	Service string
	// Fix tells the user what to install or pass.
	Fix string
	// Err is the underlying cause.
	Err error
}

// Error implements error.
func (e *UnavailableError) Error() string {
	msg := e.Service + " unavailable"
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Fix != "" {
		msg += "\n  fix: " + e.Fix
	}
	return msg
}

// Unwrap returns the cause.
func (e *UnavailableError) Unwrap() error { return e.Err }

// Unavailable builds an UnavailableError.
func Unavailable(service, fix string, err error) error {
	return &UnavailableError{Service: service, Fix: fix, Err: err}
}

// IsUnavailable reports whether err says a service is unavailable.
func IsUnavailable(err error) bool {
	var u *UnavailableError
	return errors.As(err, &u)
}
