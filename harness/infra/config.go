package infra

import (
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
)

// Provider names accepted in Config.Provider.
const (
	ProviderAuto     = "auto"
	ProviderDocker   = "docker"
	ProviderLocal    = "local"
	ProviderExternal = "external"
)

// Providers lists the accepted provider names.
var providers = []string{ProviderAuto, ProviderDocker, ProviderLocal, ProviderExternal}

// Config selects and configures the infrastructure. The zero value means
// "auto" with defaults.
type Config struct {
	// Provider is auto (default), docker, local or external.
	Provider string
	// PostgresDSN is the database for the external provider.
	PostgresDSN string
	// Replica asks for a streaming replica of the database besides it:
	// the local provider starts a hot standby; the external provider uses
	// PostgresReadDSN, which it needs then.
	Replica bool
	// PostgresReadDSN is the external provider's read replica, a streaming
	// replica of PostgresDSN's server (checked: CheckReplica).
	PostgresReadDSN string
	// KafkaBrokers are the seed brokers (host:port) for the external provider.
	KafkaBrokers []string
	// KafkaSecurity is TLS and SASL for the external provider's brokers.
	KafkaSecurity KafkaSecurity
	// Reset allows the external provider to use a database that holds tables
	// cqrsbench did not create. cqrsbench still never touches them.
	Reset bool
	// PostgresBinDir holds initdb and postgres for the local provider.
	// Default: found on PATH or under /usr/lib/postgresql/*/bin.
	PostgresBinDir string
	// KafkaHome is a Kafka distribution for the local provider. Default:
	// $KAFKA_HOME, then the cache filled by `make kafka`.
	KafkaHome string
	// PostgresImage is the docker provider's PostgreSQL image (one with
	// the official postgres image's entrypoint). Default
	// dockerenv.DefaultPostgresImage.
	PostgresImage string
	// KafkaImage is the docker provider's Kafka image (one configured like
	// apache/kafka, by KAFKA_* variables). Default
	// dockerenv.DefaultKafkaImage.
	KafkaImage string
	// RabbitMQImage is the image of the RabbitMQ container the docker
	// provider starts for brokers that need one. Default
	// dockerenv.DefaultRabbitMQImage.
	RabbitMQImage string
	// PostgresSettings override the local provider's server settings.
	PostgresSettings map[string]string
	// SkipKafka starts no broker (local provider) for work that needs only
	// the database, such as loading a dataset.
	SkipKafka bool
	// RabbitMQ starts a RabbitMQ node (local, docker) or checks the one
	// AMQPURL names (external): a run of an architecture that needs it.
	RabbitMQ bool
	// AMQPURL is an external RabbitMQ broker (amqp:// or amqps://).
	AMQPURL string
	// Progress receives start-up messages; nil is silent.
	Progress io.Writer
}

// ConfigError is bad configuration: the command line exits with code 2.
type ConfigError struct {
	// Field names the flag or setting, e.g. "--pg-dsn".
	Field string
	// Msg says what is wrong and what to do.
	Msg string
}

// Error implements error.
func (e *ConfigError) Error() string { return e.Field + ": " + e.Msg }

// ExitCode returns 2, the usage error code.
func (e *ConfigError) ExitCode() int { return 2 }

// ExitCode returns 3, the infrastructure error code.
func (e *UnavailableError) ExitCode() int { return 3 }

// ExitCoder is implemented by errors that map to a command exit code.
type ExitCoder interface {
	error
	ExitCode() int
}

// Validate checks the configuration without touching any service.
func (c Config) Validate() error {
	p := c.provider()
	if !slices.Contains(providers, p) {
		return &ConfigError{"--infra", fmt.Sprintf("unknown provider %q; use one of %s", c.Provider, strings.Join(providers, ", "))}
	}
	external := c.PostgresDSN != "" || c.PostgresReadDSN != "" || len(c.KafkaBrokers) > 0 || c.AMQPURL != ""
	switch {
	case p == ProviderExternal && c.PostgresDSN == "":
		return &ConfigError{"--infra external", "needs --pg-dsn (or CQRSBENCH_PG_DSN)"}
	case p == ProviderExternal && len(c.KafkaBrokers) == 0 && !c.SkipKafka:
		return &ConfigError{"--infra external", "needs --kafka-brokers (or CQRSBENCH_KAFKA_BROKERS)"}
	case p != ProviderExternal && p != ProviderAuto && external:
		return &ConfigError{"--pg-dsn/--pg-read-dsn/--kafka-brokers/--amqp-url", fmt.Sprintf("only used with --infra external (got --infra %s)", p)}
	case c.PostgresReadDSN != "" && c.PostgresDSN == "":
		return &ConfigError{"--pg-read-dsn", "a replica is read beside its primary: give the primary with --pg-dsn too"}
	case p == ProviderExternal && c.Replica && c.PostgresReadDSN == "":
		return &ConfigError{"--infra external", "needs --pg-read-dsn (a streaming replica of --pg-dsn) for the architectures that read a replica"}
	case p != ProviderExternal && c.KafkaSecurity.Enabled():
		return &ConfigError{"--kafka-tls/--kafka-sasl", fmt.Sprintf("only used with --infra external and --kafka-brokers (got --infra %s)", p)}
	}
	if err := c.KafkaSecurity.Validate(); err != nil {
		return err
	}
	if p == ProviderExternal && c.AMQPURL == "" && c.RabbitMQ {
		return &ConfigError{"--infra external", "needs --amqp-url (or CQRSBENCH_AMQP_URL) for the architectures that use RabbitMQ"}
	}
	if c.AMQPURL != "" {
		if _, err := ParseAMQPURL(c.AMQPURL); err != nil {
			return err
		}
	}
	for _, img := range []struct{ flag, image string }{
		{"--pg-image", c.PostgresImage}, {"--kafka-image", c.KafkaImage}, {"--rabbitmq-image", c.RabbitMQImage},
	} {
		if strings.ContainsAny(img.image, " \t\n") {
			return &ConfigError{img.flag, fmt.Sprintf("%q is not an image reference (example: postgres:15)", img.image)}
		}
	}
	for _, b := range c.KafkaBrokers {
		host, port, err := net.SplitHostPort(b)
		if err != nil || host == "" {
			return &ConfigError{"--kafka-brokers", fmt.Sprintf("%q is not host:port (example: 127.0.0.1:9092)", b)}
		}
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return &ConfigError{"--kafka-brokers", fmt.Sprintf("%q has a bad port", b)}
		}
	}
	return nil
}

// provider returns the provider name with the default applied: auto, or
// external when a DSN or brokers were given under auto.
func (c Config) provider() string {
	p := c.Provider
	if p == "" {
		p = ProviderAuto
	}
	if p == ProviderAuto && (c.PostgresDSN != "" || len(c.KafkaBrokers) > 0 || c.AMQPURL != "") {
		return ProviderExternal
	}
	return p
}

// ParseBrokers splits a comma-separated broker list, dropping empty items.
func ParseBrokers(s string) []string {
	var out []string
	for _, b := range strings.Split(s, ",") {
		if b = strings.TrimSpace(b); b != "" {
			out = append(out, b)
		}
	}
	return out
}
