package pack

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// KeyVersions is the table, in a derived architecture's schema, that holds
// every read-model key's version: one row per key changed since setup,
// locked by the command changing it (reference/pack/derived).
const KeyVersions = "cqrsbench_key_versions"

// ReadModel returns the read model named name, nil if the pack has none.
func (p *Pack) ReadModel(name string) *ReadModel {
	for _, rm := range p.ReadModels {
		if rm.Name == name {
			return rm
		}
	}
	return nil
}

// Tables maps every read model of the pack to its table in a derived
// architecture's schema: the table has the read model's name.
func (p *Pack) Tables() workload.ReadModels {
	rm := workload.ReadModels{}
	for _, r := range p.ReadModels {
		rm[r.Name] = r.Name
	}
	return rm
}

// InSchema runs fn in a transaction of db whose search_path is schema, as
// the pack's unqualified SQL needs, and rolls it back.
func InSchema(ctx context.Context, db workload.DB, schema string, fn func(pgx.Tx) error) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, "SELECT set_config('search_path', $1, true)", pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("set search_path to %s: %w", schema, err)
	}
	return fn(tx)
}

// Check implements workload.Workload: each read model rm names is diffed,
// row by row, with its projection query over the write model of schema,
// inside PostgreSQL (a FULL JOIN on the key); a few differing rows come
// back as samples.
func (p *Pack) Check(ctx context.Context, db workload.DB, schema string, rm workload.ReadModels) ([]workload.Diff, error) {
	var diffs []workload.Diff
	names := slices.Sorted(maps.Keys(rm))
	err := InSchema(ctx, db, schema, func(tx pgx.Tx) error {
		for _, name := range names {
			r := p.ReadModel(name)
			if r == nil {
				return fmt.Errorf("pack %s has no read model %s", p.PackName, name)
			}
			d := workload.Diff{Table: rm[name]}
			if err := tx.QueryRow(ctx, diffSQL(r, rm[name]), workload.MaxSamples).Scan(&d.Expected, &d.Missing, &d.Extra, &d.Mismatched, &d.Samples); err != nil {
				return fmt.Errorf("check %s.%s: %w", schema, rm[name], err)
			}
			diffs = append(diffs, d)
		}
		return nil
	})
	return diffs, err
}

// diffSQL compares table with r's projection: expected rows, missing,
// extra and mismatched counts, and up to $1 samples.
func diffSQL(r *ReadModel, table string) string {
	var on, eKey, aKey []string
	for _, k := range r.Key {
		q := pgx.Identifier{k}.Sanitize()
		on = append(on, "e."+q+" = a."+q)
		eKey = append(eKey, "e."+q)
		aKey = append(aKey, "a."+q)
	}
	first := pgx.Identifier{r.Key[0]}.Sanitize()
	return `
WITH e AS (
` + r.Projection.Text + `
),
a AS (SELECT * FROM ` + pgx.Identifier{table}.Sanitize() + `),
d AS (
    SELECT CASE WHEN e.` + first + ` IS NULL THEN row(` + strings.Join(aKey, ", ") + `)::text ELSE row(` + strings.Join(eKey, ", ") + `)::text END AS key,
           e.` + first + ` IS NULL AS extra, a.` + first + ` IS NULL AS missing,
           CASE WHEN e.` + first + ` IS NULL THEN '' ELSE row(e.*)::text END AS expected,
           CASE WHEN a.` + first + ` IS NULL THEN '' ELSE row(a.*)::text END AS actual
    FROM e FULL JOIN a ON ` + strings.Join(on, " AND ") + `
    WHERE e.` + first + ` IS NULL OR a.` + first + ` IS NULL OR row(e.*) IS DISTINCT FROM row(a.*)
)
SELECT (SELECT count(*) FROM e), count(*) FILTER (WHERE missing), count(*) FILTER (WHERE extra),
       count(*) FILTER (WHERE NOT missing AND NOT extra),
       coalesce((SELECT array_agg(s ORDER BY k) FROM (
           SELECT key AS k, key || ': expected ' || expected || ' actual ' || actual AS s FROM d ORDER BY key LIMIT $1) x), '{}')
FROM d`
}

// Committed implements workload.Workload: the sum of the read-model keys'
// versions in schema — every command adds one per key it changes — or 0
// where no derived read side keeps them (crud).
func (p *Pack) Committed(ctx context.Context, db workload.DB, schema string) (int64, error) {
	var n int64
	err := db.QueryRow(ctx, `SELECT CASE WHEN to_regclass($1) IS NULL THEN 0 ELSE -1 END`,
		pgx.Identifier{schema, KeyVersions}.Sanitize()).Scan(&n)
	if err != nil || n == 0 {
		return 0, err
	}
	err = db.QueryRow(ctx, "SELECT coalesce(sum(version), 0)::bigint FROM "+pgx.Identifier{schema, KeyVersions}.Sanitize()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count the key versions of %s: %w", schema, err)
	}
	return n, nil
}

// Rejection implements workload.Workload: the kind a reject_if_empty
// statement declares.
func (p *Pack) Rejection(err error) string {
	var r *Rejected
	if errors.As(err, &r) {
		return r.Kind
	}
	return ""
}

// Operations implements workload.Workload: the commands, then the
// screens, with their weights.
func (p *Pack) Operations() []workload.Operation {
	var ops []workload.Operation
	for _, c := range p.Commands {
		ops = append(ops, workload.Operation{Name: c.Name, Weight: c.Weight})
	}
	for _, s := range p.Screens {
		ops = append(ops, workload.Operation{Name: s.Name, Query: true, Weight: s.Weight})
	}
	for _, s := range p.Sequences {
		ops = append(ops, workload.Operation{Name: s.Name, Weight: s.Weight})
	}
	return ops
}
