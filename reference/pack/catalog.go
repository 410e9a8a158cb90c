package pack

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Schema is the write model as PostgreSQL understood the pack's DDL: its
// tables, columns, keys, indexes and constraints, read from the catalog.
type Schema struct {
	// Tables lists the tables in the order the DDL created them.
	Tables []*Table
	// Constraints lists the primary keys, unique, exclusion and foreign
	// keys and checks, indexes the other indexes.
	Constraints []Constraint
	Indexes     []Index
}

// Table is one table of the write model.
type Table struct {
	Name    string
	Columns []*TableColumn
	// PrimaryKey lists the primary key's columns, if it has one.
	PrimaryKey []string
	// ForeignKeys lists its foreign keys.
	ForeignKeys []ForeignKey
}

// TableColumn is one column of a table.
type TableColumn struct {
	Name string
	// Type is the column's type as format_type writes it ("varchar(40)");
	// Base is the name of its base type ("varchar", "int8"; a domain's
	// underlying type) and Mod its type modifier.
	Type, Base string
	Mod        int32
	// Labels are the values of an enum type, in order.
	Labels    []string
	NotNull   bool
	Default   string // the DEFAULT expression, "" if none
	Identity  bool
	Generated bool // GENERATED ALWAYS AS (...) STORED: never copied
	Array     bool
}

// ForeignKey is one foreign key of a table.
type ForeignKey struct {
	Name       string
	Columns    []string
	RefTable   string
	RefColumns []string
}

// Constraint is a table constraint as PostgreSQL prints it.
type Constraint struct {
	Table, Name string
	// Type is pg_constraint.contype: p primary key, u unique, x exclusion,
	// f foreign key, c check.
	Type byte
	// Def is the definition (pg_get_constraintdef), for ALTER TABLE ADD
	// CONSTRAINT.
	Def string
}

// Index is an index that backs no constraint.
type Index struct {
	Table, Name string
	// Def is its CREATE INDEX statement (pg_get_indexdef).
	Def string
}

// ReadSchema reads the tables of schema — columns, keys, foreign keys,
// constraints and indexes — from the catalog, in tx. Definitions are
// printed as PostgreSQL prints them under tx's search_path: set it to
// schema alone to get them unqualified.
func ReadSchema(ctx context.Context, tx pgx.Tx, schema string) (*Schema, error) {
	return readSchema(ctx, tx, schema)
}

// Table returns the named table, nil if there is none.
func (s *Schema) Table(name string) *Table { return s.table(name) }

