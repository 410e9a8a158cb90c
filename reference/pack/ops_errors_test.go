package pack_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cqrsbench/cqrsbench/reference/pack"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// opsHead is the schema and data of the operations tests: 20 customers
// with 3 orders each.
const opsHead = `name: x
schema: schema.sql
data:
  tables:
    customers: {rows: 20}
    orders: {per: customers, count: 3, columns: {status: {choice: [new, paid]}}}
`

// opsBase is a valid pack with every operations section, on baseSchema;
// each case below changes one line of it. Its line numbers matter.
const opsBase = opsHead + `parameters:
  customer: {pick: customers.id}
  order: {pick: orders.id, where: "status = 'new'"}
commands:
  pay:
    statements:
      - sql: UPDATE orders SET status = 'paid' WHERE id = :order AND status = 'new' RETURNING id, customer_id
        reject_if_empty: already_paid
    affects: {order_list: [id]}
screens:
  my_orders:
    owner: customer
    crud: SELECT id, status FROM orders WHERE customer_id = :customer ORDER BY id
    read_model: order_list
    flat: SELECT id, status FROM order_list WHERE customer_id = :customer ORDER BY id
read_models:
  order_list:
    key: [id]
    projection: SELECT id, customer_id, status FROM orders
`

// Phases of a pack at which a mistake shows.
const (
	atLoad    = "load"    // pack.Load
	atInspect = "inspect" // Pack.Inspect
	atOpen    = "open"    // Pack.OpenParams on the loaded data
	atCheck   = "check"   // Pack.CheckProjections on the loaded data
)

// TestOpsBaseIsValid makes sure the cases below fail for their change
// alone.
func TestOpsBaseIsValid(t *testing.T) {
	pool := shared.Pool(t)
	p := mustLoad(t, writePack(t, opsBase, baseSchema))
	schema := loadInto(t, pool, p, workload.Dataset{Seed: 1, Today: today})
	if _, err := p.OpenParams(t.Context(), pool, schema, 1); err != nil {
		t.Fatal(err)
	}
	if err := p.CheckProjections(t.Context(), pool, schema); err != nil {
		t.Fatal(err)
	}
}

