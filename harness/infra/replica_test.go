package infra_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cqrsbench/cqrsbench/harness/infra"
	"github.com/cqrsbench/cqrsbench/harness/infra/dockerenv"
	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
	"github.com/cqrsbench/cqrsbench/harness/services"
)

// TestCheckReplica: a hot standby of the primary passes; the primary
// itself and a standby of another cluster are usage errors (exit 2) that
// say what is wrong; an unreachable replica is unavailable (exit 3).
func TestCheckReplica(t *testing.T) {
	infratest.SkipShort(t)
	if _, err := pglocal.FindBinDir(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	ctx := t.Context()
	start := func() *pglocal.Cluster {
		c, err := pglocal.Start(ctx, pglocal.Options{Settings: map[string]string{"shared_buffers": "64MB"}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = c.Close(context.Background()) })
		return c
	}
	standby := func(primary *pglocal.Cluster) *pglocal.Cluster {
		s, err := primary.StartStandby(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close(context.Background()) })
		return s
	}
	primary, other := start(), start()
	ours, theirs := standby(primary), standby(other)

	if err := infra.CheckReplica(ctx, primary.DSN(), ours.DSN(), "--pg-read-dsn"); err != nil {
		t.Errorf("the primary's own standby: %v", err)
	}
	for _, c := range []struct {
		name, dsn, want string
	}{
		{"the primary itself", primary.DSN(), "is a primary"},
		{"another cluster's standby", theirs.DSN(), "replica of another cluster"},
	} {
		err := infra.CheckReplica(ctx, primary.DSN(), c.dsn, "--pg-read-dsn")
		var ce *infra.ConfigError
		if !errors.As(err, &ce) || ce.ExitCode() != 2 || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "--pg-read-dsn: ") {
			t.Errorf("%s: %v, want a --pg-read-dsn usage error saying %q", c.name, err, c.want)
		}
	}
	// The external provider checks --pg-read-dsn and describes the replica.
	open := func(readDSN string) (infra.Infra, error) {
		return infra.Open(ctx, infra.Config{Provider: infra.ProviderExternal, PostgresDSN: primary.DSN(), PostgresReadDSN: readDSN, Replica: true, SkipKafka: true})
	}
	if _, err := open(theirs.DSN()); err == nil || !strings.Contains(err.Error(), "replica of another cluster") {
		t.Errorf("external with another cluster's standby: %v, want refused", err)
	}
	env, err := open(ours.DSN())
	if err != nil {
		t.Fatalf("external with the primary's standby: %v", err)
	}
	defer env.Close(ctx)
	if r, ok := env.Describe().Find(services.RolePostgresReplica); env.PostgresReadDSN() != ours.DSN() || !ok || r.Endpoints[0] != ours.Addr() {
		t.Errorf("external: PostgresReadDSN %q, Describe %+v; want the standby's", env.PostgresReadDSN(), env.Describe())
	}

	down := "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2"
	if err := infra.CheckReplica(ctx, primary.DSN(), down, "--pg-read-dsn"); !infra.IsUnavailable(err) {
		t.Errorf("unreachable replica: %v, want unavailable", err)
	}
}

// TestDockerReplica: the docker provider's replica is a hot standby of
// its primary (CheckReplica passes), rows written on the primary reach it,
// and it goes on streaming after it restarts and after the primary does;
// Close removes both containers and their network.
func TestDockerReplica(t *testing.T) {
	infratest.SkipShort(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()
	if err := dockerenv.Healthy(ctx); err != nil {
		infratest.Missing(t, "Docker engine not available (`make docker-images` starts one and builds local images): %v", err)
	}
	before, err := dockerenv.Containers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	env, err := infra.Open(ctx, infra.Config{Provider: infra.ProviderDocker, Replica: true,
		PostgresImage: os.Getenv("CQRSBENCH_PG_IMAGE"), KafkaImage: os.Getenv("CQRSBENCH_KAFKA_IMAGE")})
	if err != nil {
		t.Fatalf("Open docker with a replica: %v", err)
	}
	t.Cleanup(func() { _ = env.Close(context.Background()) })

	if err := infra.CheckReplica(ctx, env.PostgresDSN(), env.PostgresReadDSN(), "replica"); err != nil {
		t.Fatalf("CheckReplica: %v", err)
	}
	d := env.Describe()
	pg, _ := d.Find(services.RolePostgres)
	if r, ok := d.Find(services.RolePostgresReplica); !ok || r.Kind != services.KindContainer || r.Endpoints[0] == pg.Endpoints[0] {
		t.Errorf("Describe() = %+v, want a replica container on an address of its own", d)
	}
	if pids := env.HostProcesses(ctx)[services.RolePostgres]; len(pids) != 2 {
		t.Errorf("HostProcesses()[postgres] = %v, want the primary's and the replica's", pids)
	}

	primary, err := pgx.Connect(ctx, env.PostgresDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer primary.Close(context.Background())
	if _, err := primary.Exec(ctx, "CREATE TABLE replicated (v text)"); err != nil {
		t.Fatal(err)
	}
	// written inserts v on the primary and waits until the replica has it.
	written := func(v string) {
		t.Helper()
		if _, err := primary.Exec(ctx, "INSERT INTO replicated VALUES ($1)", v); err != nil {
			t.Fatalf("insert %s: %v", v, err)
		}
		awaitReplicated(ctx, t, env.PostgresReadDSN(), v)
	}
	written("first")

	o := env.(infra.Outager)
	if err := o.Stop(ctx, infra.ServicePostgresReplica); err != nil {
		t.Fatalf("stop the replica: %v", err)
	}
	if _, err := primary.Exec(ctx, "INSERT INTO replicated VALUES ('while the replica was down')"); err != nil {
		t.Fatal(err)
	}
	if err := o.Start(ctx, infra.ServicePostgresReplica); err != nil {
		t.Fatalf("start the replica: %v", err)
	}
	awaitReplicated(ctx, t, env.PostgresReadDSN(), "while the replica was down")

	if err := o.Stop(ctx, infra.ServicePostgres); err != nil {
		t.Fatalf("stop the primary: %v", err)
	}
	if err := o.Start(ctx, infra.ServicePostgres); err != nil {
		t.Fatalf("start the primary: %v", err)
	}
	primary.Close(ctx)
	if primary, err = pgx.Connect(ctx, env.PostgresDSN()); err != nil {
		t.Fatal(err)
	}
	written("after the primary's restart")

	if err := env.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if after, err := dockerenv.Containers(ctx); err != nil || !slices.Equal(after, before) {
		t.Errorf("this process's containers after Close: %v (%v), want %v as before", after, err, before)
	}
}

// awaitReplicated polls the replica until it holds v; a test that never
// sees it fails at ctx's deadline.
func awaitReplicated(ctx context.Context, t *testing.T, readDSN, v string) {
	t.Helper()
	for {
		conn, err := pgx.Connect(ctx, readDSN)
		if err == nil {
			var n int
			err = conn.QueryRow(ctx, "SELECT count(*) FROM replicated WHERE v = $1", v).Scan(&n)
			conn.Close(context.WithoutCancel(ctx))
			if err == nil && n == 1 {
				return
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("row %q never reached the replica (last error: %v)", v, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}
