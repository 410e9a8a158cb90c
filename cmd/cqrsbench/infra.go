package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/infra"
	"github.com/cqrsbench/cqrsbench/harness/infra/kafkalocal"
)

const infraDescription = `
Starts the chosen infrastructure and prints, as the first lines on stdout,

  CQRSBENCH_PG_DSN=<dsn>
  CQRSBENCH_KAFKA_BROKERS=<host:port,...>
  CQRSBENCH_AMQP_URL=<amqp://...>        (unless --rabbitmq=false)

then a description of the services, and keeps them running until interrupted
(Ctrl-C or SIGTERM), when everything started is stopped and removed. Other
cqrsbench commands read these variables, so in another shell:

  eval "$(cqrsbench infra up --infra local | grep ^CQRSBENCH_ | sed 's/^/export /')"   # or copy the lines
  psql "$CQRSBENCH_PG_DSN"
`

const infraUsage = `Usage:
  cqrsbench infra up [flags]            start the infrastructure, print its addresses, run until Ctrl-C
  cqrsbench infra fetch-kafka [flags]   assemble the Apache Kafka distribution from Maven Central (java + mvn)
  cqrsbench infra kafka-dir             print where fetch-kafka puts the distribution

Run 'cqrsbench infra <subcommand> -h' for the flags.
`

func runInfra(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	sub := ""
	if len(args) > 0 {
		sub, args = args[0], args[1:]
	}
	switch sub {
	case "up":
		return runInfraUp(ctx, args, stdout, stderr)
	case "fetch-kafka":
		return runFetchKafka(ctx, args, stdout, stderr)
	case "kafka-dir":
		dir, err := kafkalocal.CacheDir()
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, dir)
		return nil
	case "-h", "--help", "help":
		fmt.Fprint(stdout, infraUsage)
		return errHelp
	}
	return usagef("infra: unknown subcommand %q\n%s", sub, infraUsage)
}

const fetchKafkaDescription = `
Assembles an Apache Kafka distribution (the broker's jars, as in the official
tarball's libs/) into the user cache with Maven, from Maven Central, so the
local provider can start a real broker without Docker. Needs java and mvn.
Replaces the directory atomically; an interrupted fetch leaves no half
distribution.
`

func runFetchKafka(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("infra fetch-kafka", "infra fetch-kafka [flags]", fetchKafkaDescription, stdout)
	ifMissing := fs.Bool("if-missing", false, "do nothing when a distribution is already there")
	dir := fs.String("dir", "", "directory to fill (default: the user cache, see 'cqrsbench infra kafka-dir')")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *ifMissing {
		if found, err := kafkalocal.FindDistribution(*dir); err == nil {
			fmt.Fprintf(stdout, "Kafka distribution present: %s\n", found)
			return nil
		}
	}
	got, err := kafkalocal.Assemble(ctx, kafkalocal.AssembleOptions{Dir: *dir, Progress: stderr})
	if err != nil {
		return infra.Unavailable("Kafka distribution", "install java and maven (apt-get install default-jre-headless maven), check access to Maven Central, or set KAFKA_HOME to an unpacked Apache Kafka 4.x tarball", err)
	}
	fmt.Fprintf(stdout, "Kafka %s distribution ready: %s\n", kafkalocal.Version, got)
	return nil
}

func runInfraUp(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f infraFlags
	fs := flagSet("infra up", "infra up [flags]", infraDescription, stdout)
	f.register(fs)
	fs.BoolVar(&f.rabbitMQ, "rabbitmq", true, "also start a RabbitMQ broker (external: check --amqp-url, when given) and print CQRSBENCH_AMQP_URL")
	fs.BoolVar(&f.replica, "replica", false, "also start a streaming replica (hot standby) of PostgreSQL (external: check --pg-read-dsn) and print CQRSBENCH_PG_READ_DSN")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if f.knownProvider() == infra.ProviderExternal && f.amqpURL == "" {
		f.rabbitMQ = false // nothing to check
	}
	started := time.Now()
	env, err := infra.Open(ctx, f.config(stderr))
	if err != nil {
		return err
	}
	defer closeInfra(env, stderr)
	fmt.Fprintf(stdout, "CQRSBENCH_PG_DSN=%s\nCQRSBENCH_KAFKA_BROKERS=%s\n", env.PostgresDSN(), strings.Join(env.KafkaBrokers(), ","))
	if dsn := env.PostgresReadDSN(); dsn != "" {
		fmt.Fprintf(stdout, "CQRSBENCH_PG_READ_DSN=%s\n", dsn)
	}
	if url := env.AMQPURL(); url != "" {
		fmt.Fprintf(stdout, "CQRSBENCH_AMQP_URL=%s\n", url)
	}
	d := env.Describe()
	fmt.Fprintf(stdout, "# %s\n", d)
	for _, s := range d.Services {
		switch {
		case s.Note != "" && s.IsFake():
			fmt.Fprintf(stdout, "# WARNING: %s: %s\n", s.Role, s.Note)
		case s.Note != "":
			fmt.Fprintf(stdout, "# %s: %s\n", s.Role, s.Note)
		}
	}
	fmt.Fprintf(stdout, "# ready in %.1fs; press Ctrl-C to stop and remove everything\n", time.Since(started).Seconds())
	<-ctx.Done()
	return nil
}

// closeInfra stops the infrastructure with a fresh deadline, because the
// command's context is usually already cancelled by then.
func closeInfra(env infra.Infra, stderr io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := env.Close(ctx); err != nil {
		fmt.Fprintln(stderr, "cqrsbench: cleaning up:", err)
	}
}
