package pack

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// The checks of the operations that need the write model: every SQL
// statement is prepared (never run) in Inspect's transaction after the
// DDL, which reports SQL mistakes at their line and describes the columns
// each returns.

// Beginner begins transactions: *pgxpool.Pool, *pgx.Conn and pgx.Tx (a
// savepoint) are Beginners.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// opsChecker carries the checks of one Inspect.
type opsChecker struct {
	p      *Pack
	tx     pgx.Tx
	schema *Schema
	errs   ErrorList
}

// inspectOps checks the operations against the write model s that tx
// holds (with search_path set to it); pl is the data plan, nil when
// planning failed. It fills the Columns of statements and read models.
func (p *Pack) inspectOps(ctx context.Context, tx pgx.Tx, s *Schema, pl *Plan) error {
	c := &opsChecker{p: p, tx: tx, schema: s}
	for _, prm := range p.Parameters {
		if err := c.pick(ctx, prm, pl); err != nil {
			return err
		}
	}
	for _, cmd := range p.Commands {
		if err := c.command(ctx, cmd); err != nil {
			return err
		}
	}
	for _, rm := range p.ReadModels {
		if err := c.readModel(ctx, rm); err != nil {
			return err
		}
	}
	for _, sc := range p.Screens {
		if err := c.screen(ctx, sc); err != nil {
			return err
		}
	}
	return c.errs.err()
}

