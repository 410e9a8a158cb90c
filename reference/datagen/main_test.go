package datagen_test

import (
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
	"github.com/cqrsbench/cqrsbench/internal/pgtest"
)

// shared is the PostgreSQL the package's integration tests share.
var shared = pgtest.NewShared(pglocal.Options{})

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Close()
	os.Exit(code)
}

func testPool(t *testing.T) *pgxpool.Pool { t.Helper(); return shared.Pool(t) }

func freshSchema(t *testing.T, pool *pgxpool.Pool, prefix string) string {
	t.Helper()
	return shared.FreshSchema(t, pool, prefix)
}