// TestOpsMistakesNameTheirLine covers the mistakes of the operations
// sections, each found at the phase it can be, named at its file and
// line.
func TestOpsMistakesNameTheirLine(t *testing.T) {
	pool := shared.Pool(t)
	cases := []struct {
		name, old, new string
		all            bool   // replace every old, not the first
		sqlFile        string // written as q.sql when not ""
		phase          string
		inSQL          bool // the line is q.sql's
		line           int
		fragments      []string
	}{
		{name: "unknown parameter", old: "WHERE id = :order AND", new: "WHERE id = :ordr AND", phase: atLoad, line: 13,
			fragments: []string{"unknown parameter :ordr", "declared: customer, order; built in: now"}},
		{name: "unknown parameter in a file", old: "crud: SELECT id, status FROM orders WHERE customer_id = :customer ORDER BY id", new: "crud: {file: q.sql}",
			sqlFile: "SELECT id, status\nFROM orders\nWHERE customer_id = :customer AND total > :minimum\nORDER BY id\n", phase: atLoad, inSQL: true, line: 3,
			fragments: []string{"unknown parameter :minimum"}},
		{name: "unused parameter", old: "parameters:\n", new: "parameters:\n  spare: {range: [1, 4]}\n", phase: atLoad, line: 8,
			fragments: []string{"declared but no command or screen uses it", ":spare"}},
		{name: "positional placeholder", old: "WHERE id = :order AND", new: "WHERE id = $1 AND :order = id AND", phase: atLoad, line: 13,
			fragments: []string{"write parameters as :name"}},
		{name: "tuple used whole", old: "  customer: {pick: customers.id}", new: "  customer: {pick: {table: customers, columns: [id, name]}}", phase: atLoad, line: 19,
			fragments: []string{":customer is a tuple; use its columns: :customer.id, :customer.name"}},
		{name: "affects unknown read model", old: "affects: {order_list: [id]}", new: "affects: {orders_list: [id]}", phase: atLoad, line: 15,
			fragments: []string{"orders_list is not a read model", "(order_list)"}},
		{name: "no affects", old: "    affects: {order_list: [id]}\n", new: "", phase: atLoad, line: 11,
			fragments: []string{"a command must declare which read-model keys it changes"}},
		{name: "affects wrong arity", old: "affects: {order_list: [id]}", new: "affects: {order_list: [id, customer_id]}", phase: atLoad, line: 15,
			fragments: []string{"gives 2 columns but order_list's key has 1 (id)"}},
		{name: "screen read model unknown", old: "read_model: order_list", new: "read_model: orderlist", phase: atLoad, line: 20,
			fragments: []string{"orderlist is not a read model"}},
		{name: "owner unknown", old: "owner: customer", new: "owner: client", phase: atLoad, line: 18,
			fragments: []string{"client is not a parameter"}},
		{name: "projection with a parameter", old: "FROM orders\n", new: "FROM orders WHERE customer_id = :customer\n", phase: atLoad, line: 25,
			fragments: []string{":customer: a projection takes no parameters"}},
		{name: "learn into a range", old: "        reject_if_empty: already_paid\n", new: "        reject_if_empty: already_paid\n        learn: {customer: customer_id, spare: id}\n", phase: atLoad, line: 15,
			fragments: []string{"spare is not a pick of one column"}},
		{name: "pick without column", old: "{pick: customers.id}", new: "{pick: customers}", phase: atLoad, line: 8,
			fragments: []string{`"customers": write table.column`}},
		{name: "zipf without s", old: "{pick: customers.id}", new: "{pick: customers.id, dist: zipf}", phase: atLoad, line: 8,
			fragments: []string{"dist: zipf needs s:"}},
		{name: "two sources", old: "{pick: customers.id}", new: "{pick: customers.id, range: [1, 2]}", phase: atLoad, line: 8,
			fragments: []string{"two sources"}},
		{name: "array of an unknown parameter", old: "parameters:\n", new: "parameters:\n  spare: {array: [cust], length: 2}\n", phase: atLoad, line: 8,
			fragments: []string{"cust is not a parameter"}},
		{name: "array without length", old: "parameters:\n", new: "parameters:\n  spare: {array: [customer]}\n", phase: atLoad, line: 8,
			fragments: []string{"length: is missing"}},
		{name: "now declared", old: "parameters:\n", new: "parameters:\n  now: {range: [1, 2]}\n", phase: atLoad, line: 8,
			fragments: []string{"now is built in"}},

		{name: "sql error at its line", old: "crud: SELECT id, status FROM orders WHERE customer_id = :customer ORDER BY id", new: "crud: {file: q.sql}",
			sqlFile: "SELECT id, status\nFROM orders\nWHERE customer_id = :customer\n  AND stauts = 'new'\nORDER BY id\n", phase: atInspect, inSQL: true, line: 4,
			fragments: []string{`column "stauts" does not exist`}},
		{name: "parameter type unknown", old: "crud: SELECT id, status FROM orders WHERE customer_id = :customer ORDER BY id", new: "crud: SELECT id, status FROM orders WHERE customer_id = :customer AND :order IS NOT NULL ORDER BY id",
			phase: atInspect, line: 19, fragments: []string{"could not determine data type of parameter :order"}},
		{name: "no returning", old: "AND status = 'new' RETURNING id, customer_id", new: "AND status = 'new'", phase: atInspect, line: 13,
			fragments: []string{"returns no columns: end it with RETURNING"}},
		{name: "affects column not returned", old: "RETURNING id, customer_id", new: "RETURNING customer_id", phase: atInspect, line: 15,
			fragments: []string{"no statement returns all of id", "1 (customer_id)"}},
		{name: "learn column not returned", old: "        reject_if_empty: already_paid\n", new: "        reject_if_empty: already_paid\n        learn: {order: order_id}\n", phase: atInspect, line: 15,
			fragments: []string{`returns no column "order_id"`}},
		{name: "projection without its key", old: "key: [id]", new: "key: [order_id]", phase: atInspect, line: 24,
			fragments: []string{"the projection returns no column order_id"}},
		{name: "read model named like a table", old: "order_list", new: "orders", all: true, phase: atInspect, line: 23,
			fragments: []string{"has a table orders too"}},
		{name: "pick from unknown table", old: "{pick: customers.id}", new: "{pick: clients.id}", phase: atInspect, line: 8,
			fragments: []string{`no table "clients"`}},
		{name: "pick unknown column", old: "{pick: customers.id}", new: "{pick: customers.code}", phase: atInspect, line: 8,
			fragments: []string{`no column "code"`, "id, name"}},
		{name: "pick where fails", old: `where: "status = 'new'"`, new: `where: "stat = 'new'"`, phase: atInspect, line: 9,
			fragments: []string{`column "stat" does not exist`}},
		{name: "pick from a table without data", old: "    orders: {per: customers, count: 3, columns: {status: {choice: [new, paid]}}}\n", new: "", phase: atInspect, line: 8,
			fragments: []string{"orders gets no rows under data:"}},
		{name: "flat and crud differ", old: "flat: SELECT id, status FROM", new: "flat: SELECT id, status::varchar FROM", phase: atInspect, line: 21,
			fragments: []string{"returns (id int8, status varchar) but the crud query returns (id int8, status text)"}},

		{name: "pick where matches nothing", old: `where: "status = 'new'"`, new: `where: "status = 'shipped'"`, phase: atOpen, line: 9,
			fragments: []string{"no row of orders where status = 'shipped' to pick from"}},
		{name: "projection not one row per key", old: "key: [id]", new: "key: [customer_id]", phase: atCheck, line: 23,
			fragments: []string{"gives up to", "rows for one key (customer_id)"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(opsBase, c.old) {
				t.Fatalf("the base has no %q", c.old)
			}
			n := 1
			if c.all {
				n = -1
			}
			dir := writePack(t, strings.Replace(opsBase, c.old, c.new, n), baseSchema)
			file := filepath.Join(dir, pack.FileName)
			if c.sqlFile != "" {
				writeFile(t, filepath.Join(dir, "q.sql"), c.sqlFile)
			}
			if c.inSQL {
				file = filepath.Join(dir, "q.sql")
			}
			p, err := pack.Load(dir)
			if c.phase == atLoad {
				wantError(t, err, file, c.line, c.fragments...)
				return
			}
			if err != nil {
				t.Fatalf("load: %v", err)
			}
			ds := workload.Dataset{Seed: 1, Today: today}
			_, err = p.Inspect(t.Context(), pool, ds)
			if c.phase == atInspect {
				wantError(t, err, file, c.line, c.fragments...)
				return
			}
			if err != nil {
				t.Fatalf("inspect: %v", err)
			}
			if c.phase != atOpen {
				// Load checks the projections on the data it loaded.
				schema := shared.FreshSchema(t, pool, "pack")
				wantError(t, p.Load(t.Context(), pool, schema, ds), file, c.line, c.fragments...)
				var left bool
				if err := pool.QueryRow(t.Context(), "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1)", schema).Scan(&left); err != nil || left {
					t.Errorf("schema %s left after a failed load (%v)", schema, err)
				}
				return
			}
			schema := loadInto(t, pool, p, ds)
			_, err = p.OpenParams(t.Context(), pool, schema, 1)
			wantError(t, err, file, c.line, c.fragments...)
		})
	}
}