func (c *opsChecker) errorf(file string, line int, path, format string, args ...any) {
	c.errs = append(c.errs, &Error{File: file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// prepare prepares st (what names it in errors) under a savepoint and
// returns its description; a mistake in it is recorded at its line and
// gives nil.
func (c *opsChecker) prepare(ctx context.Context, st Statement, path, what string) (*pgconn.StatementDescription, error) {
	text := st.Text
	if _, err := c.tx.Exec(ctx, "SAVEPOINT cqrsbench_prepare"); err != nil {
		return nil, fmt.Errorf("inspect pack %s: %w", c.p.PackName, err)
	}
	sd, err := c.tx.Conn().PgConn().Prepare(ctx, "", text, nil)
	if err == nil {
		_, err := c.tx.Exec(ctx, "RELEASE SAVEPOINT cqrsbench_prepare")
		return sd, err
	}
	pgErr, ok := errors.AsType[*pgconn.PgError](err)
	if !ok {
		return nil, fmt.Errorf("inspect pack %s: %s: %w", c.p.PackName, path, err)
	}
	if _, err := c.tx.Exec(ctx, "ROLLBACK TO SAVEPOINT cqrsbench_prepare"); err != nil {
		return nil, fmt.Errorf("inspect pack %s: %w", c.p.PackName, err)
	}
	e := &Error{File: st.Source.File, Line: st.Source.Line, Path: path, Err: err,
		Msg: what + " fails: " + paramNames(pgErr.Message, st.Params)}
	if pgErr.Position > 0 {
		// $n is as long as a line of :name: the compiled text keeps the
		// source's lines.
		e.Line = SQL{Line: st.Source.Line, Text: st.Text}.lineOf(runeOffset(st.Text, int(pgErr.Position)-1))
	}
	if pgErr.Hint != "" {
		e.Msg += " (" + paramNames(pgErr.Hint, st.Params) + ")"
	}
	c.errs = append(c.errs, e)
	return nil, nil
}

// placeholder matches $n in PostgreSQL's messages.
var placeholder = regexp.MustCompile(`\$(\d+)`)

// paramNames writes the $n of a message as the :name they stand for.
func paramNames(msg string, params []string) string {
	return placeholder.ReplaceAllStringFunc(msg, func(s string) string {
		n, _ := strconv.Atoi(s[1:])
		if n >= 1 && n <= len(params) {
			return ":" + params[n-1]
		}
		return s
	})
}

// columns returns the names of a description's result columns.
func columns(sd *pgconn.StatementDescription) []string {
	out := make([]string, len(sd.Fields))
	for i, f := range sd.Fields {
		out[i] = f.Name
	}
	return out
}

// pick checks a pick parameter's table, columns and where:, and that the
// data gives the table rows.
func (c *opsChecker) pick(ctx context.Context, prm *Param, pl *Plan) error {
	if prm.Kind != ParamPick || prm.Table == "" {
		return nil
	}
	path := "parameters." + prm.Name
	t := c.schema.table(prm.Table)
	if t == nil {
		c.errorf(c.p.File, prm.Line, path, "no table %q in the schema; its tables are %s", prm.Table, strings.Join(c.schema.tableNames(), ", "))
		return nil
	}
	var names []string
	for _, tc := range t.Columns {
		names = append(names, tc.Name)
	}
	for _, col := range prm.Columns {
		if t.column(col) == nil {
			c.errorf(c.p.File, prm.Line, path, "table %s has no column %q; its columns are %s", t.Name, col, strings.Join(names, ", "))
			return nil
		}
	}
	if pl != nil && pl.table(t.Name) == nil {
		c.errorf(c.p.File, prm.Line, path, "%s gets no rows under data:, so the pick has nothing to draw from; give it rows: or pick from another table", t.Name)
	}
	st := Statement{Source: SQL{File: c.p.File, Line: prm.Line, Text: pickQuery(prm, pgx.Identifier{t.Name}.Sanitize(), "")}}
	st.Text = st.Source.Text
	what := "the pick's query (SELECT … FROM " + t.Name + ")"
	if prm.Where != "" {
		what = "the pick's where: (SELECT … FROM " + t.Name + " WHERE " + prm.Where + ")"
	}
	_, err := c.prepare(ctx, st, path, what)
	return err
}

// pickQuery returns the query of a pick's rows from table (a quoted name)
// in order, with the row count beside each, keeping every step-th row
// when the rows are more than limit ("" for no limit).
func pickQuery(prm *Param, table, limit string) string {
	cols := make([]string, len(prm.Columns))
	for i, c := range prm.Columns {
		cols[i] = pgx.Identifier{c}.Sanitize()
	}
	list := strings.Join(cols, ", ")
	where := ""
	if prm.Where != "" {
		where = " WHERE (" + prm.Where + "\n)"
	}
	inner := "SELECT " + list + ", row_number() OVER (ORDER BY " + list + ") - 1 AS cqrsbench_rn, count(*) OVER () AS cqrsbench_n FROM " + table + where
	if limit == "" {
		return inner
	}
	return "SELECT " + list + ", cqrsbench_n FROM (" + inner + ") s WHERE cqrsbench_rn % greatest(1, ceil(cqrsbench_n::numeric / " + limit + ")::bigint) = 0 ORDER BY cqrsbench_rn"
}

// command prepares a command's statements and checks affects: and learn:
// against what they return.
func (c *opsChecker) command(ctx context.Context, cmd *Command) error {
	path := "commands." + cmd.Name
	ok := true
	for i := range cmd.Statements {
		st := &cmd.Statements[i]
		if st.Text == "" {
			ok = false
			continue
		}
		spath := path + ".statements." + st.Name
		sd, err := c.prepare(ctx, st.Statement, spath+".sql", "the SQL")
		if err != nil {
			return err
		}
		if sd == nil {
			ok = false
			continue
		}
		st.Columns = columns(sd)
		if len(st.Columns) == 0 {
			c.errorf(st.Source.File, st.Source.Line, spath+".sql", "returns no columns: end it with RETURNING the keys it changed (RETURNING id), which affects: names")
			ok = false
		}
		for _, param := range sortedKeys(st.Learn) {
			if col := st.Learn[param]; !slices.Contains(st.Columns, col) {
				c.errorf(c.p.File, st.learnLines[param], spath+".learn", "the statement returns no column %q (it returns %s); add it to its RETURNING", col, strings.Join(st.Columns, ", "))
			}
		}
	}
	if !ok {
		return nil
	}
	for _, rm := range sortedKeys(cmd.Affects) {
		cols := cmd.Affects[rm]
		found := false
		var returns []string
		for _, st := range cmd.Statements {
			found = found || containsAll(st.Columns, cols)
			returns = append(returns, st.Name+" ("+strings.Join(st.Columns, ", ")+")")
		}
		if !found && len(cols) > 0 {
			c.errorf(c.p.File, cmd.affectsLines[rm], path+".affects."+rm, "no statement returns all of %s; add them to a RETURNING list (the statements return: %s)", strings.Join(cols, ", "), strings.Join(returns, "; "))
		}
	}
	return nil
}

// containsAll reports whether have holds every one of want.
func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// readModel prepares a projection, checks its columns and creates an empty
// table of them, so the screens' flat queries can be prepared.
func (c *opsChecker) readModel(ctx context.Context, rm *ReadModel) error {
	path := "read_models." + rm.Name
	if c.schema.table(rm.Name) != nil {
		c.errorf(c.p.File, rm.Line, path, "the write model has a table %s too; name the read model differently (a flat query reads it by its name)", rm.Name)
		return nil
	}
	if rm.projection.Text == "" {
		return nil
	}
	sd, err := c.prepare(ctx, rm.projection, path+".projection", "the projection")
	if err != nil || sd == nil {
		return err
	}
	rm.Columns = columns(sd)
	for i, col := range rm.Columns {
		if slices.Contains(rm.Columns[:i], col) {
			c.errorf(rm.Projection.File, rm.Projection.Line, path+".projection", "returns two columns named %s; give each an alias (AS name)", col)
			return nil
		}
	}
	for _, k := range rm.Key {
		if !slices.Contains(rm.Columns, k) {
			c.errorf(c.p.File, rm.keyLine, path+".key", "the projection returns no column %s (it returns %s); the key names projection columns", k, strings.Join(rm.Columns, ", "))
		}
	}
	if _, err := c.tx.Exec(ctx, "SAVEPOINT cqrsbench_rm"); err != nil {
		return fmt.Errorf("inspect pack %s: %w", c.p.PackName, err)
	}
	if _, err := c.tx.Exec(ctx, "CREATE TABLE "+pgx.Identifier{rm.Name}.Sanitize()+" AS "+rm.projection.Text+"\nWITH NO DATA"); err != nil {
		if _, err := c.tx.Exec(ctx, "ROLLBACK TO SAVEPOINT cqrsbench_rm"); err != nil {
			return fmt.Errorf("inspect pack %s: %w", c.p.PackName, err)
		}
		c.errorf(rm.Projection.File, rm.Projection.Line, path+".projection", "creating a table of the projection fails: %v", err)
		return nil
	}
	return nil
}

// screen prepares a screen's queries and checks that they return the
// same columns.
func (c *opsChecker) screen(ctx context.Context, sc *Screen) error {
	path := "screens." + sc.Name
	var crud, flat *pgconn.StatementDescription
	var err error
	if sc.CRUD.Text != "" {
		if crud, err = c.prepare(ctx, sc.CRUD, path+".crud", "the crud query"); err != nil {
			return err
		}
	}
	if sc.Flat.Text != "" && c.readModelReady(sc.ReadModel) {
		if flat, err = c.prepare(ctx, sc.Flat, path+".flat", "the flat query"); err != nil {
			return err
		}
	}
	if crud != nil {
		sc.CRUD.Columns = columns(crud)
	}
	if flat != nil {
		sc.Flat.Columns = columns(flat)
	}
	if crud == nil || flat == nil {
		return nil
	}
	if a, b := c.describe(crud), c.describe(flat); a != b {
		c.errorf(sc.Flat.Source.File, sc.Flat.Source.Line, path+".flat", "returns (%s) but the crud query returns (%s): the two must return the same columns, of the same types, in the same order (cqrsbench compares them)", b, a)
	}
	return nil
}

// readModelReady reports whether the named read model's table was
// created, so a query on it can be prepared.
func (c *opsChecker) readModelReady(name string) bool {
	for _, rm := range c.p.ReadModels {
		if rm.Name == name {
			return rm.Columns != nil
		}
	}
	return false
}

// describe lists a description's columns with their types.
func (c *opsChecker) describe(sd *pgconn.StatementDescription) string {
	parts := make([]string, len(sd.Fields))
	for i, f := range sd.Fields {
		typ := strconv.FormatUint(uint64(f.DataTypeOID), 10)
		if t, ok := c.tx.Conn().TypeMap().TypeForOID(f.DataTypeOID); ok {
			typ = t.Name
		}
		parts[i] = f.Name + " " + typ
	}
	return strings.Join(parts, ", ")
}

// CheckProjections checks the read models' projections on the data
// loaded in schema: each must give at most one row per key and no NULL in
// a key column. Call it after Load; a projection that breaks this is an
// *Error at its read model's line (in an ErrorList).
func (p *Pack) CheckProjections(ctx context.Context, db Beginner, schema string) error {
	tx, err := db.Begin(ctx)
	if err != nil {
		return fmt.Errorf("check projections of pack %s: %w", p.PackName, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, "SET LOCAL search_path TO "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("check projections of pack %s: %w", p.PackName, err)
	}
	var errs ErrorList
	for _, rm := range p.ReadModels {
		key := make([]string, len(rm.Key))
		null := make([]string, len(rm.Key))
		for i, k := range rm.Key {
			key[i] = pgx.Identifier{k}.Sanitize()
			null[i] = key[i] + " IS NULL"
		}
		keys := strings.Join(key, ", ")
		q := "SELECT (SELECT count(*) FROM (" + rm.projection.Text + "\n) p WHERE " + strings.Join(null, " OR ") + "),\n" +
			"(SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM (" + rm.projection.Text + "\n) p GROUP BY " + keys + ") g),\n" +
			"(SELECT coalesce(min(ROW(" + keys + ")::text), '') FROM (SELECT " + keys + " FROM (" + rm.projection.Text + "\n) p GROUP BY " + keys + " HAVING count(*) > 1) g)"
		var nulls, most int64
		var example string
		if err := tx.QueryRow(ctx, q).Scan(&nulls, &most, &example); err != nil {
			return fmt.Errorf("check projection of read model %s: %w", rm.Name, err)
		}
		path := "read_models." + rm.Name + ".projection"
		if nulls > 0 {
			errs = append(errs, &Error{File: p.File, Line: rm.Line, Path: path,
				Msg: fmt.Sprintf("gives %d rows with a NULL in the key (%s); filter them out or coalesce the key columns", nulls, strings.Join(rm.Key, ", "))})
		}
		if most > 1 {
			errs = append(errs, &Error{File: p.File, Line: rm.Line, Path: path,
				Msg: fmt.Sprintf("gives up to %d rows for one key (%s) = %s; a read model has one row per key: GROUP BY the key or change key:", most, strings.Join(rm.Key, ", "), example)})
		}
	}
	return errs.err()
}
