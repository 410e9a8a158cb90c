package draft

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cqrsbench/cqrsbench/reference/pack"
)

// Files are the draft's files: workload.yaml and schema.sql.
type Files struct {
	Workload, Schema string
}

// maxStatement is how many characters of a statement the draft lists.
const maxStatement = 400

// Render writes the draft pack of src and pl, named name (a pack name:
// lower-case letters, digits, - and _; "" derives it from the database's
// name).
func Render(src *Source, pl *Plan, name string, now time.Time) Files {
	if name == "" {
		name = packName(src.Database)
	}
	return Files{Workload: renderWorkload(src, pl, name, now), Schema: renderSchema(src)}
}

// packName makes a pack name of a database's name.
func packName(db string) string {
	s := strings.Trim(nonName.ReplaceAllString(strings.ToLower(db), "_"), "_-")
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		s = "draft_" + s
	}
	return s
}

func renderWorkload(src *Source, pl *Plan, name string, now time.Time) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("# A draft workload pack, written by cqrsbench init from database %s, schema %s,", src.Database, src.SchemaName)
	p("# on %s. Format: workloads/README.md.", now.UTC().Format("2006-01-02"))
	p("#")
	p("# The data generators are fitted to the source's statistics (pg_stats): row counts,")
	p("# NULL fractions, distinct values, the most common values' weights, ranges. No text")
	p("# of the source is copied: text columns get labels (v1, v2, ...) with its weights.")
	p("# Review them. The pack loads as it is (data, no operations); to run it, fill in the")
	p("# TODOs at the end: parameters, commands, screens and read models.")
	p("name: %s", name)
	p("description: >")
	p("  TODO: say what the application is. Drafted from %s (schema %s).", src.Database, src.SchemaName)
	p("schema: schema.sql")
	p("")
	p("data:")
	p("  # The dataset size (run --orders N) sets %s's rows; the others scale with it.", pl.Main)
	p("  main: %s", yamlKey(pl.Main))
	p("  tables:")
	for _, tp := range pl.Tables {
		p("    %s:", yamlKey(tp.Name))
		for _, n := range tp.Notes {
			p("      # %s", n)
		}
		if tp.Per != "" {
			p("      per: %s", yamlKey(tp.Per))
			p("      count: %s", tp.Count)
		} else {
			p("      rows: %d", tp.Rows)
		}
		if len(tp.Columns) == 0 {
			continue
		}
		p("      columns:")
		for _, c := range tp.Columns {
			switch {
			case c.YAML == "":
				p("        # %s: %s", c.Name, c.Comment)
			case c.Comment == "":
				p("        %s: %s", yamlKey(c.Name), c.YAML)
			default:
				p("        %s: %s  # %s", yamlKey(c.Name), c.YAML, c.Comment)
			}
		}
	}
	p("")
	renderOperations(&b, src)
	return b.String()
}

// renderOperations writes the TODOs of the operations: the source's
// frequent statements and a commented example to start from.
func renderOperations(b *strings.Builder, src *Source) {
	p := func(format string, args ...any) { fmt.Fprintf(b, format+"\n", args...) }
	p("# TODO: the operations. cqrsbench measures what the application does: write its")
	p("# commands (transactions that change the data, RETURNING the read-model keys they")
	p("# change), its screens (a query on the tables and the same on a read model) and the")
	p("# read models (one projection query each), with the parameters they draw.")
	if len(src.Statements) > 0 {
		p("#")
		p("# The source's most frequent statements (pg_stat_statements), to turn into")
		p("# commands (INSERT, UPDATE, DELETE) and screens (SELECT):")
		for _, s := range src.Statements {
			q := strings.Join(strings.Fields(s.Query), " ")
			if r := []rune(q); len(r) > maxStatement {
				q = string(r[:maxStatement]) + " …" // whole characters: YAML refuses a split one, even in a comment
			}
			p("#   %d calls, %.3f ms: %s", s.Calls, s.MeanMS, q)
		}
	} else if src.StatementsNote != "" {
		p("#")
		p("# No statements listed: %s.", src.StatementsNote)
	}
	ex := example(src)
	if ex == "" {
		return
	}
	p("#")
	p("# An example to start from (remove the leading '# ' of the lines between BEGIN and")
	p("# END): a screen listing a table's rows by their parent, its read model, and a")
	p("# command touching a row.")
	p("# BEGIN example")
	for _, line := range strings.Split(strings.TrimRight(ex, "\n"), "\n") {
		p("# %s", line)
	}
	p("# END example")
}

