package infra

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/harness/services"
	"github.com/cqrsbench/cqrsbench/reference/domain"
)

// externalInfra is a database and a cluster cqrsbench did not start.
type externalInfra struct {
	dsn      string
	readDSN  string // "" without a replica
	brokers  []string
	security KafkaSecurity
	kafkaOpt []kgo.Opt // from security
	amqpURL  string
	// pg, kafka and rabbit describe the services checked; kafka and
	// rabbit are nil when the command needs none.
	pg                     services.Service
	replica, kafka, rabbit *services.Service
}

// probeTimeout bounds each reachability check of an external service.
const probeTimeout = 10 * time.Second

func openExternal(ctx context.Context, cfg Config) (Infra, error) {
	pgcfg, err := pgx.ParseConfig(cfg.PostgresDSN)
	if err != nil {
		return nil, &ConfigError{"--pg-dsn", fmt.Sprintf("%v (example: postgres://user:pass@127.0.0.1:5432/db?sslmode=disable)", err)}
	}
	e := &externalInfra{dsn: cfg.PostgresDSN, brokers: cfg.KafkaBrokers, security: cfg.KafkaSecurity, amqpURL: cfg.AMQPURL}
	e.pg = services.Service{Role: services.RolePostgres, Kind: services.KindExternal, Product: services.ProductPostgres,
		Endpoints: []string{net.JoinHostPort(pgcfg.Host, strconv.Itoa(int(pgcfg.Port)))}}
	if err := e.checkPostgres(ctx, pgcfg, cfg.Reset); err != nil {
		return nil, err
	}
	if cfg.PostgresReadDSN != "" {
		if err := e.checkReplica(ctx, cfg.PostgresReadDSN); err != nil {
			return nil, err
		}
	}
	if cfg.RabbitMQ || cfg.AMQPURL != "" {
		pctx, cancel := context.WithTimeout(ctx, probeTimeout)
		version, err := PingAMQP(pctx, cfg.AMQPURL, nil)
		cancel()
		if err != nil {
			return nil, err
		}
		// Any AMQP 0-9-1 broker may answer: no product is claimed.
		e.rabbit = &services.Service{Role: services.RoleRabbitMQ, Kind: services.KindExternal, Version: version,
			Endpoints: []string{RedactAMQPURL(cfg.AMQPURL)}}
	}
	if cfg.SkipKafka {
		return e, nil
	}
	if err := e.checkKafka(ctx); err != nil {
		return nil, err
	}
	return e, nil
}

// AMQPURL implements Infra.
func (e *externalInfra) AMQPURL() string { return e.amqpURL }

func (e *externalInfra) checkPostgres(ctx context.Context, pgcfg *pgx.ConnConfig, reset bool) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	service := "PostgreSQL at " + e.pg.Endpoints[0]
	conn, err := pgx.ConnectConfig(ctx, pgcfg)
	if err != nil {
		return Unavailable(service,
			"check that the server runs and that --pg-dsn has the right host, port, user, password and database", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&e.pg.Version); err != nil {
		return Unavailable(service, "the server answered but could not run SHOW server_version", err)
	}
	if e.pg.Settings, err = ServerSettings(ctx, conn); err != nil {
		return Unavailable(service, "the server answered but could not read pg_settings", err)
	}
	foreign, err := ForeignTables(ctx, conn)
	if err != nil {
		return Unavailable(service, "could not list tables (does the user have access to pg_catalog?)", err)
	}
	if len(foreign) > 0 && !reset {
		shown := foreign
		if len(shown) > 5 {
			shown = append(shown[:5:5], fmt.Sprintf("… %d more", len(foreign)-5))
		}
		return &ConfigError{"--pg-dsn", fmt.Sprintf("the database holds %d table(s) cqrsbench did not create (%s). "+
			"Point --pg-dsn at an empty database (CREATE DATABASE cqrsbench), or pass --reset to use it anyway: "+
			"cqrsbench only ever creates, resets and drops its own schemas, never these tables",
			len(foreign), strings.Join(shown, ", "))}
	}
	return nil
}

// ServerSettings returns the settings of the server behind conn that move
// benchmark figures the most — memory, durability, WAL and planner costs,
// the ones the local provider tunes, plus the parallel-query and
// autovacuum switches — so that results from a database cqrsbench did not
// configure say how it was configured. Values carry their unit (8kB pages
// are shown as such, as SHOW does).
func ServerSettings(ctx context.Context, conn *pgx.Conn) (map[string]string, error) {
	rows, err := conn.Query(ctx, `
		SELECT name, current_setting(name) FROM pg_settings
		WHERE name IN ('shared_buffers', 'effective_cache_size', 'maintenance_work_mem', 'work_mem',
		               'max_connections', 'max_wal_size', 'checkpoint_timeout', 'wal_level',
		               'random_page_cost', 'jit', 'fsync', 'synchronous_commit', 'full_page_writes',
		               'wal_compression', 'max_parallel_workers_per_gather', 'autovacuum', 'huge_pages')`)
	if err != nil {
		return nil, fmt.Errorf("read pg_settings: %w", err)
	}
	settings, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var kv [2]string
		return kv, r.Scan(&kv[0], &kv[1])
	})
	if err != nil {
		return nil, fmt.Errorf("read pg_settings: %w", err)
	}
	m := make(map[string]string, len(settings))
	for _, kv := range settings {
		m[kv[0]] = kv[1]
	}
	return m, nil
}

