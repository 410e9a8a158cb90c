package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/cqrsbench/cqrsbench/harness/infra"
	"github.com/cqrsbench/cqrsbench/harness/infra/dockerenv"
)

// infraFlags are the flags every command that needs services shares.
type infraFlags struct {
	provider  string
	pgDSN     string
	pgReadDSN string
	brokers   string
	reset     bool
	pgBin     string
	kafkaHome string
	images    dockerImages
	quiet     bool
	skipKafka bool
	rabbitMQ  bool // a RabbitMQ broker is needed
	replica   bool // a streaming replica of PostgreSQL is needed
	amqpURL   string
	kafkaSec  infra.KafkaSecurity
}

// dockerImages are the docker provider's images; empty means its default.
type dockerImages struct{ postgres, kafka, rabbitmq string }

// register adds the infrastructure flags to fs, defaulting the addresses to
// the variables `cqrsbench infra up` prints.
func (f *infraFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.provider, "infra", "auto", "infrastructure provider: auto (docker if healthy, else local), docker, local, external")
	fs.StringVar(&f.pgDSN, "pg-dsn", os.Getenv("CQRSBENCH_PG_DSN"), "PostgreSQL DSN of an existing database (implies --infra external; default $CQRSBENCH_PG_DSN)")
	fs.StringVar(&f.pgReadDSN, "pg-read-dsn", os.Getenv("CQRSBENCH_PG_READ_DSN"), "external: DSN of a streaming replica (hot standby) of --pg-dsn's server, which crud-replica reads; checked to be in recovery from the same cluster (default $CQRSBENCH_PG_READ_DSN)")
	fs.StringVar(&f.brokers, "kafka-brokers", os.Getenv("CQRSBENCH_KAFKA_BROKERS"), "comma-separated Kafka seed brokers host:port (implies --infra external; default $CQRSBENCH_KAFKA_BROKERS)")
	fs.BoolVar(&f.kafkaSec.TLS, "kafka-tls", false, "external: connect to the brokers with TLS (verified against the system's CAs, or --kafka-ca)")
	fs.StringVar(&f.kafkaSec.CAFile, "kafka-ca", "", "external: PEM file of the CA(s) that sign the brokers' certificates (implies --kafka-tls)")
	fs.StringVar(&f.kafkaSec.CertFile, "kafka-cert", "", "external: PEM client certificate for brokers that require mutual TLS (with --kafka-key)")
	fs.StringVar(&f.kafkaSec.KeyFile, "kafka-key", "", "external: PEM private key of --kafka-cert")
	fs.StringVar(&f.kafkaSec.SASL, "kafka-sasl", "", "external: SASL mechanism: plain, scram-sha-256 or scram-sha-512; the password is read from $"+infra.KafkaPasswordEnv)
	fs.StringVar(&f.kafkaSec.User, "kafka-user", "", "external: SASL user name (with --kafka-sasl)")
	fs.StringVar(&f.amqpURL, "amqp-url", os.Getenv("CQRSBENCH_AMQP_URL"), "RabbitMQ broker amqp://user:pass@host:5672/vhost, or amqps:// for TLS (implies --infra external; default $CQRSBENCH_AMQP_URL)")
	fs.BoolVar(&f.reset, "reset", false, "external: use a database that holds tables cqrsbench did not create (they are never touched)")
	fs.StringVar(&f.pgBin, "pg-bin", "", "local: directory with initdb and postgres (default: PATH, then /usr/lib/postgresql/*/bin)")
	fs.StringVar(&f.kafkaHome, "kafka-home", "", "local: Apache Kafka 4.x distribution directory (default: $KAFKA_HOME, then the cache 'make kafka' fills)")
	fs.StringVar(&f.images.postgres, "pg-image", os.Getenv("CQRSBENCH_PG_IMAGE"), "docker: PostgreSQL image, one with the official postgres image's entrypoint (default $CQRSBENCH_PG_IMAGE, then "+dockerenv.DefaultPostgresImage+"; make docker-images builds cqrsbench/postgres:15)")
	fs.StringVar(&f.images.kafka, "kafka-image", os.Getenv("CQRSBENCH_KAFKA_IMAGE"), "docker: Apache Kafka image configured like apache/kafka (default $CQRSBENCH_KAFKA_IMAGE, then "+dockerenv.DefaultKafkaImage+"; make docker-images builds cqrsbench/kafka:4.1.1)")
	fs.StringVar(&f.images.rabbitmq, "rabbitmq-image", os.Getenv("CQRSBENCH_RABBITMQ_IMAGE"), "docker: RabbitMQ image (default $CQRSBENCH_RABBITMQ_IMAGE, then "+dockerenv.DefaultRabbitMQImage+"; make docker-images builds cqrsbench/rabbitmq:3.10)")
	fs.BoolVar(&f.quiet, "quiet", false, "print no progress")
}

// config builds the infrastructure configuration.
func (f *infraFlags) config(progress io.Writer) infra.Config {
	if f.quiet {
		progress = nil
	}
	sec := f.kafkaSec
	sec.Password = os.Getenv(infra.KafkaPasswordEnv)
	if sec.SASL == "" && sec.User == "" {
		sec.Password = "" // set in the environment for another use: ignored
	}
	return infra.Config{
		Provider:        f.provider,
		PostgresDSN:     f.pgDSN,
		PostgresReadDSN: f.pgReadDSN,
		Replica:         f.replica,
		KafkaBrokers:    infra.ParseBrokers(f.brokers),
		KafkaSecurity:   sec,
		Reset:           f.reset,
		PostgresBinDir:  f.pgBin,
		KafkaHome:       f.kafkaHome,
		PostgresImage:   f.images.postgres,
		KafkaImage:      f.images.kafka,
		RabbitMQImage:   f.images.rabbitmq,
		SkipKafka:       f.skipKafka,
		RabbitMQ:        f.rabbitMQ,
		AMQPURL:         f.amqpURL,
		Progress:        progress,
	}
}

// flagSet returns a FlagSet whose -h prints a description, an example and
// the flags (see parseFlags: only -h prints them, a mistake prints one line).
func flagSet(name, synopsis, description string, stdout io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(stdout, "Usage: cqrsbench %s\n\n%s\n\nFlags:\n", synopsis, strings.TrimSpace(description))
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
	return fs
}

// knownProvider is the provider the flags select, as far as it is known
// before anything is started: an address implies external; auto stays
// auto.
func (f *infraFlags) knownProvider() string {
	if f.provider == "auto" && (f.pgDSN != "" || f.pgReadDSN != "" || f.brokers != "" || f.amqpURL != "") {
		return infra.ProviderExternal
	}
	return f.provider
}
