package draft_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
	"github.com/cqrsbench/cqrsbench/internal/pgtest"
	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/pack"
	"github.com/cqrsbench/cqrsbench/reference/pack/draft"
	"github.com/cqrsbench/cqrsbench/reference/pack/draft/drafttest"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

var shared = pgtest.NewShared(pglocal.Options{})

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Close()
	os.Exit(code)
}

// Tolerances of the generated data against the source, per column: the
// NULL fraction within nullTolerance (absolute), the number of distinct
// values within a factor of distinctFactor both as a count and as a
// fraction of the table's rows.
const (
	nullTolerance  = 0.05
	distinctFactor = 1.25
)

// columnShape is a column's measured shape.
type columnShape struct {
	rows     int64
	distinct int64
	nulls    float64
}

// shapes measures every column of the tables (exactly, not from pg_stats).
func shapes(t *testing.T, pool *pgxpool.Pool, schema string, tables []string) map[string]columnShape {
	t.Helper()
	out := map[string]columnShape{}
	for _, table := range tables {
		rows, err := pool.Query(t.Context(), `SELECT attname FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`,
			pgx.Identifier{schema, table}.Sanitize())
		if err != nil {
			t.Fatal(err)
		}
		cols, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cols {
			var s columnShape
			id := pgx.Identifier{c}.Sanitize()
			err := pool.QueryRow(t.Context(), fmt.Sprintf(`SELECT count(*), count(DISTINCT %s), coalesce(avg((%s IS NULL)::int), 0)::float8 FROM %s`,
				id, id, pgx.Identifier{schema, table}.Sanitize())).Scan(&s.rows, &s.distinct, &s.nulls)
			if err != nil {
				t.Fatal(err)
			}
			out[table+"."+c] = s
		}
	}
	return out
}

// checksum returns an md5 of every row of the schema's tables.
func checksum(t *testing.T, pool *pgxpool.Pool, schema string, tables []string) string {
	t.Helper()
	var all []string
	for _, table := range tables {
		var sum string
		if err := pool.QueryRow(t.Context(), fmt.Sprintf(`SELECT coalesce(md5(string_agg(x::text, E'\n' ORDER BY x::text)), '') FROM %s x`, pgx.Identifier{schema, table}.Sanitize())).Scan(&sum); err != nil {
			t.Fatal(err)
		}
		all = append(all, sum)
	}
	return strings.Join(all, ",")
}

// TestDraftShapedLikeTheSource drafts a pack from a schema with generated
// names, loads the draft's data and compares every column with the
// source's: NULL fraction and distinct values within the tolerances. The
// source is unchanged, and the draft's text columns hold none of its text.
func TestDraftShapedLikeTheSource(t *testing.T) {
	pool := shared.Pool(t)
	seed := sourceSeed(t)
	src := drafttest.CreateSource(t, pool, seed)
	before := checksum(t, pool, src.Schema, src.Tables)

	read, err := draft.Read(t.Context(), pool.Config().ConnString(), draft.Options{Schema: src.Schema})
	if err != nil {
		t.Fatal(err)
	}
	files := draft.Render(read, draft.MakePlan(read), "", time.Now())
	dir := filepath.Join(t.TempDir(), "draft")
	if err := draft.Write(dir, files); err != nil {
		t.Fatal(err)
	}
	t.Logf("workload.yaml:\n%s\nschema.sql:\n%s", files.Workload, files.Schema)
	if after := checksum(t, pool, src.Schema, src.Tables); after != before {
		t.Errorf("the source changed while init read it")
	}
	p, err := pack.Load(dir)
	if err != nil {
		t.Fatalf("the draft does not load: %v", err)
	}
	if len(p.Commands)+len(p.Screens)+len(p.ReadModels) != 0 {
		t.Errorf("the draft has operations; they should be TODOs")
	}
	schema := shared.FreshSchema(t, pool, "draft")
	if err := p.Load(t.Context(), pool, schema, workload.Dataset{Seed: 1}); err != nil {
		t.Fatalf("load the draft: %v", err)
	}

	want := shapes(t, pool, src.Schema, src.Tables)
	got := shapes(t, pool, schema, src.Tables)
	worstNull, worstAbs, worstRel := 0.0, 1.0, 1.0
	for col, w := range want {
		g, ok := got[col]
		if !ok {
			t.Errorf("%s: not in the draft", col)
			continue
		}
		nullDiff := math.Abs(g.nulls - w.nulls)
		abs := ratio(float64(g.distinct), float64(w.distinct))
		rel := ratio(float64(g.distinct)/float64(max(g.rows, 1)), float64(w.distinct)/float64(max(w.rows, 1)))
		worstNull, worstAbs, worstRel = max(worstNull, nullDiff), max(worstAbs, abs), max(worstRel, rel)
		t.Logf("%-30s rows %6d/%6d  distinct %6d/%6d (×%.2f abs, ×%.2f rel)  null %.3f/%.3f", col, g.rows, w.rows, g.distinct, w.distinct, abs, rel, g.nulls, w.nulls)
		if nullDiff > nullTolerance {
			t.Errorf("%s: NULL fraction %.3f, source %.3f (tolerance ±%.2f)", col, g.nulls, w.nulls, nullTolerance)
		}
		if abs > distinctFactor || rel > distinctFactor {
			t.Errorf("%s: %d distinct of %d rows, source %d of %d (tolerance ×%.2f)", col, g.distinct, g.rows, w.distinct, w.rows, distinctFactor)
		}
	}
	t.Logf("worst: NULL fraction ±%.3f, distinct ×%.2f (count), ×%.2f (fraction of rows)", worstNull, worstAbs, worstRel)

	// No text of the source: its text values are absent from the draft.
	for _, word := range []string{"gold", "silver", "kind ", "note ", "code-"} {
		if strings.Contains(files.Workload, word) {
			t.Errorf("the draft copies the source's text %q", word)
		}
	}
}

