package pack_test

import (
	"testing"

	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// TestHelpdeskLoads loads the shipped helpdesk pack and checks that every
// table got rows and every foreign key holds (the loader creates them
// validated, and the test checks each by a join too).
func TestHelpdeskLoads(t *testing.T) {
	pool := shared.Pool(t)
	p := mustLoad(t, "../../workloads/helpdesk")
	if p.Name() != "helpdesk" {
		t.Fatalf("name %q, want helpdesk", p.Name())
	}
	schema := loadInto(t, pool, p, workload.Dataset{Rows: 2000, Seed: 1, Today: today})
	for _, table := range []string{"teams", "agents", "customers", "tickets", "comments", "tags", "ticket_tags"} {
		var n int64
		if err := pool.QueryRow(t.Context(), "SELECT count(*) FROM "+schema+"."+table).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Errorf("%s: no rows", table)
		}
		t.Logf("%s: %d rows", table, n)
	}
	var customers int64
	_ = pool.QueryRow(t.Context(), "SELECT count(*) FROM "+schema+".customers").Scan(&customers)
	if customers != 2000 {
		t.Errorf("customers = %d, want Dataset.Rows = 2000", customers)
	}
	rows, err := pool.Query(t.Context(), `
SELECT c.conrelid::regclass::text, c.conname, c.convalidated,
       pg_get_constraintdef(c.oid)
FROM pg_constraint c WHERE c.connamespace = $1::regnamespace AND c.contype = 'f' ORDER BY 1, 2`, schema)
	if err != nil {
		t.Fatal(err)
	}
	var fks int
	for rows.Next() {
		var table, name, def string
		var valid bool
		if err := rows.Scan(&table, &name, &valid, &def); err != nil {
			t.Fatal(err)
		}
		fks++
		if !valid {
			t.Errorf("foreign key %s on %s is not validated", name, table)
		}
	}
	if fks != 8 {
		t.Errorf("%d foreign keys, want the schema's 8", fks)
	}
	orphans := map[string]string{
		"tickets→customers": "SELECT count(*) FROM %[1]s.tickets t LEFT JOIN %[1]s.customers c ON c.id = t.customer_id WHERE c.id IS NULL",
		"tickets→agents":    "SELECT count(*) FROM %[1]s.tickets t LEFT JOIN %[1]s.agents a ON a.id = t.assignee_id WHERE t.assignee_id IS NOT NULL AND a.id IS NULL",
		"comments→tickets":  "SELECT count(*) FROM %[1]s.comments c LEFT JOIN %[1]s.tickets t ON t.id = c.ticket_id WHERE t.id IS NULL",
		"ticket_tags→tags":  "SELECT count(*) FROM %[1]s.ticket_tags x LEFT JOIN %[1]s.tags g ON g.id = x.tag_id WHERE g.id IS NULL",
	}
	for name, q := range orphans {
		var n int64
		if err := pool.QueryRow(t.Context(), sprintf(q, schema)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 0 {
			t.Errorf("%s: %d rows point at nothing", name, n)
		}
	}
}
