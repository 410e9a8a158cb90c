package draft

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cqrsbench/cqrsbench/reference/pack"
)

// Options say what to read.
type Options struct {
	// Schema is the source's schema to draft from (default "public").
	Schema string
	// Statements is how many of pg_stat_statements' most frequent
	// statements to list (default 20; negative: none).
	Statements int
	// Name is the pack's name ("" derives it from the database's name).
	Name string
}

// Source is what Read learnt of the source database.
type Source struct {
	// Database and SchemaName name what was read.
	Database, SchemaName string
	// Schema is its tables, read as pack.ReadSchema reads a pack's, with
	// definitions unqualified.
	Schema *pack.Schema
	// Enums are the schema's enum types, in name order.
	Enums []Enum
	// Rows is each table's row count (pg_class.reltuples, or count(*)
	// when the table was never analyzed).
	Rows map[string]int64
	// Stats is each table's columns' statistics; a column without any
	// (never analyzed) is missing.
	Stats map[string]map[string]*ColumnStats
	// Statements are the most frequent statements, by calls; nil when
	// pg_stat_statements is not there, StatementsNote saying why.
	Statements     []Statement
	StatementsNote string
	// Quoted maps every table and column name to its SQL spelling
	// (quote_ident).
	Quoted map[string]string
}

// Enum is an enum type of the source schema.
type Enum struct {
	Name   string
	Labels []string
}

// ColumnStats is one column's row of pg_stats.
type ColumnStats struct {
	// NullFrac is the fraction of NULLs.
	NullFrac float64
	// NDistinct is pg_stats.n_distinct: > 0 a count, < 0 minus a
	// fraction of the rows.
	NDistinct float64
	// MCVs are the most common values (as text) and MCVFreqs their
	// fractions of all rows.
	MCVs     []string
	MCVFreqs []float64
	// Bounds are the histogram's bounds, as text, over the other values.
	Bounds []string
}

// Distinct returns the number of distinct non-NULL values among rows.
func (c *ColumnStats) Distinct(rows int64) float64 {
	if c.NDistinct >= 0 {
		return c.NDistinct
	}
	return -c.NDistinct * float64(rows)
}

// Statement is one of the source's frequent statements.
type Statement struct {
	Query  string
	Calls  int64
	MeanMS float64
}

// InputError is a mistake in what init was asked: its ExitCode is 2.
type InputError struct{ Msg string }

// Error returns the message.
func (e *InputError) Error() string { return e.Msg }

// ExitCode is 2: bad input.
func (e *InputError) ExitCode() int { return 2 }

// Read connects to dsn and reads the source in one READ ONLY REPEATABLE
// READ transaction (see package doc). An unreachable database is a
// *pack.UnavailableError (exit 3); a schema with no tables an
// *InputError (exit 2).
func Read(ctx context.Context, dsn string, opts Options) (*Source, error) {
	if opts.Schema == "" {
		opts.Schema = "public"
	}
	if opts.Statements == 0 {
		opts.Statements = 20
	}
	conn, tx, err := pack.OpenSnapshot(ctx, dsn)
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	src := &Source{SchemaName: opts.Schema, Rows: map[string]int64{}, Stats: map[string]map[string]*ColumnStats{}, Quoted: map[string]string{}}
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT current_database(), EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, opts.Schema).Scan(&src.Database, &exists); err != nil {
		return nil, fmt.Errorf("read the source: %w", err)
	}
	where := pack.DescribeDSN(dsn)
	if !exists {
		return nil, &InputError{fmt.Sprintf("the source %s has no schema %q; name one with --schema", where, opts.Schema)}
	}
	// Definitions print unqualified names for what is on the search_path
	// (times print in UTC and ISO: OpenSnapshot set the text formats).
	if _, err := tx.Exec(ctx, "SET LOCAL search_path TO "+pgx.Identifier{opts.Schema}.Sanitize()); err != nil {
		return nil, fmt.Errorf("read the source: %w", err)
	}
	if src.Schema, err = pack.ReadSchema(ctx, tx, opts.Schema); err != nil {
		return nil, fmt.Errorf("read the source's catalog: %w", err)
	}
	if len(src.Schema.Tables) == 0 {
		return nil, &InputError{fmt.Sprintf("the source %s has no tables in schema %q; name the schema holding them with --schema", where, opts.Schema)}
	}
	steps := []func(context.Context, pgx.Tx, *Source) error{readQuoted, readEnums, readRows, readStats}
	for _, step := range steps {
		if err := step(ctx, tx, src); err != nil {
			return nil, fmt.Errorf("read the source: %w", err)
		}
	}
	// Last: a failure here (the extension installed but not loaded)
	// aborts the transaction, which nothing needs any more.
	if opts.Statements < 0 {
		src.StatementsNote = "none asked for"
	} else {
		src.Statements, src.StatementsNote = readStatements(ctx, tx, opts.Statements)
	}
	return src, nil
}

