package pack_test

import (
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// checksums returns md5 of every row of each table, in primary-key order.
func checksums(t *testing.T, pool *pgxpool.Pool, schema string, tables map[string]string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for table, key := range tables {
		var sum string
		q := sprintf("SELECT md5(string_agg(x::text, E'\\n' ORDER BY %s)) FROM %s.%s x", key, schema, table)
		if err := pool.QueryRow(t.Context(), q).Scan(&sum); err != nil {
			t.Fatal(err)
		}
		out[table] = sum
	}
	return out
}

// helpdeskKeys are the helpdesk's tables and their primary keys.
var helpdeskKeys = map[string]string{
	"teams": "id", "agents": "id", "customers": "id", "tickets": "id",
	"comments": "id", "tags": "id", "ticket_tags": "ticket_id, tag_id",
}

// TestSameSeedSameData loads the helpdesk twice with one seed and once with
// another: the first two are identical table by table, the third differs.
func TestSameSeedSameData(t *testing.T) {
	pool := shared.Pool(t)
	p := mustLoad(t, "../../workloads/helpdesk")
	ds := workload.Dataset{Rows: 1000, Seed: 7, Today: today}
	a := checksums(t, pool, loadInto(t, pool, p, ds), helpdeskKeys)
	b := checksums(t, pool, loadInto(t, pool, p, ds), helpdeskKeys)
	ds.Seed = 8
	c := checksums(t, pool, loadInto(t, pool, p, ds), helpdeskKeys)
	for table := range helpdeskKeys {
		if a[table] != b[table] {
			t.Errorf("%s: two loads with seed 7 differ (%s, %s)", table, a[table], b[table])
		}
	}
	if a["tickets"] == c["tickets"] || a["comments"] == c["comments"] {
		t.Errorf("seeds 7 and 8 give the same tickets or comments")
	}
}

// TestDistributions loads a pack whose shapes are known and checks them
// loosely: a zipf fanout gives few parents many children and the median
// parent few, a uniform fanout averages its mean, a NULL fraction holds,
// a normal column centres on its mean within its bounds, weighted choices
// come in their proportions and Dataset.Rows scales the main table and the
// other rows: tables by the same factor.
func TestDistributions(t *testing.T) {
	pool := shared.Pool(t)
	dir := writePack(t, `
name: shapes
schema: schema.sql
data:
  tables:
    customers:
      rows: 1000
      columns:
        score: {dist: normal, mean: 50, stddev: 10, min: 0, max: 100}
        tier: {choice: {gold: 1, silver: 3}}
        note: {null: 0.3}
    regions:
      rows: 10
    tickets:
      per: customers
      count: {dist: zipf, min: 0, max: 1000, s: 1.5}
      columns:
        region_id: {ref: regions, dist: zipf, s: 2}
    lines:
      per: customers
      count: {dist: uniform, min: 0, max: 10}
`, `
CREATE TABLE customers (id bigint PRIMARY KEY, score int NOT NULL, tier text NOT NULL, note text);
CREATE TABLE regions (id int PRIMARY KEY);
CREATE TABLE tickets (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers, region_id int NOT NULL REFERENCES regions);
CREATE TABLE lines (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers);
`)
	p := mustLoad(t, dir)
	schema := loadInto(t, pool, p, workload.Dataset{Rows: 20000, Seed: 3, Today: today})
	q := func(sql string) float64 {
		t.Helper()
		var v float64
		if err := pool.QueryRow(t.Context(), sprintf(sql, schema)).Scan(&v); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		return v
	}
	if n := q("SELECT count(*) FROM %s.customers"); n != 20000 {
		t.Errorf("customers = %v, want Dataset.Rows 20000", n)
	}
	if n := q("SELECT count(*) FROM %s.regions"); n != 200 {
		t.Errorf("regions = %v, want 10 scaled by 20 = 200", n)
	}
	// Zipf fanout: per customer, counting those with none.
	perCustomer := "SELECT %s FROM (SELECT count(t.id) n FROM %%[1]s.customers c LEFT JOIN %%[1]s.tickets t ON t.customer_id = c.id GROUP BY c.id) x"
	top := q(sprintf(perCustomer, "max(n)"))
	median := q(sprintf(perCustomer, "percentile_disc(0.5) WITHIN GROUP (ORDER BY n)"))
	none := q(sprintf(perCustomer, "avg((n = 0)::int)"))
	t.Logf("tickets per customer: max %v, median %v, share with none %.3f", top, median, none)
	if top < 200 || median > 2 {
		t.Errorf("zipf fanout: busiest customer has %v tickets (want >= 200), median %v (want <= 2)", top, median)
	}
	if none < 0.3 || none > 0.5 { // P(0) = 1/ζ(1.5) ≈ 0.38
		t.Errorf("zipf fanout: %.3f of customers have no ticket, want about 0.38", none)
	}
	// Zipf ref: region 1 is picked most, about 1/ζ(2) ≈ 0.61 of the time.
	if share := q("SELECT avg((region_id = 1)::int) FROM %s.tickets"); share < 0.55 || share > 0.67 {
		t.Errorf("zipf ref: region 1 has %.3f of tickets, want about 0.61", share)
	}
	if avg := q("SELECT count(*)::float8 / 20000 FROM %s.lines"); avg < 4.8 || avg > 5.2 {
		t.Errorf("uniform fanout 0..10: %.3f lines per customer, want about 5", avg)
	}
	if nulls := q("SELECT avg((note IS NULL)::int) FROM %s.customers"); nulls < 0.28 || nulls > 0.32 {
		t.Errorf("null: 0.3 gave %.3f NULLs", nulls)
	}
	if mean := q("SELECT avg(score) FROM %s.customers"); mean < 49.5 || mean > 50.5 {
		t.Errorf("normal mean 50: got %.2f", mean)
	}
	if lo, hi := q("SELECT min(score) FROM %s.customers"), q("SELECT max(score) FROM %s.customers"); lo < 0 || hi > 100 {
		t.Errorf("normal clamped to [0, 100]: got [%v, %v]", lo, hi)
	}
	if gold := q("SELECT avg((tier = 'gold')::int) FROM %s.customers"); gold < 0.23 || gold > 0.27 {
		t.Errorf("choice gold:1 silver:3 gave %.3f gold, want 0.25", gold)
	}
}

// TestSequencePerParent numbers each order's lines 1, 2, … : the
// (order_id, line_no) primary key holds, and every order's lines are
// exactly 1 to its count.
func TestSequencePerParent(t *testing.T) {
	pool := shared.Pool(t)
	schema := baseSchema + `CREATE TABLE lines (
    order_id bigint NOT NULL REFERENCES orders,
    line_no int NOT NULL,
    PRIMARY KEY (order_id, line_no)
);
`
	p := mustLoad(t, writePack(t, `name: x
schema: schema.sql
data:
  tables:
    customers: {rows: 50}
    orders: {per: customers, count: 2, columns: {status: {choice: [new, paid]}}}
    lines:
      per: orders
      count: {dist: uniform, min: 1, max: 5}
      columns:
        line_no: {sequence: 1, per_parent: true}
`, schema))
	s := loadInto(t, pool, p, workload.Dataset{Seed: 1, Today: today})
	var orders, bad int
	if err := pool.QueryRow(t.Context(), `SELECT count(*), count(*) FILTER (WHERE min <> 1 OR max <> n)
		FROM (SELECT order_id, min(line_no), max(line_no), count(*) AS n FROM `+s+`.lines GROUP BY order_id) g`).Scan(&orders, &bad); err != nil {
		t.Fatal(err)
	}
	if orders < 90 || bad != 0 {
		t.Errorf("%d orders with lines, %d not numbered 1 to their count; want ~100 and 0", orders, bad)
	}
}

// TestPrefixFillsText: a sequence or dist with prefix: fills a text column
// with the prefix and the number: a sequence gives unique labels, a zipf
// dist as many distinct labels as it would numbers, the smallest most.
func TestPrefixFillsText(t *testing.T) {
	pool := shared.Pool(t)
	dir := writePack(t, `
name: prefixes
schema: schema.sql
data:
  tables:
    items:
      rows: 5000
      columns:
        code: {sequence: 100, prefix: c}
        label: {dist: zipf, min: 1, max: 50, s: 1.5, prefix: "v"}
`, `CREATE TABLE items (id bigint PRIMARY KEY, code varchar(12) NOT NULL UNIQUE, label text NOT NULL);`)
	p := mustLoad(t, dir)
	schema := loadInto(t, pool, p, workload.Dataset{Seed: 3, Today: today})
	var distinctCodes, distinctLabels int
	var first, top string
	err := pool.QueryRow(t.Context(), sprintf(`SELECT count(DISTINCT code), count(DISTINCT label), min(code) FILTER (WHERE id = 1),
		(SELECT label FROM %[1]s.items GROUP BY label ORDER BY count(*) DESC LIMIT 1) FROM %[1]s.items`, schema)).Scan(&distinctCodes, &distinctLabels, &first, &top)
	if err != nil {
		t.Fatal(err)
	}
	if distinctCodes != 5000 || first != "c100" {
		t.Errorf("sequence with prefix: %d distinct codes, the first %q; want 5000 and c100", distinctCodes, first)
	}
	if distinctLabels < 30 || distinctLabels > 50 || top != "v1" {
		t.Errorf("zipf with prefix: %d distinct labels (want 30-50), the most frequent %q (want v1)", distinctLabels, top)
	}
	bad := writePack(t, `
name: badprefix
schema: schema.sql
data:
  tables:
    items:
      rows: 5
      columns:
        n: {sequence: 1, prefix: c}
`, `CREATE TABLE items (id bigint PRIMARY KEY, n int NOT NULL);`)
	_, err = mustLoad(t, bad).Inspect(t.Context(), pool, workload.Dataset{Today: today})
	if err == nil || !strings.Contains(err.Error(), "workload.yaml:9:") || !strings.Contains(err.Error(), "prefix: makes text") {
		t.Errorf("prefix: on an int column: %v, want an error at workload.yaml:9 saying prefix: makes text", err)
	}
}
