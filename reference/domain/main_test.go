package domain_test

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

// dsnEnv names the variable that points the integration tests at an existing
// database instead of a throwaway local cluster.
const dsnEnv = "CQRSBENCH_TEST_PG_DSN"

// testDB is the PostgreSQL the package's integration tests share: the
// database of dsnEnv, or a pglocal cluster started on first use and closed by
// TestMain.
type testDB struct {
	once    sync.Once
	dsn     string
	err     error
	cluster *pglocal.Cluster
}

var (
	shared     testDB
	schemaSeq  atomic.Int64
	runStarted = time.Now().UnixNano()
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.cluster != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := shared.cluster.Close(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "close test cluster:", err)
		}
		cancel()
	}
	os.Exit(code)
}

// testPool returns a pool on the shared database, skipping the test (failing
// it in CI) when there is none.
func testPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL; skipped with -short")
	}
	shared.once.Do(func() {
		if dsn := os.Getenv(dsnEnv); dsn != "" {
			shared.dsn = dsn
			return
		}
		if _, err := pglocal.FindBinDir(""); err != nil {
			shared.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared.cluster, shared.err = pglocal.Start(ctx, pglocal.Options{Settings: map[string]string{"shared_buffers": "128MB"}})
		if shared.err == nil {
			shared.dsn = shared.cluster.DSN()
		}
	})
	if shared.err != nil {
		infratest.Missing(t, "set %s or install the PostgreSQL server (apt-get install postgresql): %v", dsnEnv, shared.err)
	}
	pool, err := pgxpool.New(t.Context(), shared.dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", shared.dsn, err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// freshSchema returns a schema name unique to this test run, dropped at the
// end of the test.
func freshSchema(t *testing.T, pool *pgxpool.Pool, prefix string) string {
	t.Helper()
	name := fmt.Sprintf("%s_%x_%d", prefix, runStarted&0xffffff, schemaSeq.Add(1))
	name = strings.ToLower(name)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := domain.DropWriteModel(ctx, pool, name); err != nil {
			t.Errorf("drop schema %s: %v", name, err)
		}
	})
	return name
}