// readQuoted spells every table and column name as SQL needs it.
func readQuoted(ctx context.Context, tx pgx.Tx, src *Source) error {
	var names []string
	for _, t := range src.Schema.Tables {
		names = append(names, t.Name)
		for _, c := range t.Columns {
			names = append(names, c.Name)
		}
	}
	rows, err := tx.Query(ctx, `SELECT n, quote_ident(n) FROM unnest($1::text[]) AS n`, names)
	if err != nil {
		return fmt.Errorf("quote names: %w", err)
	}
	var name, quoted string
	_, err = pgx.ForEachRow(rows, []any{&name, &quoted}, func() error {
		src.Quoted[name] = quoted
		return nil
	})
	return err
}

// readEnums reads the enum types of the schema.
func readEnums(ctx context.Context, tx pgx.Tx, src *Source) error {
	rows, err := tx.Query(ctx, `
SELECT t.typname, array_agg(e.enumlabel::text ORDER BY e.enumsortorder)
FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
WHERE t.typnamespace = $1::regnamespace
GROUP BY t.typname ORDER BY t.typname`, src.SchemaName)
	if err != nil {
		return fmt.Errorf("read enums: %w", err)
	}
	var e Enum
	_, err = pgx.ForEachRow(rows, []any{&e.Name, &e.Labels}, func() error {
		src.Enums = append(src.Enums, Enum{Name: e.Name, Labels: append([]string(nil), e.Labels...)})
		return nil
	})
	return err
}

// readRows reads each table's row count: the planner's estimate, or a
// count when the table was never analyzed or vacuumed.
func readRows(ctx context.Context, tx pgx.Tx, src *Source) error {
	for _, t := range src.Schema.Tables {
		var n float64
		if err := tx.QueryRow(ctx, `SELECT reltuples FROM pg_class WHERE oid = $1::regclass`, pgx.Identifier{src.SchemaName, t.Name}.Sanitize()).Scan(&n); err != nil {
			return fmt.Errorf("row count of %s: %w", t.Name, err)
		}
		if n < 0 {
			if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+pgx.Identifier{src.SchemaName, t.Name}.Sanitize()).Scan(&n); err != nil {
				return fmt.Errorf("count %s: %w", t.Name, err)
			}
		}
		src.Rows[t.Name] = int64(n + 0.5)
	}
	return nil
}

// readStats reads pg_stats of the schema's tables.
func readStats(ctx context.Context, tx pgx.Tx, src *Source) error {
	rows, err := tx.Query(ctx, `
SELECT tablename::text, attname::text, null_frac, n_distinct,
       coalesce(most_common_vals::text::text[], '{}'), coalesce(most_common_freqs, '{}'),
       coalesce(histogram_bounds::text::text[], '{}')
FROM pg_stats WHERE schemaname = $1 AND NOT inherited`, src.SchemaName)
	if err != nil {
		return fmt.Errorf("read pg_stats: %w", err)
	}
	var (
		table, column string
		st            ColumnStats
		nullFrac, nd  float32
		freqs         []float32
	)
	_, err = pgx.ForEachRow(rows, []any{&table, &column, &nullFrac, &nd, &st.MCVs, &freqs, &st.Bounds}, func() error {
		c := &ColumnStats{NullFrac: float64(nullFrac), NDistinct: float64(nd), MCVs: append([]string(nil), st.MCVs...), Bounds: append([]string(nil), st.Bounds...)}
		for _, f := range freqs {
			c.MCVFreqs = append(c.MCVFreqs, float64(f))
		}
		if src.Stats[table] == nil {
			src.Stats[table] = map[string]*ColumnStats{}
		}
		src.Stats[table][column] = c
		return nil
	})
	return err
}

// readStatements reads the most frequent statements of the database from
// pg_stat_statements — the application's: queries and changes, not
// utility commands nor reads of the catalog — or says why there are none.
func readStatements(ctx context.Context, tx pgx.Tx, limit int) ([]Statement, string) {
	var nsp string
	err := tx.QueryRow(ctx, `SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_stat_statements'`).Scan(&nsp)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, "pg_stat_statements is not installed in the source (CREATE EXTENSION pg_stat_statements, with it in shared_preload_libraries, lists the application's statements here)"
	}
	if err != nil {
		return nil, "pg_stat_statements could not be read: " + err.Error()
	}
	rows, err := tx.Query(ctx, `
SELECT query, calls, mean_exec_time FROM `+pgx.Identifier{nsp, "pg_stat_statements"}.Sanitize()+`
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND toplevel
  AND query ~* '^\s*(select|insert|update|delete|with|merge)\M'
  AND query !~ '\m(pg_catalog|pg_class|pg_attribute|pg_type|pg_constraint|pg_index|pg_namespace|pg_stats|pg_stat_\w+|pg_extension|pg_enum|pg_database|pg_settings)\M'
ORDER BY calls DESC LIMIT $1`, limit)
	if err != nil {
		return nil, "pg_stat_statements could not be read: " + pgMessage(err)
	}
	var out []Statement
	var s Statement
	if _, err := pgx.ForEachRow(rows, []any{&s.Query, &s.Calls, &s.MeanMS}, func() error {
		out = append(out, s)
		return nil
	}); err != nil {
		return nil, "pg_stat_statements could not be read: " + pgMessage(err)
	}
	if len(out) == 0 {
		return nil, "pg_stat_statements has recorded no statements of this database yet"
	}
	return out, ""
}

// pgMessage returns the server's message of err, or err's text.
func pgMessage(err error) string {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pgErr.Message
	}
	return err.Error()
}