// example returns a runnable example of operations on the first table
// with an integer key and a foreign key to a parent's integer key, "" when
// there is none.
func example(src *Source) string {
	for _, t := range src.Schema.Tables {
		if len(t.PrimaryKey) != 1 || !isInt(columnOf(t, t.PrimaryKey[0])) {
			continue
		}
		for _, fk := range t.ForeignKeys {
			if len(fk.Columns) != 1 || !parentKeyed(src, fk) || src.Rows[fk.RefTable] == 0 || src.Rows[t.Name] == 0 {
				continue
			}
			return exampleOn(src, t, fk)
		}
	}
	return ""
}

// exampleOn writes the example's YAML for table t and its foreign key fk.
func exampleOn(src *Source, t *pack.Table, fk pack.ForeignKey) string {
	q := func(name string) string { return src.Quoted[name] }
	var cols []string
	for _, c := range t.Columns {
		cols = append(cols, q(c.Name))
	}
	rm := t.Name + "_by_" + fk.Columns[0]
	for src.Schema.Table(rm) != nil {
		rm += "_rm"
	}
	key, ref := q(t.PrimaryKey[0]), q(fk.Columns[0])
	parent := src.Schema.Table(fk.RefTable)
	list := strings.Join(cols, ", ")
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("parameters:")
	p("  parent: {pick: %s.%s}", yamlKey(fk.RefTable), yamlKey(parent.PrimaryKey[0]))
	p("  row: {pick: %s.%s}", yamlKey(t.Name), yamlKey(t.PrimaryKey[0]))
	p("commands:")
	p("  touch_%s:", t.Name)
	p("    statements:")
	p("      - sql: UPDATE %s SET %s = %s WHERE %s = :row RETURNING %s", q(t.Name), ref, ref, key, key)
	p("    affects: {%s: [%s]}", yamlKey(rm), yamlKey(t.PrimaryKey[0]))
	p("screens:")
	p("  %s_of_%s:", t.Name, fk.RefTable)
	p("    owner: parent")
	p("    crud: SELECT %s FROM %s WHERE %s = :parent ORDER BY %s", list, q(t.Name), ref, key)
	p("    read_model: %s", yamlKey(rm))
	p("    flat: SELECT %s FROM %s WHERE %s = :parent ORDER BY %s", list, pgx.Identifier{rm}.Sanitize(), ref, key)
	p("read_models:")
	p("  %s:", yamlKey(rm))
	p("    key: [%s]", yamlKey(t.PrimaryKey[0]))
	p("    projection: SELECT %s FROM %s", list, q(t.Name))
	p("    indexes: [\"%s, %s\"]", ref, key)
	return b.String()
}

// columnOf returns t's column name.
func columnOf(t *pack.Table, name string) *pack.TableColumn {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	return &pack.TableColumn{}
}

