package pack_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference/pack"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// paramsPack declares a parameter of every kind on baseSchema; one
// command uses them all (a parameter nothing uses is a mistake).
const paramsPack = opsHead + `parameters:
  customer: {pick: customers.id}
  hot: {pick: customers.id, dist: zipf, s: 1.5}
  new_order: {pick: orders.id, where: "status = 'new'"}
  order: {pick: {table: orders, columns: [id, customer_id]}}
  small: {range: [1, 4]}
  ratio: {range: [0.5, 2.0]}
  status: {list: {new: 3, paid: 1}}
  title: {words: {min: 2, max: 4}}
  note: {text: {min: 10, max: 30}}
commands:
  everything:
    statements:
      - sql: |
          SELECT 1 AS one WHERE :customer::bigint > 0 AND :hot::bigint > 0 AND :new_order::bigint > 0
            AND :order.id::bigint > 0 AND :order.customer_id::bigint > 0 AND :small::int > 0
            AND :ratio::float8 > 0 AND :status::text <> '' AND :title::text <> '' AND :note::text <> ''
            AND :now::timestamptz IS NOT NULL
    affects: {}
`

// openParams loads paramsPack and opens its parameters with seed.
func openParams(t *testing.T, pool *pgxpool.Pool, seed uint64) (*pack.Params, string) {
	t.Helper()
	p := mustLoad(t, writePack(t, paramsPack, baseSchema))
	schema := loadInto(t, pool, p, workload.Dataset{Seed: 1, Today: today})
	ps, err := p.OpenParams(t.Context(), pool, schema, seed)
	if err != nil {
		t.Fatal(err)
	}
	return ps, schema
}

// allNames are the names paramsPack's command draws.
var allNames = []string{"customer", "hot", "new_order", "order.id", "order.customer_id", "small", "ratio", "status", "title", "note"}

// draws draws allNames n times.
func draws(t *testing.T, ps *pack.Params, n int) [][]any {
	t.Helper()
	out := make([][]any, n)
	for i := range out {
		v, err := ps.Draw(allNames)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = v
	}
	return out
}

// TestDrawDeterministic opens the parameters twice with one seed and once
// with another: the first two draw the same values, the third others.
func TestDrawDeterministic(t *testing.T) {
	pool := shared.Pool(t)
	a, schema := openParams(t, pool, 42)
	p := mustLoad(t, writePack(t, paramsPack, baseSchema))
	b, err := p.OpenParams(t.Context(), pool, schema, 42)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.OpenParams(t.Context(), pool, schema, 43)
	if err != nil {
		t.Fatal(err)
	}
	da, db, dc := fmt.Sprint(draws(t, a, 500)), fmt.Sprint(draws(t, b, 500)), fmt.Sprint(draws(t, c, 500))
	if da != db {
		t.Errorf("two Params with seed 42 draw different values")
	}
	if da == dc {
		t.Errorf("seeds 42 and 43 draw the same values")
	}
}