// TestOpsMistakesAllReported checks that several mistakes are reported at
// once, at load and at inspect.
func TestOpsMistakesAllReported(t *testing.T) {
	pool := shared.Pool(t)
	yaml := strings.NewReplacer("WHERE id = :order AND", "WHERE id = :ordr AND", "read_model: order_list", "read_model: orderlist").Replace(opsBase)
	_, err := pack.Load(writePack(t, yaml, baseSchema))
	for _, want := range []string{"workload.yaml:13: ", "workload.yaml:20: "} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("load error does not name %s:\n%v", want, err)
		}
	}
	yaml = strings.NewReplacer("RETURNING id, customer_id", "RETURNING customer_id", "key: [id]", "key: [order_id]", "customers: {rows: 20}", "customers: {rows: 20, columns: {nmae: {words: 1}}}").Replace(opsBase)
	p := mustLoad(t, writePack(t, yaml, baseSchema))
	_, err = p.Inspect(t.Context(), pool, workload.Dataset{Seed: 1, Today: today})
	for _, want := range []string{"workload.yaml:5: ", "workload.yaml:15: ", "workload.yaml:24: "} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("inspect error does not name %s:\n%v", want, err)
		}
	}
}

// seqOps is opsBase with pay made the customer's own command, and a
// sequence: pay, then at once the customer's my_orders.
var seqOps = strings.Replace(opsBase, "WHERE id = :order AND", "WHERE id = :order AND customer_id = :customer AND", 1)

