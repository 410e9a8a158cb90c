package infra_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/harness/bench"
	"github.com/cqrsbench/cqrsbench/harness/infra"
	"github.com/cqrsbench/cqrsbench/harness/infra/childproc"
	"github.com/cqrsbench/cqrsbench/harness/infra/dockerenv"
	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/kafkalocal"
	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
	"github.com/cqrsbench/cqrsbench/harness/services"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

func exitCodeOf(err error) int {
	var c infra.ExitCoder
	if errors.As(err, &c) {
		return c.ExitCode()
	}
	return -1
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     infra.Config
		wantErr string
	}{
		{"zero value is auto", infra.Config{}, ""},
		{"unknown provider", infra.Config{Provider: "kubernetes"}, "unknown provider"},
		{"external without dsn", infra.Config{Provider: "external", KafkaBrokers: []string{"127.0.0.1:9092"}}, "needs --pg-dsn"},
		{"external without brokers", infra.Config{Provider: "external", PostgresDSN: "postgres://x@127.0.0.1/db"}, "needs --kafka-brokers"},
		{"external without brokers when kafka is not needed", infra.Config{Provider: "external", PostgresDSN: "postgres://x@127.0.0.1/db", SkipKafka: true}, ""},
		{"dsn with local", infra.Config{Provider: "local", PostgresDSN: "postgres://x@127.0.0.1/db"}, "only used with --infra external"},
		{"broker without port", infra.Config{Provider: "external", PostgresDSN: "postgres://x@h/db", KafkaBrokers: []string{"localhost"}}, "not host:port"},
		{"broker with bad port", infra.Config{Provider: "external", PostgresDSN: "postgres://x@h/db", KafkaBrokers: []string{"h:99999"}}, "bad port"},
		{"auto with a dsn means external", infra.Config{PostgresDSN: "postgres://x@h/db"}, "needs --kafka-brokers"},
		{"replica without its primary", infra.Config{PostgresReadDSN: "postgres://x@r/db", SkipKafka: true}, "give the primary with --pg-dsn"},
		{"replica dsn with local", infra.Config{Provider: "local", PostgresReadDSN: "postgres://x@r/db"}, "only used with --infra external"},
		{"external replica without its dsn", infra.Config{Provider: "external", PostgresDSN: "postgres://x@h/db", Replica: true, SkipKafka: true}, "needs --pg-read-dsn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want error containing %q", err, tt.wantErr)
			}
			if exitCodeOf(err) != 2 {
				t.Errorf("exit code %d, want 2", exitCodeOf(err))
			}
		})
	}
}

func TestParseBrokers(t *testing.T) {
	t.Parallel()
	got := infra.ParseBrokers(" a:1, ,b:2,")
	if strings.Join(got, "|") != "a:1|b:2" {
		t.Fatalf("ParseBrokers = %q", got)
	}
}

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestExternalBadDSNIsUsageError(t *testing.T) {
	t.Parallel()
	_, err := infra.Open(t.Context(), infra.Config{Provider: "external", PostgresDSN: "postgres://u:secret@127.0.0.1:notaport/db", SkipKafka: true})
	if exitCodeOf(err) != 2 || !strings.Contains(err.Error(), "--pg-dsn") {
		t.Fatalf("err = %v (exit %d), want a --pg-dsn usage error", err, exitCodeOf(err))
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("error leaks the password: %v", err)
	}
	_, err = infra.Open(t.Context(), infra.Config{Provider: "external", PostgresDSN: "host=127.0.0.1 password=secret sslmode=bogus", SkipKafka: true})
	if exitCodeOf(err) != 2 || strings.Contains(err.Error(), "secret") {
		t.Errorf("keyword/value DSN: err = %v (exit %d), want a usage error without the password", err, exitCodeOf(err))
	}
}

func TestExternalUnreachablePostgresIsUnavailable(t *testing.T) {
	t.Parallel()
	addr := closedPort(t)
	_, err := infra.Open(t.Context(), infra.Config{Provider: "external", PostgresDSN: "postgres://u@" + addr + "/db?connect_timeout=3", SkipKafka: true})
	if exitCodeOf(err) != 3 || !strings.Contains(err.Error(), "fix:") {
		t.Fatalf("err = %v (exit %d), want an unavailable error with a fix", err, exitCodeOf(err))
	}
}

