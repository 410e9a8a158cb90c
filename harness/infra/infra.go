package infra

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Infra is running infrastructure: a PostgreSQL database and a Kafka cluster
// that cqrsbench may use, plus what is needed to stop them again.
type Infra interface {
	// PostgresDSN returns a libpq/pgx connection string for the database.
	PostgresDSN() string
	// KafkaBrokers returns the seed brokers as host:port.
	KafkaBrokers() []string
	// KafkaOptions returns the options every Kafka client needs besides
	// the seed brokers (TLS, SASL); nil when none are.
	KafkaOptions() []kgo.Opt
	// AMQPURL returns the RabbitMQ broker's amqp:// or amqps:// URL; empty
	// when none was started or given (Config.RabbitMQ).
	AMQPURL() string
	// Describe says what the services are, for results and tables.
	Describe() Description
	// Close stops everything the provider started and removes its temporary
	// files. It is safe to call more than once.
	Close(ctx context.Context) error
}

// Broker kinds reported in Description.Kafka.Kind.
const (
	// KindApacheKafka is a real Apache Kafka broker.
	KindApacheKafka = "apache-kafka"
	// KindKfake is franz-go's in-process fake (pkg/kfake): a stand-in, not Kafka.
	KindKfake = "kfake"
	// KindExternal is a cluster given by the user; its server version is
	// whatever the brokers report.
	KindExternal = "external"
	// KindNone means no broker was started (Config.SkipKafka).
	KindNone = "none"
)

// Description records which infrastructure a run measured against.
type Description struct {
	// Provider is local, docker or external.
	Provider string `json:"provider"`
	// Postgres describes the database server.
	Postgres PostgresInfo `json:"postgres"`
	// Kafka describes the broker(s).
	Kafka KafkaInfo `json:"kafka"`
	// RabbitMQ describes the RabbitMQ broker; nil when none was used.
	RabbitMQ *RabbitMQInfo `json:"rabbitmq,omitempty"`
}

// RabbitMQInfo describes a RabbitMQ broker.
type RabbitMQInfo struct {
	// Kind is KindRabbitMQ (started by cqrsbench) or KindExternal.
	Kind string `json:"kind"`
	// Version is the broker's version, as it announces it.
	Version string `json:"version,omitempty"`
	// URL is how it was reached, without the password.
	URL string `json:"url"`
	// Image is the container image (docker provider).
	Image string `json:"image,omitempty"`
}

// KindRabbitMQ is a RabbitMQ node cqrsbench started.
const KindRabbitMQ = "rabbitmq"

// PostgresInfo describes a PostgreSQL server.
type PostgresInfo struct {
	// Version is the server's version string (SHOW server_version).
	Version string `json:"version"`
	// Address is host:port of the server.
	Address string `json:"address"`
	// Image is the container image the docker provider ran.
	Image string `json:"image,omitempty"`
	// Settings holds the non-default settings a provider applied
	// (shared_buffers, ...), so results say how the server was tuned.
	Settings map[string]string `json:"settings,omitempty"`
}

// KafkaInfo describes the Kafka cluster.
type KafkaInfo struct {
	// Kind is one of KindApacheKafka, KindKfake, KindExternal.
	Kind string `json:"kind"`
	// Version is the broker software version, when known.
	Version string `json:"version,omitempty"`
	// Brokers are the seed brokers.
	Brokers []string `json:"brokers"`
	// Image is the container image the docker provider ran.
	Image string `json:"image,omitempty"`
	// Security is how clients connect when it is not plaintext, e.g.
	// "SASL_SSL SCRAM-SHA-512 user bench" (KafkaSecurity.String).
	Security string `json:"security,omitempty"`
	// Note explains anything a reader must know, such as why kfake was used.
	Note string `json:"note,omitempty"`
}

// IsFake reports whether the broker is not real Apache Kafka.
func (k KafkaInfo) IsFake() bool { return k.Kind == KindKfake }

// String renders the description as one line for tables and logs.
func (d Description) String() string {
	kafka := d.Kafka.Kind
	if d.Kafka.Version != "" {
		kafka += " " + d.Kafka.Version
	}
	s := fmt.Sprintf("provider=%s postgres=%s kafka=%s", d.Provider, d.Postgres.Version, kafka)
	if d.Kafka.IsFake() {
		s += " (NOT real Kafka: franz-go kfake in-process fake)"
	}
	return s
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
