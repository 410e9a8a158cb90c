package pack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/internal/parallel"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// DefaultWorkers is how many connections a load uses at once.
const DefaultWorkers = 2

// minMaintenanceWorkMemKB is what index builds raise maintenance_work_mem
// to when the server's setting is lower.
const minMaintenanceWorkMemKB = 256 << 10

// copyChunk is how many bytes of COPY data a table's reader encodes ahead.
const copyChunk = 256 << 10

// Stats describes a finished load.
type Stats struct {
	// Rows is the number of rows loaded, per table in Tables.
	Rows   int64
	Tables map[string]int64
	// Copy is the wall time of the COPY phase; Total of the whole load.
	Copy, Total time.Duration
}

// Load creates the pack's write model in schema and fills it with the
// data of ds (see Inspect and Plan.Load), then checks that each read
// model's projection gives one row per key and no NULL key on that data
// (CheckProjections): the derived read sides and the checker rely on it.
// It is workload.Workload's Load.
func (p *Pack) Load(ctx context.Context, pool *pgxpool.Pool, schema string, ds workload.Dataset) error {
	pl, err := p.Inspect(ctx, pool, ds)
	if err != nil {
		return err
	}
	if _, err = pl.Load(ctx, pool, schema, DefaultWorkers); err != nil {
		return err
	}
	if err := p.CheckProjections(ctx, pool, schema); err != nil {
		if derr := domain.DropWriteModel(context.WithoutCancel(ctx), pool, schema); derr != nil {
			err = errors.Join(err, fmt.Errorf("and dropping the loaded schema failed: %w", derr))
		}
		return err
	}
	return nil
}

// Load creates the write model in schema, replacing a schema cqrsbench
// created (refusing any other), and fills it:
//
//   - the DDL runs with search_path set to schema; the primary keys,
//     unique constraints, indexes and foreign keys it created are dropped
//     (NOT NULL and CHECK stay);
//   - each table is filled in its own transaction (TRUNCATE, then COPY
//     FREEZE of generated rows; through a temporary table and INSERT …
//     SELECT when some column is an expr:), workers tables at a time; or,
//     when the data says from:, with the rows of the source's table, every
//     table read in one READ ONLY REPEATABLE READ snapshot of the source,
//     one after the other, parents first;
//   - the keys and indexes are created again, then the foreign keys, then
//     ANALYZE and the sequences of serial and identity columns set past
//     the loaded values.
//
// When the data breaks a constraint the error is an *Error naming the
// pack's line; on any error the schema is dropped, leaving nothing behind.
func (pl *Plan) Load(ctx context.Context, pool *pgxpool.Pool, schema string, workers int) (Stats, error) {
	start := time.Now()
	l := &loader{pl: pl, pool: pool, schema: schema, workers: max(1, workers)}
	stats, err := l.run(ctx)
	stats.Total = time.Since(start)
	if err != nil {
		if derr := domain.DropWriteModel(context.WithoutCancel(ctx), pool, schema); derr != nil {
			err = errors.Join(err, fmt.Errorf("and dropping the half-loaded schema failed: %w", derr))
		}
		return stats, err
	}
	return stats, nil
}

// loader carries one Plan.Load.
type loader struct {
	pl      *Plan
	pool    *pgxpool.Pool
	schema  string
	workers int
	built   *Schema // the catalog of schema as the DDL left it
}

func (l *loader) run(ctx context.Context) (Stats, error) {
	stats := Stats{Tables: map[string]int64{}}
	if err := domain.ValidateSchemaName(l.schema); err != nil {
		return stats, err
	}
	if err := domain.DropWriteModel(ctx, l.pool, l.schema); err != nil {
		return stats, err
	}
	if err := l.create(ctx); err != nil {
		return stats, err
	}
	copyStart := time.Now()
	if l.pl.pack.Data.From != "" {
		err := l.copyFromSource(ctx, &stats)
		stats.Copy = time.Since(copyStart)
		if err != nil {
			return stats, err
		}
		return stats, l.finish(ctx)
	}
	var mu sync.Mutex
	err := parallel.Run(ctx, l.workers, len(l.pl.Tables), func(ctx context.Context, i int) error {
		tp := l.pl.Tables[i]
		if err := l.copyTable(ctx, tp); err != nil {
			return err
		}
		mu.Lock()
		stats.Tables[tp.Name] = tp.Rows
		stats.Rows += tp.Rows
		mu.Unlock()
		return nil
	})
	stats.Copy = time.Since(copyStart)
	if err != nil {
		return stats, err
	}
	return stats, l.finish(ctx)
}