// renderSchema writes the source's DDL: enums, tables with their columns,
// keys and checks, then the foreign keys, then the other indexes.
func renderSchema(src *Source) string {
	var b strings.Builder
	p := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	p("-- The write model of database %s, schema %s, as its catalog says, written by", src.Database, src.SchemaName)
	p("-- cqrsbench init. Table names carry no schema: cqrsbench creates them in its own.")
	for _, e := range src.Enums {
		labels := make([]string, len(e.Labels))
		for i, l := range e.Labels {
			labels[i] = "'" + strings.ReplaceAll(l, "'", "''") + "'"
		}
		p("")
		p("CREATE TYPE %s AS ENUM (%s);", ident(e.Name), strings.Join(labels, ", "))
	}
	for _, t := range src.Schema.Tables {
		var lines []string
		for _, c := range t.Columns {
			line := "    " + src.Quoted[c.Name] + " " + c.Type
			switch {
			case c.Generated:
				line += " GENERATED ALWAYS AS (" + c.Default + ") STORED"
			case c.Identity || strings.HasPrefix(c.Default, "nextval("):
				line += " GENERATED BY DEFAULT AS IDENTITY"
			case c.Default != "":
				line += " DEFAULT " + c.Default
			}
			if c.NotNull {
				line += " NOT NULL"
			}
			lines = append(lines, line)
		}
		for _, con := range src.Schema.Constraints {
			if con.Table == t.Name && con.Type != 'f' {
				lines = append(lines, "    CONSTRAINT "+ident(con.Name)+" "+con.Def)
			}
		}
		p("")
		p("CREATE TABLE %s (\n%s\n);", src.Quoted[t.Name], strings.Join(lines, ",\n"))
	}
	var fks []string
	for _, con := range src.Schema.Constraints {
		if con.Type == 'f' {
			fks = append(fks, fmt.Sprintf("ALTER TABLE %s ADD CONSTRAINT %s %s;", src.Quoted[con.Table], ident(con.Name), con.Def))
		}
	}
	if len(fks) > 0 {
		p("")
		p("%s", strings.Join(fks, "\n"))
	}
	if len(src.Schema.Indexes) > 0 {
		p("")
		// pg_get_indexdef names the table with its schema whatever the
		// search_path.
		qualified := regexp.MustCompile(` ON (ONLY )?` + regexp.QuoteMeta(ident(src.SchemaName)) + `\.`)
		for _, ix := range src.Schema.Indexes {
			p("%s;", qualified.ReplaceAllString(ix.Def, " ON $1"))
		}
	}
	return b.String()
}

// simpleName is a name that needs no quotes.
var simpleName = regexp.MustCompile(`^[a-z_][a-z0-9_]*$`)

// ident spells a constraint or type name for SQL.
func ident(name string) string {
	if simpleName.MatchString(name) {
		return name
	}
	return pgx.Identifier{name}.Sanitize()
}

// yamlPlain is a YAML key that needs no quotes; yamlNumber a number, left
// bare.
var (
	yamlPlain  = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)
	yamlNumber = regexp.MustCompile(`^-?[0-9]+(\.[0-9]+)?$`)
	nonName    = regexp.MustCompile(`[^a-z0-9_-]+`)
)

// yamlKey spells s as a YAML scalar that reads back as the string s (a
// number stays a number: choice values are written as the column reads
// them).
func yamlKey(s string) string {
	switch strings.ToLower(s) {
	case "true", "false", "null", "yes", "no", "on", "off", "y", "n", "~":
		if s == "true" || s == "false" {
			return s
		}
		return fmt.Sprintf("%q", s)
	}
	if yamlPlain.MatchString(s) || yamlNumber.MatchString(s) {
		return s
	}
	return fmt.Sprintf("%q", s)
}

// Write writes files into the new directory dir, atomically: into a
// temporary directory beside it, then renamed. An existing dir that is not
// empty is refused (an *InputError): nothing is overwritten.
func Write(dir string, files Files) error {
	if err := checkOut(dir); err != nil {
		return err
	}
	parent := filepath.Dir(filepath.Clean(dir))
	tmp, err := os.MkdirTemp(parent, "."+filepath.Base(dir)+".tmp-")
	if err != nil {
		return &InputError{fmt.Sprintf("--out %s: cannot write beside it: %v", dir, err)}
	}
	done := false
	defer func() {
		if !done {
			_ = os.RemoveAll(tmp)
		}
	}()
	for name, text := range map[string]string{pack.FileName: files.Workload, "schema.sql": files.Schema} {
		if err := os.WriteFile(filepath.Join(tmp, name), []byte(text), 0o644); err != nil {
			return fmt.Errorf("write the draft: %w", err)
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("write the draft: %w", err)
	}
	// An empty directory makes way (os.Rename does not replace one).
	if err := os.Remove(dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		return &InputError{fmt.Sprintf("--out %s: %v", dir, err)}
	}
	if err := os.Rename(tmp, dir); err != nil {
		return &InputError{fmt.Sprintf("--out %s: %v (name a new directory)", dir, err)}
	}
	done = true
	return nil
}

// checkOut refuses an existing directory that is not empty.
func checkOut(dir string) error {
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return &InputError{fmt.Sprintf("--out %s exists and is not empty: name a new directory, or remove it first", dir)}
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return &InputError{fmt.Sprintf("--out %s: %v", dir, err)}
	}
	return nil
}
