// Package drafttest creates source databases for the tests of cqrsbench
// init: schemas the project has never seen, with generated table and
// column names, foreign keys, skewed values and NULLs.
package drafttest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Source is a schema CreateSource made.
type Source struct {
	// Schema is its name.
	Schema string
	// Tables are its tables' names, parents first.
	Tables []string
}

// CreateSource creates a new schema on pool with four tables whose names
// and column names are drawn from seed — a parent, a child with a skewed
// foreign key to it, a grandchild with a nullable skewed key, and a
// junction between the grandchild and the parent — fills them (about
// 17,000 rows, skewed values, NULLs, low- and high-cardinality text) and
// analyzes them. The schema is dropped when the test ends.
func CreateSource(t testing.TB, pool *pgxpool.Pool, seed uint64) *Source {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed^0x5eed))
	used := map[string]bool{}
	name := func(prefix string) string {
		for {
			var b strings.Builder
			b.WriteString(prefix)
			for range 5 {
				b.WriteByte(byte('a' + r.IntN(26)))
			}
			if s := b.String(); !used[s] {
				used[s] = true
				return s
			}
		}
	}
	schema := name("src_")
	a, b, c, d := name("ta_"), name("tb_"), name("tc_"), name("td_")
	aLabel, aScore, aAt := name("c_"), name("c_"), name("c_")
	bA, bKind, bAmount, bFlag, bCode := name("c_"), name("c_"), name("c_"), name("c_"), name("c_")
	cB, cQty, cNote, cAt, cMixed := name("c_"), name("c_"), name("c_"), name("c_"), "Mx "+name("")
	dC, dA := name("c_"), name("c_")
	q := func(s string) string { return pgx.Identifier{s}.Sanitize() }
	sql := fmt.Sprintf(`
CREATE SCHEMA %[1]s;
SET LOCAL search_path TO %[1]s;
CREATE TABLE %[2]s (id serial PRIMARY KEY, %[6]s text, %[7]s int NOT NULL, %[8]s timestamptz NOT NULL);
CREATE TABLE %[3]s (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, %[9]s int NOT NULL REFERENCES %[2]s,
  %[10]s varchar(40), %[11]s numeric(10,2) NOT NULL CHECK (%[11]s >= 0), %[12]s boolean, %[13]s text NOT NULL UNIQUE);
CREATE TABLE %[4]s (id bigint PRIMARY KEY, %[14]s bigint REFERENCES %[3]s, %[15]s int NOT NULL,
  %[16]s text, %[17]s timestamptz NOT NULL, %[18]s smallint);
CREATE TABLE %[5]s (%[19]s bigint REFERENCES %[4]s, %[20]s int REFERENCES %[2]s, PRIMARY KEY (%[19]s, %[20]s));
CREATE INDEX ON %[4]s (%[14]s, %[17]s);
SELECT setseed(%[21]f);
INSERT INTO %[2]s (%[6]s, %[7]s, %[8]s)
SELECT CASE WHEN random() < 0.1 THEN NULL ELSE (ARRAY['gold','silver','bronze','tin','lead'])[1 + floor(power(random(), 2.5) * 5)::int] END,
       1 + floor(random() * 1000)::int,
       timestamptz '2024-01-01' + random() * interval '400 days'
FROM generate_series(1, 500);
INSERT INTO %[3]s (%[9]s, %[10]s, %[11]s, %[12]s, %[13]s)
SELECT 1 + floor(power(random(), 3) * 500)::int,
       CASE WHEN random() < 0.2 THEN NULL ELSE 'kind ' || floor(power(random(), 2) * 30)::int END,
       round((random() * 900)::numeric, 2),
       CASE WHEN random() < 0.05 THEN NULL ELSE random() < 0.7 END,
       'code-' || g
FROM generate_series(1, 3000) g;
INSERT INTO %[4]s (id, %[14]s, %[15]s, %[16]s, %[17]s, %[18]s)
SELECT g, CASE WHEN random() < 0.15 THEN NULL ELSE 1 + floor(power(random(), 2) * 3000)::bigint END,
       1 + floor(power(random(), 4) * 50)::int,
       CASE WHEN random() < 0.3 THEN NULL ELSE 'note ' || floor(random() * 2500)::int END,
       timestamptz '2025-01-01' + random() * interval '90 days',
       CASE WHEN random() < 0.5 THEN NULL ELSE floor(random() * 4)::smallint END
FROM generate_series(1, 12000) g;
INSERT INTO %[5]s (%[19]s, %[20]s)
SELECT DISTINCT c.id, 1 + floor(power(random(), 2) * 500)::int
FROM %[4]s c, generate_series(1, 2) k WHERE c.id %% 6 = 0;
`, q(schema), q(a), q(b), q(c), q(d), q(aLabel), q(aScore), q(aAt), q(bA), q(bKind), q(bAmount), q(bFlag), q(bCode),
		q(cB), q(cQty), q(cNote), q(cAt), q(cMixed), q(dC), q(dA), float64(seed%1000)/1000)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := pool.Exec(ctx, "DROP SCHEMA IF EXISTS "+q(schema)+" CASCADE"); err != nil {
			t.Errorf("drop source schema %s: %v", schema, err)
		}
	})
	tx, err := pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(t.Context(), sql); err != nil {
		_ = tx.Rollback(t.Context())
		t.Fatalf("create the source: %v", err)
	}
	if err := tx.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{a, b, c, d} {
		if _, err := pool.Exec(t.Context(), "ANALYZE "+pgx.Identifier{schema, table}.Sanitize()); err != nil {
			t.Fatal(err)
		}
	}
	return &Source{Schema: schema, Tables: []string{a, b, c, d}}
}
