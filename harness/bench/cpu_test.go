package bench_test

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cqrsbench/cqrsbench/harness/bench"
	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
)

// burnQuery keeps one backend busy for a few hundred milliseconds.
const burnQuery = "SELECT count(*) FROM generate_series(1, 4000000)"

// burn runs burnQuery on the server at dsn and returns the PostgreSQL CPU
// since reports meanwhile, read while the backend still lives (a process
// that ended between two readings counts nothing).
func burn(ctx context.Context, t *testing.T, dsn string, since func() map[string]float64) float64 {
	t.Helper()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, burnQuery); err != nil {
		t.Fatal(err)
	}
	return since()["PostgreSQL"]
}

// TestAnotherClustersCPUIsNotTheRuns: the run's PostgreSQL CPU is its own
// server's process tree, not every postgres process on the host. In CI
// other test packages run clusters of their own beside a run; counted as
// the run's, their work made the same build's predicted capacity 9x
// higher in one round of a null comparison.
func TestAnotherClustersCPUIsNotTheRuns(t *testing.T) {
	env := sharedEnv(t)
	ctx := t.Context()
	other, err := pglocal.Start(ctx, pglocal.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Close(context.WithoutCancel(ctx)) }()

	foreign := burn(ctx, t, other.DSN(), bench.CPUByClassSince(ctx, env))
	own := burn(ctx, t, env.PostgresDSN(), bench.CPUByClassSince(ctx, env))

	t.Logf("PostgreSQL CPU counted as the run's: %.3f s while another cluster ran the query, %.3f s while the run's own did", foreign, own)
	if own < 0.1 {
		t.Fatalf("the run's own server ran %q and only %.3f s of PostgreSQL CPU was counted", burnQuery, own)
	}
	if foreign > own/4 {
		t.Errorf("another cluster's query counted %.3f s of the run's PostgreSQL CPU (its own query: %.3f s)", foreign, own)
	}
}

// TestAnEndedBackendsCPUCounts: a server's short-lived processes (a
// connection's backend, PostgreSQL's parallel and autovacuum workers)
// count though they ended before the reading: their parent reaped them.
func TestAnEndedBackendsCPUCounts(t *testing.T) {
	env := sharedEnv(t)
	ctx := t.Context()
	since := bench.CPUByClassSince(ctx, env)
	conn, err := pgx.Connect(ctx, env.PostgresDSN())
	if err != nil {
		t.Fatal(err)
	}
	var backend int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, burnQuery); err != nil {
		t.Fatal(err)
	}
	if err := conn.Close(ctx); err != nil {
		t.Fatal(err)
	}
	infratest.AwaitGone(t, backend, 10*time.Second)
	if got := since()["PostgreSQL"]; got < 0.1 {
		t.Errorf("a backend ran %q and ended: %.3f s of PostgreSQL CPU counted", burnQuery, got)
	}
}
