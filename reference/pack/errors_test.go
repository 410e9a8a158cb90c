package pack_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cqrsbench/cqrsbench/reference/pack"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// baseSchema is a small write model the error cases share.
const baseSchema = `CREATE TABLE customers (
    id bigint PRIMARY KEY,
    name text NOT NULL
);
CREATE TABLE orders (
    id bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers,
    status text NOT NULL CHECK (status IN ('new', 'paid')),
    total numeric(10,2)
);
`

// wantError checks that err is a pack error with exit code 2 whose text
// names file:line and holds every fragment.
func wantError(t *testing.T, err error, file string, line int, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want one at %s:%d", file, line)
	}
	var coder interface{ ExitCode() int }
	if !errors.As(err, &coder) || coder.ExitCode() != 2 {
		t.Errorf("error %q does not carry exit code 2", err)
	}
	at := sprintf("%s:%d: ", file, line)
	if !strings.Contains(err.Error(), at) {
		t.Errorf("error does not name %s:\n%v", at, err)
	}
	for _, f := range fragments {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error does not say %q:\n%v", f, err)
		}
	}
}

// TestLoadReportsMistakesWithTheirLine covers what Load finds in
// workload.yaml alone.
func TestLoadReportsMistakesWithTheirLine(t *testing.T) {
	cases := []struct {
		name, yaml string
		line       int
		fragments  []string
	}{
		{"syntax", "name: x\nschema: schema.sql\ndata: [\n", 3, []string{"invalid YAML"}},
		{"missing sections", "name: x\n", 1, []string{"schema: is missing", "data: is missing"}},
		{"unknown top field", "name: x\nschema: schema.sql\ndata: {tables: {}}\nscreen: []\n", 4, []string{`unknown field "screen"`, "valid fields here: name, description, schema, data, parameters, commands, screens, sequences, read_models"}},
		{"missing schema file", "name: x\nschema: nope.sql\ndata: {tables: {}}\n", 2, []string{"cannot read nope.sql"}},
		{"rows and per", "name: x\nschema: schema.sql\ndata:\n  tables:\n    orders: {rows: 5, per: customers, count: 2}\n", 5, []string{"either rows: N or per: parent"}},
		{"negative rows", "name: x\nschema: schema.sql\ndata:\n  tables:\n    orders:\n      rows: -3\n", 6, []string{"must be >= 0"}},
		{"per without count", "name: x\nschema: schema.sql\ndata:\n  tables:\n    orders: {per: customers}\n", 5, []string{"both per: parent_table and count:"}},
		{"unknown dist", "name: x\nschema: schema.sql\ndata:\n  tables:\n    orders:\n      per: customers\n      count: {dist: poisson, max: 3}\n", 7, []string{`unknown distribution "poisson"`, "uniform, normal or zipf"}},
		{"zipf exponent", "name: x\nschema: schema.sql\ndata:\n  tables:\n    orders:\n      rows: 5\n      columns:\n        total: {dist: zipf, max: 10, s: 0.5}\n", 8, []string{"s must be > 1"}},
		{"two generators", "name: x\nschema: schema.sql\ndata:\n  tables:\n    orders:\n      rows: 5\n      columns:\n        status:\n          choice: [new]\n          words: 2\n", 10, []string{"two generators"}},
		{"field of another generator", "name: x\nschema: schema.sql\ndata:\n  tables:\n    orders:\n      rows: 5\n      columns:\n        status: {choice: [new], step: 2}\n", 8, []string{`unknown field "step" for a choice generator`}},
		{"null fraction", "name: x\nschema: schema.sql\ndata:\n  tables:\n    orders:\n      rows: 5\n      columns:\n        total: {null: 1.5}\n", 8, []string{"fraction of NULLs, 0 to 1"}},
		{"bad time", "name: x\nschema: schema.sql\ndata:\n  tables:\n    orders:\n      rows: 5\n      columns:\n        status: {timestamp: {from: yesterday, to: 2025-01-01}}\n", 8, []string{`"yesterday" is not a time`}},
		{"main is a fanout", "name: x\nschema: schema.sql\ndata:\n  main: orders\n  tables:\n    customers: {rows: 3}\n    orders: {per: customers, count: 2}\n", 4, []string{"the main table must have rows:"}},
		{"duplicate table", "name: x\nschema: schema.sql\ndata:\n  tables:\n    orders: {rows: 1}\n    orders: {rows: 2}\n", 6, []string{"given twice (first on line 5)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writePack(t, c.yaml, baseSchema)
			_, err := pack.Load(dir)
			wantError(t, err, filepath.Join(dir, pack.FileName), c.line, c.fragments...)
		})
	}
}

