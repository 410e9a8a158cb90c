package readmodel

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
	"github.com/cqrsbench/cqrsbench/internal/pgtest"
	"github.com/cqrsbench/cqrsbench/reference/datagen"
)

var shared = pgtest.NewShared(pglocal.Options{Settings: map[string]string{"shared_buffers": "128MB"}})

func TestMain(m *testing.M) {
	code := m.Run()
	shared.Close()
	os.Exit(code)
}

// TestFastScanMatchesPgxScan checks the hand-written binary decoding of
// summary rows against pgx's own, on every order of a generated dataset.
func TestFastScanMatchesPgxScan(t *testing.T) {
	pool := shared.Pool(t)
	ctx := t.Context()
	schema := shared.FreshSchema(t, pool, "fastscan")
	if _, err := datagen.Load(ctx, pool, schema, datagen.Config{Orders: 3000, Seed: 3}, nil); err != nil {
		t.Fatal(err)
	}
	query := Expand(strings.ReplaceAll(SummarySQL, "{{orders}}", "{{schema}}.orders")+" ORDER BY o.id", schema)
	var got [2][]any
	for i, fast := range []bool{true, false} {
		rows, err := pool.Query(ctx, "SELECT order_id, number, created_at, status, status_label, total_cents, item_count, first_image_url, version FROM ("+query+") s")
		if err != nil {
			t.Fatal(err)
		}
		if fast && !fastSummaries(rows) {
			rows.Close()
			t.Fatal("summary rows do not come in the binary formats the fast path reads")
		}
		out, err := scanSummaries(rows, fast)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != 3000 {
			t.Fatalf("%d rows, want 3000", len(out))
		}
		for _, s := range out {
			got[i] = append(got[i], s)
		}
	}
	for i := range got[0] {
		a, b := got[0][i], got[1][i]
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("row %d: fast %+v, pgx %+v", i, a, b)
		}
	}
}

// TestSummaryQueryMatchesPgxScan checks SummaryQuery's wire-level path
// (ExecStatement, hand decoding, free text cut from one string) against
// pgx's Query and Scan, for customers with no, one and many orders.
func TestSummaryQueryMatchesPgxScan(t *testing.T) {
	pool := shared.Pool(t)
	ctx := t.Context()
	schema := shared.FreshSchema(t, pool, "summaryq")
	if _, err := datagen.Load(ctx, pool, schema, datagen.Config{Orders: 3000, Customers: 200, Seed: 5}, nil); err != nil {
		t.Fatal(err)
	}
	if err := Create(ctx, pool, schema); err != nil {
		t.Fatal(err)
	}
	if err := Backfill(ctx, pool, schema); err != nil {
		t.Fatal(err)
	}
	q := NewQueries(schema)
	sql := Expand(listSQL, schema)
	for _, customer := range []int64{0, 1, 2, 77, 200} {
		got, err := q.ListOrders(ctx, pool, customer)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := pool.Query(ctx, sql, customer)
		if err != nil {
			t.Fatal(err)
		}
		want, err := scanSummaries(rows, false)
		if err != nil {
			t.Fatal(err)
		}
		if customer != 0 && len(want) == 0 {
			t.Fatalf("customer %d has no orders; the test needs some", customer)
		}
		if len(got) != len(want) || len(got) > 0 && !reflect.DeepEqual(got, want) {
			t.Fatalf("customer %d: SummaryQuery %+v, pgx %+v", customer, got, want)
		}
	}
}

// TestSummaryQueryRejectsOtherColumns checks that a SummaryQuery whose SQL
// does not return summary rows fails rather than decoding garbage.
func TestSummaryQueryRejectsOtherColumns(t *testing.T) {
	pool := shared.Pool(t)
	q := NewSummaryQuery("cqrsbench_test_not_summaries", "SELECT $1::bigint AS id")
	if _, err := q.Run(t.Context(), pool, 1); err == nil || !strings.Contains(err.Error(), "want the 9 of a summary row") {
		t.Fatalf("err = %v, want a column count error", err)
	}
}
