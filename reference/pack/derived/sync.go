package derived

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference/pack"
)

// SyncOptions tunes cqrs-sync.
type SyncOptions struct {
	// NoKeyLock drops the per-key lock taken before recomputing (a
	// negative control: concurrent commands on one key leave stale rows).
	NoKeyLock bool
	// AfterWrites, when not nil, runs after a command's statements and
	// before its keys are locked and recomputed; BeforeCommit after they
	// are recomputed, before the commit (test hooks).
	AfterWrites, BeforeCommit func(ctx context.Context) error
}

// Sync is the cqrs-sync architecture of a pack: a table per read model,
// recomputed in the command's transaction for the keys it changed.
type Sync struct {
	base
	opts SyncOptions
	// recompute, per read model, recomputes one key's row (set by Setup).
	recompute map[string]string
}

var (
	_ pack.Executor = (*Sync)(nil)
	_ pack.Verifier = (*Sync)(nil)
)

// NewSync returns pack p's cqrs-sync architecture, named name, on schema
// (whose write model p loaded).
func NewSync(ctx context.Context, name string, pool *pgxpool.Pool, schema string, p *pack.Pack, opts SyncOptions) (*Sync, error) {
	b, err := newBase(ctx, name, pool, schema, p)
	if err != nil {
		return nil, err
	}
	return &Sync{base: b, opts: opts, recompute: map[string]string{}}, nil
}

// lockSQL locks read model $1's key $2 (its KeyText) and counts its
// version, in pack.KeyVersions.
var lockSQL = `INSERT INTO ` + pgx.Identifier{pack.KeyVersions}.Sanitize() + ` AS v (read_model, key, version) VALUES ($1, $2, 1)
	ON CONFLICT (read_model, key) DO UPDATE SET version = v.version + 1`

// createKeyVersions creates pack.KeyVersions.
func createKeyVersions(ctx context.Context, tx pgx.Tx) error {
	if _, err := tx.Exec(ctx, `CREATE TABLE `+pgx.Identifier{pack.KeyVersions}.Sanitize()+
		` (read_model text, key text, version bigint NOT NULL, PRIMARY KEY (read_model, key))`); err != nil {
		return fmt.Errorf("create %s: %w", pack.KeyVersions, err)
	}
	return nil
}

// Setup implements reference.System: each read model becomes a table with
// the projection's columns and a primary key on its key, filled from the
// write model; and the key-version table is created. With its reads on a
// replica, it returns once the replica has them.
func (s *Sync) Setup(ctx context.Context) error {
	return s.afterReplay(ctx, pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := createKeyVersions(ctx, tx); err != nil {
			return fmt.Errorf("%s: %w", s.name, err)
		}
		for _, rm := range s.pack.ReadModels {
			if err := createReadModel(ctx, tx, rm); err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			sql, err := recomputeSQL(ctx, tx, rm)
			if err != nil {
				return fmt.Errorf("%s: %w", s.name, err)
			}
			s.recompute[rm.Name] = sql
		}
		return nil
	}))
}

// recomputeSQL returns the statement that brings one key's row of rm (the
// key's values are $1, $2, …) in line with the write model: the
// projection's row upserted, or the row deleted when the projection has
// none.
func recomputeSQL(ctx context.Context, tx pgx.Tx, rm *pack.ReadModel) (string, error) {
	rows, err := tx.Query(ctx, "SELECT * FROM "+projection(rm)+" p LIMIT 0")
	if err != nil {
		return "", fmt.Errorf("read model %s: %w", rm.Name, err)
	}
	fields := rows.FieldDescriptions()
	rows.Close()
	var where, cols []string
	for i, k := range rm.Key {
		where = append(where, fmt.Sprintf("%s = $%d", pgx.Identifier{k}.Sanitize(), i+1))
	}
	for _, f := range fields {
		cols = append(cols, f.Name)
	}
	w, table := strings.Join(where, " AND "), pgx.Identifier{rm.Name}.Sanitize()
	return "WITH p AS (SELECT * FROM " + projection(rm) + " p WHERE " + w + "),\n" +
		"d AS (DELETE FROM " + table + " WHERE " + w + " AND NOT EXISTS (SELECT FROM p))\n" +
		"INSERT INTO " + table + " SELECT * FROM p " + upsertClause(rm, cols), nil
}

// upsertClause is the ON CONFLICT clause that makes an insert into rm's
// table, whose columns are cols, an upsert on its key.
func upsertClause(rm *pack.ReadModel, cols []string) string {
	var key, set []string
	for _, k := range rm.Key {
		key = append(key, pgx.Identifier{k}.Sanitize())
	}
	for _, c := range cols {
		if !slices.Contains(rm.Key, c) {
			q := pgx.Identifier{c}.Sanitize()
			set = append(set, q+" = EXCLUDED."+q)
		}
	}
	if len(set) == 0 {
		return "ON CONFLICT (" + strings.Join(key, ", ") + ") DO NOTHING"
	}
	return "ON CONFLICT (" + strings.Join(key, ", ") + ") DO UPDATE SET " + strings.Join(set, ", ")
}

// createReadModel creates rm's table from its projection, keyed, filled.
func createReadModel(ctx context.Context, tx pgx.Tx, rm *pack.ReadModel) error {
	return buildReadModel(ctx, tx, rm, func(table, key string) []step {
		return []step{
			{"create", "CREATE TABLE " + table + " AS SELECT * FROM " + projection(rm) + " p WITH NO DATA"},
			{"key", "ALTER TABLE " + table + " ADD PRIMARY KEY (" + key + ")"},
			{"fill", "INSERT INTO " + table + " SELECT * FROM " + projection(rm) + " p"},
			{"analyze", "ANALYZE " + table},
		}
	})
}

// Run implements pack.Executor: the command's statements, then, per changed
// key in lock order, the key's lock and version and its rows recomputed;
// one transaction.
func (s *Sync) Run(ctx context.Context, cmd *pack.Command, args map[string]any) (pack.Outcome, error) {
	var out pack.Outcome
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: commandIsolation}, func(tx pgx.Tx) error {
		var err error
		if out, err = pack.RunStatements(ctx, tx, cmd, args); err != nil {
			return err
		}
		changed := out.Changed
		if s.opts.AfterWrites != nil {
			if err := s.opts.AfterWrites(ctx); err != nil {
				return err
			}
		}
		var b pgx.Batch
		for _, rm := range slices.Sorted(maps.Keys(changed)) {
			sql, ok := s.recompute[rm]
			if !ok {
				return fmt.Errorf("%s: read model %s is not set up (Setup first)", s.name, rm)
			}
			for _, key := range changed[rm] {
				if !s.opts.NoKeyLock {
					b.Queue(lockSQL, rm, pack.KeyText(key))
				}
				b.Queue(sql, key...)
			}
		}
		if b.Len() > 0 {
			if err := tx.SendBatch(ctx, &b).Close(); err != nil {
				return err
			}
		}
		if s.opts.BeforeCommit != nil {
			return s.opts.BeforeCommit(ctx)
		}
		return nil
	})
	if err != nil {
		return pack.Outcome{}, err
	}
	return out, nil
}

// Show implements pack.Executor with the screen's flat query on its read
// model.
func (s *Sync) Show(ctx context.Context, sc *pack.Screen, args map[string]any) (int, error) {
	return s.show(ctx, sc.Name, sc.Flat, args)
}

// Current implements pack.Verifier.
func (s *Sync) Current(ctx context.Context, rm *pack.ReadModel, key []any) (bool, error) {
	return s.current(ctx, rm, key, pgx.Identifier{rm.Name}.Sanitize())
}