// TestDrawDistributions checks each source's values and their shape,
// loosely: uniform picks spread evenly, zipf picks favour the first keys,
// ranges stay in bounds with their type, lists follow their weights, a
// where: is obeyed and words and text have their lengths.
func TestDrawDistributions(t *testing.T) {
	pool := shared.Pool(t)
	ps, schema := openParams(t, pool, 7)
	const n = 20000
	count := map[string]map[any]int{}
	for _, name := range allNames {
		count[name] = map[any]int{}
	}
	for _, v := range draws(t, ps, n) {
		for i, name := range allNames {
			count[name][v[i]]++
		}
	}
	// customer: uniform over 20 keys, about 1000 each.
	if len(count["customer"]) != 20 {
		t.Errorf("customer: %d distinct keys drawn, want all 20", len(count["customer"]))
	}
	for k, c := range count["customer"] {
		if c < 700 || c > 1300 {
			t.Errorf("customer %v drawn %d times of %d, want about %d", k, c, n, n/20)
		}
	}
	// hot: zipf s=1.5 over the key order: key 1 about 38%, key 20 rare.
	if first, last := count["hot"][int64(1)], count["hot"][int64(20)]; first < n/4 || last > first/20 {
		t.Errorf("hot: key 1 drawn %d times, key 20 %d: want zipf's first key most (~38%%) and the last rarely", first, last)
	}
	for v := range count["small"] {
		if x, ok := v.(int64); !ok || x < 1 || x > 4 {
			t.Errorf("small drew %v (%T), want an int64 in [1, 4]", v, v)
		}
	}
	if len(count["small"]) != 4 {
		t.Errorf("small drew %d distinct values, want 4", len(count["small"]))
	}
	for v := range count["ratio"] {
		if x, ok := v.(float64); !ok || x < 0.5 || x >= 2 {
			t.Errorf("ratio drew %v (%T), want a float64 in [0.5, 2)", v, v)
		}
	}
	if f := float64(count["status"]["new"]) / n; f < 0.72 || f > 0.78 {
		t.Errorf("status: new drawn %.3f of the time, want 0.75 (weights 3:1)", f)
	}
	for v := range count["title"] {
		if w := len(strings.Fields(v.(string))); w < 2 || w > 4 {
			t.Errorf("title %q has %d words, want 2 to 4", v, w)
		}
	}
	for v := range count["note"] {
		if l := len(v.(string)); l < 10 || l > 30 {
			t.Errorf("note %q has %d characters, want 10 to 30", v, l)
		}
	}
	// new_order: only orders whose status is new.
	var ids []int64
	for v := range count["new_order"] {
		ids = append(ids, v.(int64))
	}
	var wrong, all int
	if err := pool.QueryRow(t.Context(), "SELECT count(*) FILTER (WHERE status <> 'new'), count(*) FROM "+schema+".orders WHERE id = ANY($1)", ids).Scan(&wrong, &all); err != nil {
		t.Fatal(err)
	}
	var news int
	if err := pool.QueryRow(t.Context(), "SELECT count(*) FROM "+schema+".orders WHERE status = 'new'").Scan(&news); err != nil {
		t.Fatal(err)
	}
	if wrong != 0 || all != len(ids) || len(ids) != news {
		t.Errorf("new_order drew %d keys, %d of them not new, %d not found; want all %d new orders", len(ids), wrong, len(ids)-all, news)
	}
}

