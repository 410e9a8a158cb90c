package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
	"github.com/cqrsbench/cqrsbench/harness/infra/rabbitlocal"
	"github.com/cqrsbench/cqrsbench/reference/pack"
	"github.com/cqrsbench/cqrsbench/reference/pack/draft/drafttest"
)

// sourceCluster starts a throwaway PostgreSQL with pg_stat_statements
// loaded, to draft from, and returns a pool on it.
func sourceCluster(t *testing.T) *pgxpool.Pool {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	if _, err := pglocal.FindBinDir(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	c, err := pglocal.Start(t.Context(), pglocal.Options{Settings: map[string]string{"shared_preload_libraries": "pg_stat_statements"}})
	if err != nil {
		t.Fatalf("start the source cluster: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.Close(ctx); err != nil {
			t.Errorf("close the source cluster: %v", err)
		}
	})
	pool, err := pgxpool.New(t.Context(), c.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// TestInitFromDBThenRunSmoke drafts a pack from a database with a schema
// the project has never seen (generated names, foreign keys, skewed data,
// NULLs) and pg_stat_statements, checks that the draft lists the
// application's statements, loads, and is refused by run until its TODOs
// are filled in; then fills in its example screen, read model and command,
// and runs the smoke scenario on it — with the draft's generated data, then
// with the source's rows (data: from:): every architecture that runs packs
// ends with its read model equal to its projection.
func TestInitFromDBThenRunSmoke(t *testing.T) {
	pool := sourceCluster(t)
	if _, err := rabbitlocal.FindBinaries(""); err != nil {
		infratest.Missing(t, "cqrs-rabbitmq runs packs: %v", err)
	}
	if _, err := pool.Exec(t.Context(), "CREATE EXTENSION pg_stat_statements"); err != nil {
		t.Fatal(err)
	}
	src := drafttest.CreateSource(t, pool, uint64(time.Now().UnixNano()))
	// The application's frequent statement.
	for i := range 25 {
		if _, err := pool.Exec(t.Context(), fmt.Sprintf("SELECT count(*) FROM %s WHERE id = $1", pgx.Identifier{src.Schema, src.Tables[1]}.Sanitize()), i); err != nil {
			t.Fatal(err)
		}
	}
	dir := filepath.Join(t.TempDir(), "app")
	code, stdout, stderr := cli(t, "init", "--from-db", pool.Config().ConnString(), "--schema", src.Schema, "--out", dir, "--name", "app")
	if code != 0 {
		t.Fatalf("init: exit %d\n%s", code, stderr)
	}
	t.Logf("init:\n%s", stdout)
	if !strings.Contains(stdout, "next: fill in the TODOs") {
		t.Errorf("init does not say what to do next:\n%s", stdout)
	}
	yamlPath := filepath.Join(dir, pack.FileName)
	doc, err := os.ReadFile(yamlPath)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`(?m)^# +25 calls, [0-9.]+ ms: SELECT count\(\*\) FROM "?` + src.Schema + `"?\."?` + src.Tables[1] + `"? WHERE id = \$1$`).Match(doc) {
		t.Errorf("the draft does not list the application's statement from pg_stat_statements:\n%s", doc)
	}
	if strings.Contains(string(doc), "ANALYZE") || strings.Contains(string(doc), "pg_attribute") {
		t.Errorf("the draft lists utility commands or catalog reads among the application's statements:\n%s", doc)
	}
	if _, err := pack.Load(dir); err != nil {
		t.Fatalf("the draft does not load: %v", err)
	}

	// Unfilled, the draft is refused before anything starts, saying what
	// it lacks.
	if code, _, stderr := cli(t, "run", "smoke", "--workload", dir, "--infra", "local", "--quiet", "--out", t.TempDir()); code != exitUsage || !strings.Contains(stderr, "has no operations; give it commands: and screens:") {
		t.Errorf("run on the unfilled draft: exit %d, stderr %q; want exit 2 saying it has no operations", code, stderr)
	}

	// Fill in the TODOs: take the draft's example.
	lines := strings.Split(string(doc), "\n")
	begin, end := slices.Index(lines, "# BEGIN example"), slices.Index(lines, "# END example")
	if begin < 0 || end < begin {
		t.Fatalf("the draft has no example between # BEGIN example and # END example:\n%s", doc)
	}
	for i := begin + 1; i < end; i++ {
		lines[i] = strings.TrimPrefix(lines[i], "# ")
	}
	if err := os.WriteFile(yamlPath, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := pack.Load(dir)
	if err != nil {
		t.Fatalf("the filled-in draft does not load: %v", err)
	}
	if len(p.Screens) != 1 || len(p.ReadModels) != 1 || len(p.Commands) != 1 {
		t.Fatalf("the filled-in draft has %d screens, %d read models, %d commands; want 1 each", len(p.Screens), len(p.ReadModels), len(p.Commands))
	}

	runSmokeOnPack(t, dir, 1)

	// The same pack with the source's own rows: data: from: the source.
	doc, err = os.ReadFile(yamlPath)
	if err != nil {
		t.Fatal(err)
	}
	data := regexp.MustCompile(`(?s)\ndata:\n.*?\n\n`)
	if !data.Match(doc) {
		t.Fatalf("no data: section followed by a blank line in the draft:\n%s", doc)
	}
	from := fmt.Sprintf("\ndata:\n  from: {dsn: %q, schema: %s}\n\n", pool.Config().ConnString(), src.Schema)
	if err := os.WriteFile(yamlPath, data.ReplaceAll(doc, []byte(from)), 0o644); err != nil {
		t.Fatal(err)
	}
	runSmokeOnPack(t, dir, 1)
}

// TestInitRefusesBadInput: init's mistakes exit 2 and its unreachable
// source 3, each saying what to do; a refused --out reads nothing.
func TestInitRefusesBadInput(t *testing.T) {
	full := t.TempDir()
	if err := os.WriteFile(filepath.Join(full, "mine.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	unreachable := "postgres://nobody@" + closedAddr(t) + "/none?connect_timeout=5"
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no flags", []string{"init"}, exitUsage, "give --from-db DSN and --out DIR"},
		{"unreachable", []string{"init", "--from-db", unreachable, "--out", filepath.Join(t.TempDir(), "x")}, exitInfra, "fix: check the DSN"},
		{"non-empty out", []string{"init", "--from-db", unreachable, "--out", full}, exitUsage, "exists and is not empty"},
		{"bad name", []string{"init", "--from-db", unreachable, "--out", filepath.Join(t.TempDir(), "x"), "--name", "Bad Name"}, exitUsage, "--name"},
		{"bad DSN", []string{"init", "--from-db", "postgres://a:b@[::1", "--out", filepath.Join(t.TempDir(), "x")}, exitUsage, "source DSN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := cli(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want exit %d saying %q", code, stderr, tt.code, tt.want)
			}
		})
	}
	t.Run("no tables", func(t *testing.T) {
		pool := sourceCluster(t)
		code, _, stderr := cli(t, "init", "--from-db", pool.Config().ConnString(), "--out", filepath.Join(t.TempDir(), "x"))
		if code != exitUsage || !strings.Contains(stderr, "no tables in schema \"public\"") {
			t.Errorf("exit %d, stderr %q; want exit 2 saying the schema has no tables", code, stderr)
		}
	})
}