// ForeignTables lists the tables, views and sequences-owning relations in
// the database that live outside the schemas cqrsbench created (schemas
// whose comment carries domain.OwnerMarker).
func ForeignTables(ctx context.Context, conn *pgx.Conn) ([]string, error) {
	rows, err := conn.Query(ctx, `
		SELECT n.nspname || '.' || c.relname, coalesce(obj_description(n.oid, 'pg_namespace'), '')
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
		  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
		  AND n.nspname NOT LIKE 'pg\_toast%' AND n.nspname NOT LIKE 'pg\_temp%'
		ORDER BY 1`)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	var foreign []string
	for rows.Next() {
		var name, comment string
		if err := rows.Scan(&name, &comment); err != nil {
			return nil, fmt.Errorf("scan table name: %w", err)
		}
		if !domain.IsOwnedComment(comment) {
			foreign = append(foreign, name)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	return foreign, nil
}

func (e *externalInfra) checkKafka(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	opts, err := e.security.ClientOptions()
	if err != nil {
		return err
	}
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(e.brokers...), kgo.DialTimeout(5 * time.Second)}, opts...)...)
	if err != nil {
		return &ConfigError{"--kafka-brokers", err.Error()}
	}
	defer cl.Close()
	service := "Kafka at " + strings.Join(e.brokers, ",")
	if e.security.Enabled() {
		service += " (" + e.security.String() + ")"
	}
	if err := cl.Ping(ctx); err != nil {
		return Unavailable(service, kafkaFix(e.security, err), err)
	}
	versions, err := kadm.NewClient(cl).ApiVersions(ctx)
	if err != nil {
		return Unavailable(service, kafkaFix(e.security, err), err)
	}
	e.kafkaOpt = opts
	// Any broker speaking the Kafka protocol may answer: no product is
	// claimed, and the version is guessed from the API versions it offers.
	e.kafka = &services.Service{Role: services.RoleKafka, Kind: services.KindExternal, Endpoints: e.brokers}
	if e.security.Enabled() {
		e.kafka.Security = e.security.String()
	}
	for _, v := range versions.Sorted() {
		if v.Err == nil {
			e.kafka.Version = v.VersionGuess()
			break
		}
	}
	return nil
}

func (e *externalInfra) PostgresDSN() string             { return e.dsn }
func (e *externalInfra) PostgresReadDSN() string         { return e.readDSN }
func (e *externalInfra) KafkaBrokers() []string          { return e.brokers }
func (e *externalInfra) KafkaOptions() []kgo.Opt         { return e.kafkaOpt }
func (e *externalInfra) Close(ctx context.Context) error { return nil }

// HostProcesses implements Infra: a team's services are not ours to know.
func (e *externalInfra) HostProcesses(context.Context) map[string][]int { return nil }

// Describe implements Infra.
func (e *externalInfra) Describe() services.Description {
	d := services.Description{Provider: ProviderExternal, Services: []services.Service{e.pg}}
	for _, s := range []*services.Service{e.replica, e.kafka, e.rabbit} {
		if s != nil {
			d.Services = append(d.Services, *s)
		}
	}
	return d
}

// checkReplica checks that readDSN is a streaming replica of the
// database and records it.
func (e *externalInfra) checkReplica(ctx context.Context, readDSN string) error {
	cfg, err := pgx.ParseConfig(readDSN)
	if err != nil {
		return &ConfigError{"--pg-read-dsn", fmt.Sprintf("%v (example: postgres://user:pass@replica:5432/db?sslmode=disable)", err)}
	}
	if err := CheckReplica(ctx, e.dsn, readDSN, "--pg-read-dsn"); err != nil {
		return err
	}
	e.readDSN = readDSN
	e.replica = &services.Service{Role: services.RolePostgresReplica, Kind: services.KindExternal, Product: services.ProductPostgres,
		Endpoints: []string{net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))}, Note: "streaming replica of " + e.pg.Endpoints[0]}
	return nil
}

// kafkaFix says what to check when an external cluster does not answer.
func kafkaFix(sec KafkaSecurity, err error) string {
	var certErr *tls.CertificateVerificationError
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed):
		return "the brokers refused the credentials: check --kafka-user, $" + KafkaPasswordEnv + " and that --kafka-sasl names a mechanism the listener enables"
	case errors.Is(err, kerr.UnsupportedSaslMechanism) || errors.Is(err, kerr.IllegalSaslState):
		return "the listener does not accept --kafka-sasl " + sec.SASL + ": ask which mechanism it enables"
	case errors.As(err, &certErr):
		return "the brokers' certificate is not trusted: pass the CA that signed it with --kafka-ca FILE"
	case strings.Contains(err.Error(), "remote error: tls: bad certificate") || strings.Contains(err.Error(), "remote error: tls: certificate required"):
		// crypto/tls exposes the broker's alert only as text on TCP.
		return "the brokers require a client certificate they trust: pass --kafka-cert FILE and --kafka-key FILE"
	case sec.Enabled():
		return "check that the brokers run, that --kafka-brokers lists reachable host:port pairs, and that --kafka-tls/--kafka-sasl match the listener's security protocol"
	}
	return "check that the brokers run and that --kafka-brokers lists reachable host:port pairs (a listener that needs TLS or SASL: --kafka-tls, --kafka-sasl)"
}

// hostOf returns host:port of a DSN, or "" when it does not parse.
func hostOf(dsn string) string {
	cfg, err := pgconn.ParseConfig(dsn)
	if err != nil {
		return ""
	}
	return net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
}
