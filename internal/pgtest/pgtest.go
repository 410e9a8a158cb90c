// Package pgtest shares one PostgreSQL among a test package's integration
// tests: the database named by CQRSBENCH_TEST_PG_DSN, or a throwaway pglocal
// cluster started on first use and closed from TestMain.
//
//	var db = pgtest.NewShared(pglocal.Options{})
//
//	func TestMain(m *testing.M) { code := m.Run(); db.Close(); os.Exit(code) }
//
//	func TestX(t *testing.T) { pool := db.Pool(t); schema := pgtest.FreshSchema(t, pool, "x"); ... }
package pgtest

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
	"github.com/cqrsbench/cqrsbench/reference/domain"
)

// DSNEnv names the variable that points integration tests at an existing
// database instead of a throwaway local cluster.
const DSNEnv = "CQRSBENCH_TEST_PG_DSN"

// Shared is the database a test package's integration tests share.
type Shared struct {
	opts    pglocal.Options
	once    sync.Once
	dsn     string
	err     error
	cluster *pglocal.Cluster
	seq     atomic.Int64
	run     int64
}

// NewShared returns a Shared that starts a cluster with opts when needed.
func NewShared(opts pglocal.Options) *Shared {
	return &Shared{opts: opts, run: time.Now().UnixNano()}
}

// Close stops the cluster if one was started. Call it from TestMain.
func (s *Shared) Close() {
	if s.cluster == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := s.cluster.Close(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "close test cluster:", err)
	}
}

// Pool returns a pool on the shared database, skipping the test (failing it
// when services are required) when there is none, and under -short.
func (s *Shared) Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL; skipped with -short")
	}
	s.once.Do(func() {
		if dsn := os.Getenv(DSNEnv); dsn != "" {
			s.dsn = dsn
			return
		}
		if _, err := pglocal.FindBinDir(s.opts.BinDir); err != nil {
			s.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		s.cluster, s.err = pglocal.Start(ctx, s.opts)
		if s.err == nil {
			s.dsn = s.cluster.DSN()
		}
	})
	if s.err != nil {
		infratest.Missing(t, "set %s or install the PostgreSQL server (apt-get install postgresql): %v", DSNEnv, s.err)
	}
	pool, err := pgxpool.New(t.Context(), s.dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", s.dsn, err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// FreshSchema returns a schema name unique to this test run, whose write
// model is dropped at the end of the test.
func (s *Shared) FreshSchema(t testing.TB, pool *pgxpool.Pool, prefix string) string {
	t.Helper()
	name := strings.ToLower(fmt.Sprintf("%s_%x_%d", prefix, s.run&0xffffff, s.seq.Add(1)))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := domain.DropWriteModel(ctx, pool, name); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}

// Own starts a throwaway cluster for t alone, with settings (for a test
// that needs a server of its own: a standby, other server settings), and
// returns it with a pool on it; both go when t ends. Without the
// PostgreSQL server binaries t is skipped, or fails where services are
// required.
func Own(t testing.TB, settings map[string]string) (*pglocal.Cluster, *pgxpool.Pool) {
	t.Helper()
	infratest.SkipShort(t)
	c, err := pglocal.Start(t.Context(), pglocal.Options{Settings: settings})
	if err != nil {
		infratest.Missing(t, "install the PostgreSQL server (apt-get install postgresql): %v", err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c, Connect(t, c.DSN())
}

// Connect returns a pool on dsn that is closed when t ends.
func Connect(t testing.TB, dsn string) *pgxpool.Pool {
	t.Helper()
	pool, err := pgxpool.New(t.Context(), dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", dsn, err)
	}
	t.Cleanup(pool.Close)
	return pool
}