// seedEnv names the variable that overrides the seed of the source
// TestDraftShapedLikeTheSource drafts from, to try other sources.
const seedEnv = "CQRSBENCH_TEST_DRAFT_SEED"

// sourceSeed returns the seed of the source's names and values: 1, or
// $CQRSBENCH_TEST_DRAFT_SEED; logged, so that a failure can be replayed.
func sourceSeed(t *testing.T) uint64 {
	t.Helper()
	seed := uint64(1)
	if v := os.Getenv(seedEnv); v != "" {
		var err error
		if seed, err = strconv.ParseUint(v, 10, 64); err != nil {
			t.Fatalf("%s=%q: want an unsigned integer", seedEnv, v)
		}
	}
	t.Logf("source seed %d (%s=%d replays it)", seed, seedEnv, seed)
	return seed
}

// ratio returns the larger of a/b and b/a (1 when both are 0).
func ratio(a, b float64) float64 {
	if a == b {
		return 1
	}
	if a == 0 || b == 0 {
		return math.Inf(1)
	}
	return max(a/b, b/a)
}

// TestReadRefusesBadSources: an unreachable database is unavailable (exit
// 3, saying what to check); a schema without tables, or none at all, is
// bad input (exit 2, saying to name the schema).
func TestReadRefusesBadSources(t *testing.T) {
	pool := shared.Pool(t)
	_, err := draft.Read(t.Context(), "postgres://nobody@127.0.0.1:1/none?connect_timeout=5", draft.Options{})
	var unavailable *pack.UnavailableError
	if !errors.As(err, &unavailable) || unavailable.ExitCode() != 3 || !strings.Contains(err.Error(), "fix:") {
		t.Errorf("unreachable source: %v, want an UnavailableError with exit code 3 and a fix", err)
	}
	empty := shared.FreshSchema(t, pool, "empty")
	if _, err := pool.Exec(t.Context(), "CREATE SCHEMA "+empty+"; COMMENT ON SCHEMA "+empty+" IS '"+domain.OwnerMarker+"'"); err != nil {
		t.Fatal(err)
	}
	for _, schema := range []string{empty, "no_such_schema"} {
		_, err := draft.Read(t.Context(), pool.Config().ConnString(), draft.Options{Schema: schema})
		var input *draft.InputError
		if !errors.As(err, &input) || input.ExitCode() != 2 || !strings.Contains(err.Error(), "--schema") {
			t.Errorf("schema %s: %v, want an InputError with exit code 2 naming --schema", schema, err)
		}
	}
}