// seqLine is the line of seqOps' sequence's name; its fields follow.
var seqLine = strings.Count(seqOps, "\n") + 2

// TestSequences: a valid sequence resolves its command and screen and is
// an operation of the mix; each mistake is named at its line.
func TestSequences(t *testing.T) {
	const seq = "sequences:\n  pay_then_list:\n    weight: 2\n    command: pay\n    screen: my_orders\n"
	p := mustLoad(t, writePack(t, seqOps+seq, baseSchema))
	if len(p.Sequences) != 1 || p.Sequences[0].Command != p.Commands[0] || p.Sequences[0].Screen != p.Screens[0] {
		t.Fatalf("sequences %+v, want pay then my_orders", p.Sequences)
	}
	if ops := p.Operations(); !slices.Contains(ops, workload.Operation{Name: "pay_then_list", Weight: 2}) {
		t.Errorf("operations %+v lack pay_then_list, a command-like operation of weight 2", ops)
	}
	for _, c := range []struct {
		name, base, old, new string
		line                 int
		fragment             string
	}{
		{"unknown command", seqOps, "command: pay", "command: payy", seqLine + 2, "payy is not a command; name one under commands: (pay)"},
		{"unknown screen", seqOps, "screen: my_orders", "screen: my_order", seqLine + 3, "my_order is not a screen"},
		{"missing screen", seqOps, "    screen: my_orders\n", "", seqLine, "screen: is missing"},
		{"screen without owner", seqOps, "    owner: customer\n", "", seqLine + 3, "my_orders has no owner:"},
		{"not the owner's command", opsBase, "", "", seqLine + 2, "pay does not use :customer, the owner of my_orders"},
		{"read model not changed", seqOps, "affects: {order_list: [id]}", "affects: {}", seqLine + 2, "pay does not change order_list"},
		{"name taken", seqOps, "pay_then_list:", "my_orders:", seqLine, "a command or screen is named my_orders too"},
	} {
		t.Run(c.name, func(t *testing.T) {
			y := strings.Replace(c.base+seq, c.old, c.new, 1)
			if c.old == "" {
				y = c.base + seq
			}
			line := c.line
			if c.old == "    owner: customer\n" {
				line-- // the sequence moved up a line
			}
			dir := writePack(t, y, baseSchema)
			_, err := pack.Load(dir)
			wantError(t, err, filepath.Join(dir, pack.FileName), line, c.fragment)
		})
	}
}