// startPostgres starts a throwaway cluster for one test.
func startPostgres(t *testing.T) *pglocal.Cluster {
	t.Helper()
	infratest.SkipShort(t)
	if _, err := pglocal.FindBinDir(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	c, err := pglocal.Start(t.Context(), pglocal.Options{Settings: map[string]string{"shared_buffers": "64MB"}})
	if err != nil {
		t.Fatalf("start postgres: %v", err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func TestExternalRefusesForeignTablesUnlessReset(t *testing.T) {
	t.Parallel()
	pg := startPostgres(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, pg.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	cfg := infra.Config{Provider: "external", PostgresDSN: pg.DSN(), SkipKafka: true}

	// A database holding only cqrsbench's own schemas is accepted.
	mustExec(t, conn, `CREATE SCHEMA mine; COMMENT ON SCHEMA mine IS 'cqrsbench 1'; CREATE TABLE mine.orders(id int)`)
	env, err := infra.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("Open on a database with only cqrsbench schemas: %v", err)
	}
	d := env.Describe()
	if pg, _ := d.Find(services.RolePostgres); d.Provider != "external" || pg.Kind != services.KindExternal || pg.Version == "" {
		t.Errorf("Describe() = %+v", d)
	} else if got := pg.Settings["shared_buffers"]; got != "64MB" {
		t.Errorf("recorded shared_buffers = %q, want the server's 64MB (settings %v)", got, pg.Settings)
	}
	if _, ok := d.Find(services.RoleKafka); ok {
		t.Errorf("Describe() = %+v lists Kafka, which this command did not check", d)
	}
	_ = env.Close(ctx)

	mustExec(t, conn, `CREATE TABLE public.users(id int); CREATE SCHEMA billing; CREATE TABLE billing.invoices(id int)`)
	_, err = infra.Open(ctx, cfg)
	if exitCodeOf(err) != 2 || !strings.Contains(err.Error(), "public.users") || !strings.Contains(err.Error(), "billing.invoices") ||
		!strings.Contains(err.Error(), "--reset") || strings.Contains(err.Error(), "mine.orders") {
		t.Fatalf("err = %v (exit %d), want a refusal naming public.users and billing.invoices only, suggesting --reset", err, exitCodeOf(err))
	}

	cfg.Reset = true
	env, err = infra.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("Open with Reset: %v", err)
	}
	_ = env.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT count(*) FROM pg_tables WHERE tablename IN ('users', 'invoices')`).Scan(&n); err != nil || n != 2 {
		t.Fatalf("foreign tables after Open with Reset: %d (err %v), want both untouched", n, err)
	}
}

func mustExec(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(t.Context(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

func TestExternalUnreachableKafkaIsUnavailable(t *testing.T) {
	t.Parallel()
	pg := startPostgres(t)
	start := time.Now()
	_, err := infra.Open(t.Context(), infra.Config{Provider: "external", PostgresDSN: pg.DSN(), KafkaBrokers: []string{closedPort(t)}})
	if exitCodeOf(err) != 3 || !strings.Contains(err.Error(), "--kafka-brokers") {
		t.Fatalf("err = %v (exit %d), want unavailable Kafka naming --kafka-brokers", err, exitCodeOf(err))
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %v to give up on an unreachable broker", d)
	}
}

func TestLocalProviderServesRealServicesAndCloseLeavesNothing(t *testing.T) {
	// Not parallel: it counts this process's children and owns TMPDIR.
	infratest.SkipShort(t)
	if _, err := pglocal.FindBinDir(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	if _, err := kafkalocal.FindDistribution(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	ctx := t.Context()
	tmp := infratest.TraversableTempDir(t)
	t.Setenv("TMPDIR", tmp)
	env, err := infra.Open(ctx, infra.Config{Provider: "local", Replica: true, PostgresSettings: map[string]string{"shared_buffers": "64MB"}})
	if err != nil {
		t.Fatalf("Open local: %v", err)
	}
	t.Cleanup(func() { _ = env.Close(context.Background()) })
	d := env.Describe()
	pg, _ := d.Find(services.RolePostgres)
	kafka, _ := d.Find(services.RoleKafka)
	if d.Provider != "local" || kafka.Kind != services.KindLocal || kafka.Product != services.ProductApacheKafka || kafka.Version == "" ||
		len(kafka.Endpoints) == 0 || pg.Kind != services.KindLocal || pg.Version == "" || pg.Settings["shared_buffers"] != "64MB" {
		t.Fatalf("Describe() = %+v, want local PostgreSQL with its settings and real Apache Kafka, with versions", d)
	}

	procs := env.HostProcesses(ctx)
	for role, want := range map[string][]string{services.RolePostgres: {"postgres", "postgres"}, services.RoleKafka: {"java"}} {
		pids := procs[role]
		var got []string
		for _, pid := range pids {
			got = append(got, childproc.ProcessName(pid))
		}
		if !slices.Equal(got, want) {
			t.Errorf("HostProcesses()[%s] = %v (%v), want the PIDs of %v (the primary's and the standby's)", role, pids, got, want)
		}
	}
	replica, ok := d.Find(services.RolePostgresReplica)
	if !ok || replica.Kind != services.KindLocal || len(replica.Endpoints) != 1 || replica.Endpoints[0] == pg.Endpoints[0] {
		t.Errorf("Describe() = %+v, want a local replica on an address of its own", d)
	}
	rconn, err := pgx.Connect(ctx, env.PostgresReadDSN())
	if err != nil {
		t.Fatalf("connect to the replica: %v", err)
	}
	var inRecovery bool
	if err := rconn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery); err != nil || !inRecovery {
		t.Errorf("replica: pg_is_in_recovery() = %v, %v; want true", inRecovery, err)
	}
	rconn.Close(ctx)

	conn, err := pgx.Connect(ctx, env.PostgresDSN())
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	conn.Close(ctx)
	cl, err := kgo.NewClient(kgo.SeedBrokers(env.KafkaBrokers()...))
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Ping(ctx); err != nil {
		t.Fatalf("ping broker: %v", err)
	}
	cl.Close()

	pids := infratest.ChildPIDs(os.Getpid())
	if err := env.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, pid := range pids {
		if !infratest.Gone(pid) {
			t.Errorf("child process %d survived Close", pid)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("%d temp entries survived Close, first %s", len(left), left[0].Name())
	}
}

// TestLocalOutages takes the local PostgreSQL down and back through
// Outager (connections fail while it is down, succeed after), and checks
// that a kfake stand-in, not being a process, refuses an outage.
func TestLocalOutages(t *testing.T) {
	infratest.SkipShort(t)
	if _, err := pglocal.FindBinDir(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	ctx := t.Context()
	env, err := infra.Open(ctx, infra.Config{Provider: "local", KafkaHome: filepath.Join(t.TempDir(), "no-kafka"),
		PostgresSettings: map[string]string{"shared_buffers": "32MB"}})
	if err != nil {
		t.Fatalf("Open local: %v", err)
	}
	t.Cleanup(func() { _ = env.Close(context.Background()) })
	if kafka, _ := env.Describe().Find(services.RoleKafka); !kafka.IsFake() || kafka.Product != services.ProductKfake || kafka.Note == "" {
		t.Fatalf("kafka %+v, want the kfake fallback for a missing distribution, with a note saying so", kafka)
	}
	if err := infra.CanStop(env, infra.ServiceKafka); !errors.Is(err, infra.ErrNoOutage) {
		t.Errorf("CanStop(kfake) = %v, want ErrNoOutage", err)
	}
	if err := infra.CanStop(env, infra.ServicePostgres); err != nil {
		t.Fatalf("CanStop(postgres) = %v", err)
	}
	o := env.(infra.Outager)
	if err := o.Stop(ctx, infra.ServicePostgres); err != nil {
		t.Fatal(err)
	}
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if conn, err := pgx.Connect(cctx, env.PostgresDSN()); err == nil {
		conn.Close(ctx)
		t.Fatal("connected to a stopped PostgreSQL")
	}
	if err := o.Start(ctx, infra.ServicePostgres); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, env.PostgresDSN())
	if err != nil {
		t.Fatalf("after Start: %v", err)
	}
	conn.Close(ctx)
	if err := o.Stop(ctx, infra.ServiceKafka); !errors.Is(err, infra.ErrNoOutage) {
		t.Errorf("Stop(kfake) = %v, want ErrNoOutage", err)
	}
	// A run that needs a broker outage is refused before anything is
	// loaded, as a usage error.
	sc, err := scenarios.Builtin("broker-restart")
	if err != nil {
		t.Fatal(err)
	}
	_, err = bench.Run(ctx, bench.Config{Scenario: sc, Infra: env})
	var unsupported *bench.UnsupportedError
	if !errors.As(err, &unsupported) || unsupported.ExitCode() != 2 || !strings.Contains(err.Error(), "kfake") {
		t.Errorf("broker-restart on kfake: %v, want an UnsupportedError (exit 2) naming kfake", err)
	}
}

// TestAutoFallsBackToLocalWhenDockerFails: with a healthy engine whose
// containers cannot start (an image that exists nowhere, as on a machine
// without a registry), the auto provider says why and runs the local one.
func TestAutoFallsBackToLocalWhenDockerFails(t *testing.T) {
	infratest.SkipShort(t)
	if err := dockerenv.Healthy(t.Context()); err != nil {
		infratest.Missing(t, "a Docker engine: %v", err)
	}
	if _, err := pglocal.FindBinDir(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	var progress bytes.Buffer
	env, err := infra.Open(t.Context(), infra.Config{SkipKafka: true, PostgresImage: "cqrsbench/no-such-image:0", Progress: &progress})
	if err != nil {
		t.Fatalf("Open auto: %v\n%s", err, progress.String())
	}
	t.Cleanup(func() { _ = env.Close(context.Background()) })
	if got := env.Describe().Provider; got != infra.ProviderLocal {
		t.Errorf("provider %q, want the local fallback", got)
	}
	if !strings.Contains(progress.String(), "the Docker provider failed") {
		t.Errorf("progress does not say why it fell back:\n%s", progress.String())
	}
}