// TestInspectReportsMistakesWithTheirLine covers what needs the schema:
// each case is a valid workload.yaml that does not fit its DDL, or DDL
// PostgreSQL refuses.
func TestInspectReportsMistakesWithTheirLine(t *testing.T) {
	pool := shared.Pool(t)
	const head = "name: x\nschema: schema.sql\ndata:\n  tables:\n"
	cases := []struct {
		name, yaml, schema string
		inSQL              bool // the line is schema.sql's
		line               int
		fragments          []string
	}{
		{"ddl error", head + "    customers: {rows: 1}\n", baseSchema + "CREATE TABLE broken (\n  id bigint PRIMARY KEY,\n  x nosuchtype\n);\n", true, 13, []string{`type "nosuchtype" does not exist`}},
		{"hard-coded schema", head + "    customers: {rows: 1}\n", baseSchema + "CREATE TABLE public.audit (id int);\n", true, 11, []string{"creates public.audit outside the pack's schema"}},
		{"unknown table", head + "    customers: {rows: 1}\n    invoices: {rows: 1}\n", baseSchema, false, 6, []string{`no table "invoices"`, "customers, orders"}},
		{"unknown column", head + "    customers:\n      rows: 1\n      columns:\n        nmae: {words: 2}\n", baseSchema, false, 8, []string{`no column "nmae"`}},
		{"fk to a table with no rows", head + "    orders: {rows: 5, columns: {status: {choice: [new]}}}\n", baseSchema, false, 5, []string{"references customers, which gets no rows"}},
		{"null on not null", head + "    customers:\n      rows: 2\n      columns:\n        name: {words: 1, null: 0.5}\n", baseSchema, false, 8, []string{"NOT NULL, so null: 0.5 cannot be"}},
		{"no default for type", head + "    things: {rows: 2}\n", "CREATE TABLE things (id int PRIMARY KEY, span int4range NOT NULL);\n", false, 5, []string{"NOT NULL column span of type int4range", "give it one"}},
		{"cycle", head + "    a: {rows: 2}\n    b: {rows: 2}\n",
			"CREATE TABLE a (id int PRIMARY KEY, b_id int NOT NULL);\nCREATE TABLE b (id int PRIMARY KEY, a_id int NOT NULL REFERENCES a);\nALTER TABLE a ADD FOREIGN KEY (b_id) REFERENCES b;\n",
			false, 6, []string{"cycle (a → b → a)", "null: 1"}},
		{"ref to a non-sequence key", head + "    customers: {rows: 2, columns: {id: {dist: uniform, min: 1, max: 9}}}\n    orders: {rows: 2, columns: {status: {choice: [new]}}}\n", baseSchema, false, 6, []string{"customers.id, which is not filled by a sequence"}},
		{"bad expression", head + "    customers:\n      rows: 2\n      columns:\n        name: {expr: \"'c' || nosuchcolumn\"}\n", baseSchema, false, 8, []string{"the expression fails", `column "nosuchcolumn" does not exist`}},
		{"dist on text", head + "    customers:\n      rows: 2\n      columns:\n        name: {dist: uniform, min: 1, max: 3}\n", baseSchema, false, 8, []string{"dist fills number columns"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writePack(t, c.yaml, c.schema)
			p := mustLoad(t, dir)
			_, err := p.Inspect(t.Context(), pool, workload.Dataset{Seed: 1, Today: today})
			file := filepath.Join(dir, pack.FileName)
			if c.inSQL {
				file = filepath.Join(dir, "schema.sql")
			}
			wantError(t, err, file, c.line, c.fragments...)
		})
	}
}

// TestFailedLoadLeavesNothing loads packs whose data the schema refuses
// only once loaded (a CHECK, a unique key) and checks the error names the
// pack's line and the schema is gone.
func TestFailedLoadLeavesNothing(t *testing.T) {
	pool := shared.Pool(t)
	const head = "name: x\nschema: schema.sql\ndata:\n  tables:\n    customers: {rows: 50}\n"
	cases := []struct {
		name, yaml string
		line       int
		fragments  []string
	}{
		{"check", head + "    orders:\n      per: customers\n      count: 3\n      columns:\n        status: {choice: [new, shipped]}\n", 6,
			[]string{"break check orders_status_check", "schema.sql:8"}},
		{"unique", head + "    orders:\n      per: customers\n      count: 3\n      columns:\n        id: {dist: uniform, min: 1, max: 20}\n        status: {choice: [new]}\n", 6,
			[]string{"break unique constraint orders_pkey"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writePack(t, c.yaml, baseSchema)
			p := mustLoad(t, dir)
			schema := shared.FreshSchema(t, pool, "fail")
			err := p.Load(t.Context(), pool, schema, workload.Dataset{Seed: 1, Today: today})
			wantError(t, err, filepath.Join(dir, pack.FileName), c.line, c.fragments...)
			var n int
			if err := pool.QueryRow(t.Context(), "SELECT count(*) FROM pg_namespace WHERE nspname = $1", schema).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("schema %s is still there after the failed load", schema)
			}
		})
	}
}