// create creates the schema, runs the DDL in it and drops the keys and
// indexes it made, remembering them.
func (l *loader) create(ctx context.Context) error {
	tx, err := l.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("create schema %s: %w", l.schema, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	id := pgx.Identifier{l.schema}.Sanitize()
	comment := domain.OwnerMarker + " workload pack " + l.pl.pack.PackName
	if _, err := tx.Exec(ctx, "CREATE SCHEMA "+id+"; COMMENT ON SCHEMA "+id+" IS '"+strings.ReplaceAll(comment, "'", "''")+"'"); err != nil {
		return fmt.Errorf("create schema %s: %w", l.schema, err)
	}
	if err := l.pl.pack.runDDL(ctx, tx, l.schema); err != nil {
		return err
	}
	if l.built, err = readSchema(ctx, tx, l.schema); err != nil {
		return fmt.Errorf("read schema %s: %w", l.schema, err)
	}
	var drops []string
	for _, typ := range []byte{'f', 'p', 'u', 'x'} {
		for _, c := range l.built.Constraints {
			if c.Type == typ {
				drops = append(drops, "ALTER TABLE "+pgx.Identifier{c.Table}.Sanitize()+" DROP CONSTRAINT "+pgx.Identifier{c.Name}.Sanitize())
			}
		}
	}
	for _, ix := range l.built.Indexes {
		drops = append(drops, "DROP INDEX "+pgx.Identifier{ix.Name}.Sanitize())
	}
	if len(drops) > 0 {
		if _, err := tx.Exec(ctx, strings.Join(drops, ";\n")); err != nil {
			return fmt.Errorf("drop keys and indexes before the load: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("create schema %s: %w", l.schema, err)
	}
	return nil
}

// copyTable fills one table in one transaction.
func (l *loader) copyTable(ctx context.Context, tp *TablePlan) error {
	conn, err := l.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("copy %s: %w", tp.Name, err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("copy %s: %w", tp.Name, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, "SET LOCAL search_path TO "+pgx.Identifier{l.schema}.Sanitize()); err != nil {
		return fmt.Errorf("copy %s: %w", tp.Name, err)
	}
	table := pgx.Identifier{tp.Name}.Sanitize()
	if _, err := tx.Exec(ctx, "TRUNCATE "+table); err != nil {
		return fmt.Errorf("copy %s: truncate: %w", tp.Name, err)
	}
	cols := make([]string, len(tp.copied))
	for i, c := range tp.copied {
		cols[i] = pgx.Identifier{c.name}.Sanitize()
	}
	target, opts := table, "FORMAT text, FREEZE"
	if len(tp.exprs) > 0 {
		target, opts = "cqrsbench_pack_staging", "FORMAT text"
		if _, err := tx.Exec(ctx, "CREATE TEMP TABLE "+target+" ON COMMIT DROP AS "+tp.stagingSelect()+" WITH NO DATA"); err != nil {
			return fmt.Errorf("copy %s: create staging table: %w", tp.Name, err)
		}
	}
	sql := "COPY " + target + " (" + strings.Join(cols, ", ") + ") FROM STDIN WITH (" + opts + ")"
	tag, err := conn.Conn().PgConn().CopyFrom(ctx, newTableReader(ctx, tp, l.pl.seed), sql)
	if err != nil {
		return l.dataError(tp, "copy", err)
	}
	if len(tp.exprs) > 0 {
		all, sel := growable(cols), growable(cols)
		for _, e := range tp.exprs {
			all = append(all, pgx.Identifier{e.name}.Sanitize())
			sel = append(sel, "("+e.expr+")")
		}
		tag, err = tx.Exec(ctx, "INSERT INTO "+table+" ("+strings.Join(all, ", ")+") SELECT "+strings.Join(sel, ", ")+" FROM "+target+" AS "+table)
		if err != nil {
			return l.dataError(tp, "insert", err)
		}
	}
	if tag.RowsAffected() != tp.Rows {
		return fmt.Errorf("copy %s: the server took %d rows, %d were generated", tp.Name, tag.RowsAffected(), tp.Rows)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("copy %s: commit: %w", tp.Name, err)
	}
	return nil
}

// growable returns a copy of s with room to grow.
func growable(s []string) []string { return append(make([]string, 0, len(s)+4), s...) }

// finish creates the keys and indexes, then the foreign keys, then
// analyzes the tables and moves the sequences past the loaded values.
func (l *loader) finish(ctx context.Context) error {
	prefix, err := maintenancePrefix(ctx, l.pool)
	if err != nil {
		return err
	}
	var keys, fks []Constraint
	for _, c := range l.built.Constraints {
		switch c.Type {
		case 'p', 'u', 'x':
			keys = append(keys, c)
		case 'f':
			fks = append(fks, c)
		}
	}
	add := func(c Constraint) string {
		return "ALTER TABLE " + pgx.Identifier{l.schema, c.Table}.Sanitize() + " ADD CONSTRAINT " + pgx.Identifier{c.Name}.Sanitize() + " " + c.Def
	}
	var stmts []stmt
	for _, c := range keys {
		stmts = append(stmts, stmt{table: c.Table, object: c.Name, sql: add(c)})
	}
	for _, ix := range l.built.Indexes {
		stmts = append(stmts, stmt{table: ix.Table, object: ix.Name, sql: ix.Def})
	}
	if err := l.exec(ctx, "create keys and indexes", prefix, stmts); err != nil {
		return err
	}
	stmts = stmts[:0]
	for _, c := range fks {
		stmts = append(stmts, stmt{table: c.Table, object: c.Name, sql: add(c)})
	}
	if err := l.exec(ctx, "create foreign keys", "", stmts); err != nil {
		return err
	}
	stmts = stmts[:0]
	for _, t := range l.built.Tables {
		id := pgx.Identifier{l.schema, t.Name}.Sanitize()
		stmts = append(stmts, stmt{table: t.Name, sql: "ANALYZE " + id})
		for _, c := range t.Columns {
			if c.Identity || strings.HasPrefix(c.Default, "nextval(") {
				col := pgx.Identifier{c.Name}.Sanitize()
				stmts = append(stmts, stmt{table: t.Name, sql: fmt.Sprintf(
					"SELECT setval(pg_get_serial_sequence('%s', '%s'), coalesce(max(%s), 0) + 1, false) FROM %s",
					strings.ReplaceAll(id, "'", "''"), strings.ReplaceAll(c.Name, "'", "''"), col, id)})
			}
		}
	}
	return l.exec(ctx, "analyze", "", stmts)
}

// stmt is one statement of finishing a load, and what it creates.
type stmt struct {
	table, object, sql string
}

// exec runs statements on l.workers connections.
func (l *loader) exec(ctx context.Context, phase, prefix string, stmts []stmt) error {
	return parallel.Run(ctx, l.workers, len(stmts), func(ctx context.Context, i int) error {
		// One simple-protocol message runs as one transaction, so SET LOCAL
		// holds for the statement: the catalog printed the definitions
		// with the schema on the search_path.
		sql := "SET LOCAL search_path TO " + pgx.Identifier{l.schema}.Sanitize() + ";\n" + prefix + stmts[i].sql
		if _, err := l.pool.Exec(ctx, sql); err != nil {
			return l.dataError(l.pl.table(stmts[i].table), phase, err)
		}
		return nil
	})
}

// table returns the plan of the named table, nil if it gets no data.
func (pl *Plan) table(name string) *TablePlan {
	for _, tp := range pl.Tables {
		if tp.Name == name {
			return tp
		}
	}
	return nil
}

// dataError turns the server's complaint about generated data (a broken
// constraint, a value the column does not take) into an *Error at the
// pack's line; other errors are wrapped as they are.
func (l *loader) dataError(tp *TablePlan, phase string, err error) error {
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	if ok && tp != nil && l.pl.pack.Data.From != "" && strings.HasPrefix(pgErr.Code, "23") {
		e := l.pl.fromError("%s: the source's rows of %s do not fit the pack's schema: %s (%s); the copied data must satisfy schema.sql's constraints", phase, tp.Name, pgErr.Message, pgErr.Detail)
		e.Err = err
		return e
	}
	if !ok || tp == nil || tp.data == nil || !(strings.HasPrefix(pgErr.Code, "22") || strings.HasPrefix(pgErr.Code, "23")) {
		name := ""
		if tp != nil {
			name = " " + tp.Name
		}
		return fmt.Errorf("%s%s: %w", phase, name, err)
	}
	p := l.pl.pack
	e := &Error{File: p.File, Line: tp.data.Line, Path: "data.tables." + tp.Name, Err: err}
	if pgErr.ColumnName != "" {
		if g := tp.data.column(pgErr.ColumnName); g != nil {
			e.Line, e.Path = g.Line, e.Path+".columns."+g.Name
		}
	}
	where := ""
	if pgErr.ConstraintName != "" {
		if line := p.schemaLine(tp.Name, pgErr.ConstraintName); line > 0 {
			where = fmt.Sprintf(" (%s:%d)", p.Schema.File, line)
		}
	}
	detail := ""
	if pgErr.Detail != "" {
		detail = "; " + pgErr.Detail
	}
	switch pgErr.Code {
	case "23505":
		e.Msg = fmt.Sprintf("the generated rows break unique constraint %s%s%s: generate that key with sequence:, or with ref: … distinct: true in a fanout", pgErr.ConstraintName, where, detail)
	case "23503":
		e.Msg = fmt.Sprintf("the generated rows break foreign key %s%s%s: fill the column with ref: (or leave it without a generator)", pgErr.ConstraintName, where, detail)
	case "23514":
		e.Msg = fmt.Sprintf("the generated rows break check %s%s%s: give its columns generators whose values pass it (choice:, dist: with min:/max:)", pgErr.ConstraintName, where, detail)
	case "23502":
		e.Msg = fmt.Sprintf("the generated rows leave NOT NULL column %s empty%s: give it a generator", pgErr.ColumnName, detail)
	default:
		e.Msg = fmt.Sprintf("%s: the generated rows do not fit the table: %s%s", phase, pgErr.Message, detail)
	}
	return e
}

// maintenancePrefix returns the SET LOCAL that raises maintenance_work_mem
// for an index build when the server's setting is low, and "" otherwise.
func maintenancePrefix(ctx context.Context, db *pgxpool.Pool) (string, error) {
	var kb int64
	if err := db.QueryRow(ctx, `SELECT setting::bigint FROM pg_settings WHERE name = 'maintenance_work_mem'`).Scan(&kb); err != nil {
		return "", fmt.Errorf("read maintenance_work_mem: %w", err)
	}
	if kb >= minMaintenanceWorkMemKB {
		return "", nil
	}
	return fmt.Sprintf("SET LOCAL maintenance_work_mem = '%dkB';\n", minMaintenanceWorkMemKB), nil
}

// tableReader generates a table's rows as COPY text on demand.
type tableReader struct {
	ctx   context.Context
	cols  []valueFn
	buf   []byte
	off   int
	row   row
	rows  int64 // rows of a rows: table; -1 for a fanout
	count func() int64
	left  int64 // rows left in the current parent's group
	par   int64 // parent rows
	done  bool
}

func newTableReader(ctx context.Context, tp *TablePlan, seed uint64) *tableReader {
	r := &tableReader{ctx: ctx, buf: make([]byte, 0, copyChunk+4096), rows: tp.Rows}
	for _, c := range tp.copied {
		r.cols = append(r.cols, c.make(newStream(seed, tp.Name, c.name)))
	}
	if tp.per != nil {
		r.rows, r.count, r.par, r.row.parent = -1, tp.counter(seed), tp.per.Rows, -1
	}
	return r
}

// next positions r.row on the next row; false at the end.
func (r *tableReader) next() bool {
	if r.rows >= 0 {
		return r.row.i < r.rows
	}
	for r.left == 0 {
		if r.row.parent+1 >= r.par {
			return false
		}
		r.row.parent++
		r.left = r.count()
	}
	r.left--
	return true
}

// Read implements io.Reader.
func (r *tableReader) Read(p []byte) (int, error) {
	if r.off == len(r.buf) {
		if r.done {
			return 0, io.EOF
		}
		if err := r.ctx.Err(); err != nil {
			return 0, err
		}
		r.buf, r.off = r.buf[:0], 0
		for len(r.buf) < copyChunk {
			if !r.next() {
				r.done = true
				break
			}
			for j, gen := range r.cols {
				if j > 0 {
					r.buf = append(r.buf, '\t')
				}
				r.buf = gen(r.buf, &r.row)
			}
			r.buf = append(r.buf, '\n')
			r.row.i++
		}
		if len(r.buf) == 0 {
			return 0, io.EOF
		}
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	return n, nil
}
