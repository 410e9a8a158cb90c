package pack

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"
)

// planFrom plans a load that copies every table of the source database of
// `data.from:`: parents before children (by foreign keys; a cycle is
// broken anywhere, since the keys are created after the copy), each table's
// columns but the generated ones.
func (pl *Plan) planFrom() {
	done := map[string]bool{}
	var visit func(t *Table)
	visit = func(t *Table) {
		if done[t.Name] {
			return
		}
		done[t.Name] = true
		for _, fk := range t.ForeignKeys {
			if parent := pl.Schema.table(fk.RefTable); parent != nil {
				visit(parent)
			}
		}
		tp := &TablePlan{Name: t.Name, hasData: true, seqs: map[string][2]int64{}}
		for _, c := range t.Columns {
			if !c.Generated {
				tp.copied = append(tp.copied, &colPlan{name: c.Name})
			}
		}
		pl.Tables = append(pl.Tables, tp)
	}
	for _, t := range pl.Schema.Tables {
		visit(t)
	}
}

// fromError is a mistake about `data.from:`, at its line.
func (pl *Plan) fromError(format string, args ...any) *Error {
	p := pl.pack
	return &Error{File: p.File, Line: p.Data.FromLine, Path: "data.from", Msg: fmt.Sprintf(format, args...)}
}

// checkSource checks, in a read-only snapshot of the source, that it holds
// every table of the plan with every column copied. An unreachable source
// is an *UnavailableError; missing tables or columns are *Errors at the
// line of `from:`.
func (pl *Plan) checkSource(ctx context.Context) error {
	d := pl.pack.Data
	conn, tx, err := OpenSnapshot(ctx, ExpandDSN(d.From))
	if err != nil {
		if e, ok := errors.AsType[*Error](err); ok {
			e.File, e.Line, e.Path = pl.pack.File, d.FromLine, "data.from"
		}
		return err
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	where := DescribeDSN(ExpandDSN(d.From))
	var exists bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, d.FromSchema).Scan(&exists); err != nil {
		return fmt.Errorf("read the source %s: %w", where, err)
	}
	if !exists {
		return pl.fromError("the source %s has no schema %q; write from: {dsn: ..., schema: NAME} naming the schema that holds the tables", where, d.FromSchema)
	}
	src, err := ReadSchema(ctx, tx, d.FromSchema)
	if err != nil {
		return fmt.Errorf("read the source %s: %w", where, err)
	}
	var errs ErrorList
	for _, tp := range pl.Tables {
		st := src.table(tp.Name)
		if st == nil {
			errs = append(errs, pl.fromError("the source %s has no table %s in schema %s, which the pack's schema creates; its tables are %s", where, tp.Name, d.FromSchema, strings.Join(src.tableNames(), ", ")))
			continue
		}
		var missing []string
		for _, c := range tp.copied {
			if st.column(c.name) == nil {
				missing = append(missing, c.name)
			}
		}
		if len(missing) > 0 {
			errs = append(errs, pl.fromError("the source's table %s.%s has no column %s, which the pack's schema gives it", d.FromSchema, tp.Name, strings.Join(missing, ", ")))
		}
	}
	return errs.err()
}

// copyFromSource fills every table with the rows of the source's table of
// the same name, all read in one READ ONLY REPEATABLE READ snapshot, one
// table after the other in the plan's order: COPY … TO STDOUT on the
// source piped into COPY … FROM STDIN (FREEZE) on the target, both sides
// in the text formats of SetTextFormats.
func (l *loader) copyFromSource(ctx context.Context, stats *Stats) error {
	d := l.pl.pack.Data
	conn, tx, err := OpenSnapshot(ctx, ExpandDSN(d.From))
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close(context.WithoutCancel(ctx)) }()
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	for _, tp := range l.pl.Tables {
		n, err := l.copyTableFrom(ctx, tx, tp)
		if err != nil {
			return fmt.Errorf("copy %s from the source %s: %w", tp.Name, DescribeDSN(ExpandDSN(d.From)), err)
		}
		tp.Rows = n
		stats.Tables[tp.Name] = n
		stats.Rows += n
	}
	return nil
}

// copyTableFrom copies one table from the source's snapshot src.
func (l *loader) copyTableFrom(ctx context.Context, src pgx.Tx, tp *TablePlan) (int64, error) {
	cols := make([]string, len(tp.copied))
	for i, c := range tp.copied {
		cols[i] = pgx.Identifier{c.name}.Sanitize()
	}
	list := strings.Join(cols, ", ")
	out := "COPY (SELECT " + list + " FROM " + pgx.Identifier{l.pl.pack.Data.FromSchema, tp.Name}.Sanitize() + ") TO STDOUT"
	if len(cols) == 0 {
		return 0, errors.New("the table has no columns to copy")
	}
	conn, err := l.pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := SetTextFormats(ctx, tx); err != nil {
		return 0, err
	}
	table := pgx.Identifier{l.schema, tp.Name}.Sanitize()
	if _, err := tx.Exec(ctx, "TRUNCATE "+table); err != nil {
		return 0, err
	}
	pr, pw := io.Pipe()
	sent := make(chan error, 1)
	go func() {
		_, err := src.Conn().PgConn().CopyTo(ctx, pw, out)
		_ = pw.CloseWithError(err) // nil: the reader sees io.EOF
		sent <- err
	}()
	tag, err := conn.Conn().PgConn().CopyFrom(ctx, pr, "COPY "+table+" ("+list+") FROM STDIN WITH (FORMAT text, FREEZE)")
	_ = pr.CloseWithError(errors.New("the target stopped reading"))
	if serr := <-sent; serr != nil && err == nil {
		err = fmt.Errorf("read the source: %w", serr)
	}
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, err
	}
	return tag.RowsAffected(), nil
}