// TestDrawTuplesConsistent draws a tuple's columns from many goroutines
// and checks every (id, customer_id) pair is a row of orders, and that
// within one Draw every use of a pick takes one value.
func TestDrawTuplesConsistent(t *testing.T) {
	pool := shared.Pool(t)
	ps, schema := openParams(t, pool, 3)
	rows, err := pool.Query(t.Context(), "SELECT id, customer_id FROM "+schema+".orders")
	if err != nil {
		t.Fatal(err)
	}
	owner := map[int64]int64{}
	for rows.Next() {
		var id, c int64
		if err := rows.Scan(&id, &c); err != nil {
			t.Fatal(err)
		}
		owner[id] = c
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for range 8 {
		wg.Go(func() {
			for range 2000 {
				v, err := ps.Draw([]string{"order.customer_id", "customer", "order.id", "customer"})
				if err != nil {
					errs <- err.Error()
					return
				}
				if owner[v[2].(int64)] != v[0].(int64) {
					errs <- fmt.Sprintf("drew order %v with customer %v; its customer is %v", v[2], v[0], owner[v[2].(int64)])
					return
				}
				if v[1] != v[3] {
					errs <- fmt.Sprintf("customer drawn twice in one Draw: %v and %v", v[1], v[3])
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	if _, err := ps.Draw([]string{"order"}); err == nil {
		t.Errorf("Draw of a tuple's bare name: no error")
	}
	v, err := ps.Draw([]string{pack.BuiltinNow})
	if err != nil {
		t.Fatal(err)
	}
	if now, ok := v[0].(time.Time); !ok || time.Since(now) > time.Minute {
		t.Errorf("now drew %v, want the current time", v[0])
	}
}

// TestLearn adds keys to a pick's pool: they are drawn, the pool stops
// growing at LearnCap learned values, and names that are not a one-column
// pick are left alone.
func TestLearn(t *testing.T) {
	pool := shared.Pool(t)
	ps, _ := openParams(t, pool, 5)
	if got := ps.Len("customer"); got != 20 {
		t.Fatalf("customer pool: %d, want the 20 customers", got)
	}
	ps.Learn("customer", int64(1_000_001))
	seen := false
	for range 5000 {
		v, _ := ps.Draw([]string{"customer"})
		seen = seen || v[0] == int64(1_000_001)
	}
	if !seen {
		t.Errorf("a learned key was never drawn in 5000 draws from a pool of 21")
	}
	for i := range pack.LearnCap + 10 {
		ps.Learn("customer", int64(2_000_000+i))
	}
	if got := ps.Len("customer"); got != 20+pack.LearnCap {
		t.Errorf("customer pool: %d after %d learned values, want 20 + LearnCap = %d", got, pack.LearnCap+11, 20+pack.LearnCap)
	}
	ps.Learn("order.id", int64(5))
	ps.Learn("small", int64(5))
	if got := ps.Len("order.id"); got != 60 {
		t.Errorf("order tuple pool: %d after Learn, want its 60 rows: a tuple learns nothing", got)
	}
}

// TestPickSampleIsCapped picks from a table larger than PickSample: the
// pool holds evenly spaced keys, from the first.
func TestPickSampleIsCapped(t *testing.T) {
	pool := shared.Pool(t)
	yaml := `name: x
schema: schema.sql
data:
  tables:
    customers: {rows: 250000, columns: {name: {expr: "'c'"}}}
parameters:
  customer: {pick: customers.id}
commands:
  touch:
    statements:
      - sql: UPDATE customers SET name = name WHERE id = :customer RETURNING id
    affects: {}
`
	p := mustLoad(t, writePack(t, yaml, baseSchema))
	schema := loadInto(t, pool, p, workload.Dataset{Seed: 1, Today: today})
	ps, err := p.OpenParams(t.Context(), pool, schema, 1)
	if err != nil {
		t.Fatal(err)
	}
	// step ceil(250000 / 100000) = 3: keys 1, 4, 7, …
	if got, want := ps.Len("customer"), (250000+2)/3; got != want {
		t.Errorf("pool of %d keys, want %d (every third of 250,000)", got, want)
	}
	for range 1000 {
		v, _ := ps.Draw([]string{"customer"})
		if k := v[0].(int64); (k-1)%3 != 0 {
			t.Fatalf("drew key %d, not one of the evenly spaced sample 1, 4, 7, …", k)
		}
	}
}

// arrayPack draws an order's lines: an array of (order tuple, quantity)
// elements, 1 to 4 of them.
const arrayPack = opsHead + `parameters:
  order: {pick: {table: orders, columns: [id, customer_id]}}
  qty: {range: [1, 3]}
  items: {array: [order, qty], length: {min: 1, max: 4}}
commands:
  lines:
    statements:
      - sql: |
          SELECT count(*) AS n FROM unnest(:items.id::bigint[], :items.customer_id::bigint[], :items.qty::int[]) AS t(id, customer_id, qty)
          JOIN orders o ON o.id = t.id AND o.customer_id = t.customer_id
          WHERE t.qty BETWEEN 1 AND 3
    affects: {}
`

// TestDrawArrays draws an array parameter: its columns have one length,
// in its bounds, varying; each element's tuple columns come from one row;
// and pgx sends the []any columns as PostgreSQL arrays.
func TestDrawArrays(t *testing.T) {
	pool := shared.Pool(t)
	p := mustLoad(t, writePack(t, arrayPack, baseSchema))
	if got := p.Parameters[2].Names(); strings.Join(got, ",") != "items.id,items.customer_id,items.qty" {
		t.Fatalf("array names: %v", got)
	}
	schema := loadInto(t, pool, p, workload.Dataset{Seed: 1, Today: today})
	ps, err := p.OpenParams(t.Context(), pool, schema, 5)
	if err != nil {
		t.Fatal(err)
	}
	lengths := map[int]bool{}
	for range 200 {
		v, err := ps.Draw([]string{"items.qty", "items.id", "items.customer_id"})
		if err != nil {
			t.Fatal(err)
		}
		qty, ids, custs := v[0].([]any), v[1].([]any), v[2].([]any)
		if len(qty) != len(ids) || len(ids) != len(custs) || len(ids) < 1 || len(ids) > 4 {
			t.Fatalf("array columns of lengths %d, %d, %d; want one length in [1, 4]", len(qty), len(ids), len(custs))
		}
		lengths[len(ids)] = true
		var n int
		if err := pool.QueryRow(t.Context(), `SELECT count(*) FROM unnest($1::bigint[], $2::bigint[], $3::int[]) AS t(id, customer_id, qty)
			JOIN `+schema+`.orders o ON o.id = t.id AND o.customer_id = t.customer_id WHERE t.qty BETWEEN 1 AND 3`, ids, custs, qty).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != len(ids) {
			t.Fatalf("%d of %d elements are an order with its customer and a quantity in [1, 3]: %v %v %v", n, len(ids), ids, custs, qty)
		}
	}
	if len(lengths) < 3 {
		t.Errorf("lengths drawn: %v; want most of 1..4", lengths)
	}
}
