package infra_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/cqrsbench/cqrsbench/harness/infra"
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

// TestDockerHasNoReplicaYet: asking the docker provider for a replica says
// which providers have one (exit 3), before any container starts.
func TestDockerHasNoReplicaYet(t *testing.T) {
	t.Parallel()
	_, err := infra.Open(t.Context(), infra.Config{Provider: infra.ProviderDocker, Replica: true})
	if !infra.IsUnavailable(err) || !strings.Contains(err.Error(), "--infra local") {
		t.Errorf("docker with a replica: %v, want unavailable, naming the providers that have one", err)
	}
}
