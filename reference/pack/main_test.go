package pack_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
	"github.com/cqrsbench/cqrsbench/internal/pgtest"
	"github.com/cqrsbench/cqrsbench/reference/pack"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// shared is the PostgreSQL the package's integration tests share.
var shared = pgtest.NewShared(pglocal.Options{})

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Close()
	os.Exit(code)
}

// today anchors the tests' generated times.
var today = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// writePack writes a pack directory with workload.yaml and, when schema is
// not empty, schema.sql, and returns its directory.
func writePack(t testing.TB, yaml, schema string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, pack.FileName), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if schema != "" {
		if err := os.WriteFile(filepath.Join(dir, "schema.sql"), []byte(schema), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// mustLoad loads a pack directory, failing the test on error.
func mustLoad(t testing.TB, dir string) *pack.Pack {
	t.Helper()
	p, err := pack.Load(dir)
	if err != nil {
		t.Fatalf("load %s: %v", dir, err)
	}
	return p
}

// loadInto inspects p and loads it into a fresh schema, returning the
// schema.
func loadInto(t testing.TB, pool *pgxpool.Pool, p *pack.Pack, ds workload.Dataset) string {
	t.Helper()
	schema := shared.FreshSchema(t, pool, "pack")
	if err := p.Load(t.Context(), pool, schema, ds); err != nil {
		t.Fatalf("load pack %s: %v", p.Name(), err)
	}
	return schema
}