// TestWriteRefusesANonEmptyDirectory: Write never overwrites; it writes
// into an empty or new directory and leaves no temporary directory.
func TestWriteRefusesANonEmptyDirectory(t *testing.T) {
	parent := t.TempDir()
	full := filepath.Join(parent, "full")
	if err := os.MkdirAll(full, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(full, "keep.txt"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := draft.Write(full, draft.Files{Workload: "x", Schema: "y"})
	var input *draft.InputError
	if !errors.As(err, &input) || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("non-empty --out: %v, want an InputError saying it is not empty", err)
	}
	if b, _ := os.ReadFile(filepath.Join(full, "keep.txt")); string(b) != "mine" {
		t.Errorf("the existing file changed")
	}
	emptyDir := filepath.Join(parent, "empty")
	if err := os.MkdirAll(emptyDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{emptyDir, filepath.Join(parent, "new")} {
		if err := draft.Write(dir, draft.Files{Workload: "w", Schema: "s"}); err != nil {
			t.Errorf("write into %s: %v", dir, err)
		}
		if b, _ := os.ReadFile(filepath.Join(dir, pack.FileName)); string(b) != "w" {
			t.Errorf("%s: workload.yaml is %q", dir, b)
		}
	}
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind %s", e.Name())
		}
	}
}

// readSource creates a fresh schema on pool with ddl (run with the schema
// on the search_path), analyzes it and reads it as init does.
func readSource(t *testing.T, pool *pgxpool.Pool, ddl string) *draft.Source {
	t.Helper()
	schema := shared.FreshSchema(t, pool, "source")
	if _, err := pool.Exec(t.Context(), "CREATE SCHEMA "+schema+"; COMMENT ON SCHEMA "+schema+" IS '"+domain.OwnerMarker+"'; SET search_path TO "+schema+"; "+ddl+"; ANALYZE; RESET search_path"); err != nil {
		t.Fatal(err)
	}
	read, err := draft.Read(t.Context(), pool.Config().ConnString(), draft.Options{Schema: schema, Statements: -1})
	if err != nil {
		t.Fatal(err)
	}
	return read
}

// writeAndLoad renders the draft of read, writes it and loads it with
// pack.Load.
func writeAndLoad(t *testing.T, read *draft.Source) (draft.Files, *pack.Pack) {
	t.Helper()
	files := draft.Render(read, draft.MakePlan(read), "", time.Now())
	dir := filepath.Join(t.TempDir(), "draft")
	if err := draft.Write(dir, files); err != nil {
		t.Fatal(err)
	}
	p, err := pack.Load(dir)
	if err != nil {
		t.Fatalf("the draft does not load: %v\n%s", err, files.Workload)
	}
	return files, p
}

// TestDraftListsLongNonASCIIStatements: a frequent statement longer than
// the draft lists, of multi-byte characters, is cut between characters,
// and the draft loads.
func TestDraftListsLongNonASCIIStatements(t *testing.T) {
	pool := shared.Pool(t)
	read := readSource(t, pool, "CREATE TABLE items (id bigint PRIMARY KEY, name text); INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 100) g")
	long := "SELECT id FROM items WHERE name = '" + strings.Repeat("€", 500) + "'"
	read.Statements = []draft.Statement{{Query: long, Calls: 7, MeanMS: 0.5}}
	files, _ := writeAndLoad(t, read)
	if !strings.Contains(files.Workload, "7 calls, 0.500 ms: SELECT id FROM items WHERE name = '€€€") || !strings.Contains(files.Workload, "€ …\n") {
		t.Errorf("the draft does not list the statement, cut: %s", files.Workload)
	}
}

// TestDraftOfAOneRowTable: a unique integer column of a one-row table has
// no statistics to take its range from (no common values, no histogram);
// its sequence starts at 1.
func TestDraftOfAOneRowTable(t *testing.T) {
	pool := shared.Pool(t)
	read := readSource(t, pool, "CREATE TABLE settings (id bigint PRIMARY KEY, code int NOT NULL UNIQUE); INSERT INTO settings VALUES (1, 42)")
	files, _ := writeAndLoad(t, read)
	if !strings.Contains(files.Workload, "code: {sequence: 1}") {
		t.Errorf("settings.code: want {sequence: 1}:\n%s", files.Workload)
	}
}