// table returns the named table, nil if there is none.
func (s *Schema) table(name string) *Table {
	for _, t := range s.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// column returns the named column, nil if there is none.
func (t *Table) column(name string) *TableColumn {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// tableNames lists the tables' names.
func (s *Schema) tableNames() []string {
	out := make([]string, len(s.Tables))
	for i, t := range s.Tables {
		out[i] = t.Name
	}
	return out
}

// runDDL runs the pack's DDL in schema (which must exist) on tx, with
// search_path set to it, and checks that it created nothing elsewhere. A
// mistake in the DDL is an *Error at its line.
func (p *Pack) runDDL(ctx context.Context, tx pgx.Tx, schema string) error {
	if _, err := tx.Exec(ctx, "SET LOCAL search_path TO "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return fmt.Errorf("set search_path: %w", err)
	}
	// No arguments: one simple-protocol message, so the DDL may hold many
	// statements and an error's position counts from its start.
	if _, err := tx.Exec(ctx, p.Schema.Text); err != nil {
		pgErr, ok := errors.AsType[*pgconn.PgError](err)
		if !ok {
			return fmt.Errorf("run the pack's schema: %w", err)
		}
		e := &Error{File: p.Schema.File, Line: p.Schema.Line, Msg: "the schema's DDL fails: " + pgErr.Message, Err: err}
		if pgErr.Position > 0 {
			e.Line = p.Schema.lineOf(runeOffset(p.Schema.Text, int(pgErr.Position)-1))
		} else if pgErr.TableName != "" {
			e.Line = p.Schema.lineOf(findTable(p.Schema.Text, pgErr.TableName))
		}
		if pgErr.Hint != "" {
			e.Msg += " (" + pgErr.Hint + ")"
		}
		return e
	}
	rows, err := tx.Query(ctx, `
SELECT n.nspname, c.relname
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.xmin = pg_current_xact_id()::xid AND n.nspname <> $1
  AND n.nspname NOT LIKE 'pg\_%' AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
ORDER BY c.oid`, schema)
	if err != nil {
		return fmt.Errorf("read the schema's tables: %w", err)
	}
	elsewhere, err := pgx.CollectRows(rows, pgx.RowToStructByPos[struct{ Schema, Name string }])
	if err != nil {
		return fmt.Errorf("read the schema's tables: %w", err)
	}
	if len(elsewhere) > 0 {
		r := elsewhere[0]
		at := strings.Index(strings.ToLower(p.Schema.Text), strings.ToLower(r.Schema+"."))
		return &Error{File: p.Schema.File, Line: p.Schema.lineOf(at),
			Msg: fmt.Sprintf("creates %s.%s outside the pack's schema; write table names without a schema (the loader sets search_path)", r.Schema, r.Name)}
	}
	return nil
}

// runeOffset converts a 0-based character offset into s to a byte offset.
func runeOffset(s string, chars int) int {
	off := 0
	for i := 0; i < chars && off < len(s); i++ {
		_, size := utf8.DecodeRuneInString(s[off:])
		off += size
	}
	return off
}

// findTable returns the byte offset of the CREATE TABLE of name in ddl, or
// -1.
func findTable(ddl, name string) int {
	re := regexp.MustCompile(`(?i)create\s+(unlogged\s+)?table\s+(if\s+not\s+exists\s+)?"?` + regexp.QuoteMeta(name) + `"?[\s(]`)
	if loc := re.FindStringIndex(ddl); loc != nil {
		return loc[0]
	}
	return -1
}

// findName returns the byte offset of the first whole-word occurrence of
// name in ddl, or -1.
func findName(ddl, name string) int {
	re := regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(name) + `\b`)
	if loc := re.FindStringIndex(ddl); loc != nil {
		return loc[0]
	}
	return -1
}

// schemaLine returns the line of the pack's DDL that creates table, 0 if it
// cannot be found; with object set, the line naming it after that.
func (p *Pack) schemaLine(table, object string) int {
	at := findTable(p.Schema.Text, table)
	if at < 0 {
		return 0
	}
	if object != "" {
		if o := findName(p.Schema.Text[at:], object); o >= 0 {
			at += o
		} else if col := generatedColumn(table, object); col != "" {
			if o := findName(p.Schema.Text[at:], col); o >= 0 {
				at += o
			}
		}
	}
	return p.Schema.lineOf(at)
}

// generatedColumn returns the column a constraint name PostgreSQL made up
// names ("orders_status_check" → "status"), "" if it is not one.
func generatedColumn(table, constraint string) string {
	rest, ok := strings.CutPrefix(constraint, table+"_")
	if !ok {
		return ""
	}
	for _, suffix := range []string{"_check", "_fkey", "_key", "_excl"} {
		if col, ok := strings.CutSuffix(rest, suffix); ok {
			return col
		}
	}
	return ""
}

// readSchema reads the tables, columns, constraints and indexes of schema
// from the catalog.
func readSchema(ctx context.Context, db pgx.Tx, schema string) (*Schema, error) {
	s := &Schema{}
	byOID := map[uint32]*Table{}
	rows, err := db.Query(ctx, `
SELECT c.oid, c.relname FROM pg_class c
WHERE c.relnamespace = $1::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
ORDER BY c.oid`, schema)
	if err != nil {
		return nil, fmt.Errorf("read tables: %w", err)
	}
	var oids []uint32
	for rows.Next() {
		var oid uint32
		t := &Table{}
		if err := rows.Scan(&oid, &t.Name); err != nil {
			return nil, fmt.Errorf("read tables: %w", err)
		}
		s.Tables = append(s.Tables, t)
		byOID[oid] = t
		oids = append(oids, oid)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read tables: %w", err)
	}

	rows, err = db.Query(ctx, `
SELECT a.attrelid, a.attname, format_type(a.atttypid, a.atttypmod),
       CASE WHEN t.typtype = 'd' THEN bt.typname ELSE t.typname END,
       CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END,
       coalesce(ARRAY(SELECT e.enumlabel::text FROM pg_enum e
                      WHERE e.enumtypid = CASE WHEN t.typtype = 'd' THEN bt.oid ELSE t.oid END
                      ORDER BY e.enumsortorder), '{}'),
       a.attnotnull, coalesce(pg_get_expr(d.adbin, d.adrelid), ''), a.attidentity <> '', a.attgenerated <> '',
       (CASE WHEN t.typtype = 'd' THEN bt.typcategory ELSE t.typcategory END) = 'A'
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
WHERE a.attrelid = ANY($1) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum`, oids)
	if err != nil {
		return nil, fmt.Errorf("read columns: %w", err)
	}
	for rows.Next() {
		var oid uint32
		c := &TableColumn{}
		if err := rows.Scan(&oid, &c.Name, &c.Type, &c.Base, &c.Mod, &c.Labels, &c.NotNull, &c.Default, &c.Identity, &c.Generated, &c.Array); err != nil {
			return nil, fmt.Errorf("read columns: %w", err)
		}
		byOID[oid].Columns = append(byOID[oid].Columns, c)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read columns: %w", err)
	}

	rows, err = db.Query(ctx, `
SELECT con.conrelid, con.conname, con.contype::text, pg_get_constraintdef(con.oid),
       ARRAY(SELECT a.attname::text FROM unnest(con.conkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n ORDER BY k.i),
       coalesce(rc.relname::text, ''),
       coalesce(ARRAY(SELECT a.attname::text FROM unnest(con.confkey) WITH ORDINALITY k(n, i)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n ORDER BY k.i), '{}')
FROM pg_constraint con
LEFT JOIN pg_class rc ON rc.oid = con.confrelid
WHERE con.conrelid = ANY($1) AND con.contype IN ('p', 'u', 'x', 'f', 'c')
ORDER BY con.conrelid, con.oid`, oids)
	if err != nil {
		return nil, fmt.Errorf("read constraints: %w", err)
	}
	for rows.Next() {
		var (
			oid           uint32
			con           Constraint
			typ           string
			cols, refCols []string
			refTable      string
		)
		if err := rows.Scan(&oid, &con.Name, &typ, &con.Def, &cols, &refTable, &refCols); err != nil {
			return nil, fmt.Errorf("read constraints: %w", err)
		}
		t := byOID[oid]
		con.Table, con.Type = t.Name, typ[0]
		s.Constraints = append(s.Constraints, con)
		switch con.Type {
		case 'p':
			t.PrimaryKey = cols
		case 'f':
			t.ForeignKeys = append(t.ForeignKeys, ForeignKey{Name: con.Name, Columns: cols, RefTable: refTable, RefColumns: refCols})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read constraints: %w", err)
	}

	rows, err = db.Query(ctx, `
SELECT i.indrelid, c.relname, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = ANY($1)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid)
ORDER BY i.indrelid, i.indexrelid`, oids)
	if err != nil {
		return nil, fmt.Errorf("read indexes: %w", err)
	}
	for rows.Next() {
		var (
			oid uint32
			ix  Index
		)
		if err := rows.Scan(&oid, &ix.Name, &ix.Def); err != nil {
			return nil, fmt.Errorf("read indexes: %w", err)
		}
		ix.Table = byOID[oid].Name
		s.Indexes = append(s.Indexes, ix)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read indexes: %w", err)
	}
	return s, nil
}
