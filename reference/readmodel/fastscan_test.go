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
