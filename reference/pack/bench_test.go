package pack_test

import (
	"os"
	"strconv"
	"testing"

	"github.com/cqrsbench/cqrsbench/reference/datagen"
	"github.com/cqrsbench/cqrsbench/reference/pack"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// benchRows is the number of parent rows (the pack's customers, the shop's
// orders) the load benchmarks generate: $CQRSBENCH_BENCH_ROWS, default one
// million.
func benchRows(b *testing.B) int {
	if s := os.Getenv("CQRSBENCH_BENCH_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			b.Fatalf("CQRSBENCH_BENCH_ROWS=%q: want a number of rows > 0", s)
		}
		return n
	}
	return 1_000_000
}

// BenchmarkLoad measures whole loads (create, COPY, keys, indexes, foreign
// keys, ANALYZE) in rows per second: pack loads testdata/bench (customers
// and about two orders each), shop the order shop's loader
// (reference/datagen) on the same database, for comparison. Run them
// alternately to compare on a noisy machine:
//
//	for i in 1 2; do for w in pack shop; do
//	  go test ./reference/pack -run '^$' -bench "Load/$w" -benchtime 1x; done; done
func BenchmarkLoad(b *testing.B) {
	pool := shared.Pool(b)
	rows := benchRows(b)
	b.Run("pack", func(b *testing.B) {
		p := mustLoad(b, "testdata/bench")
		ds := workload.Dataset{Rows: rows, Seed: 1, Today: today}
		pl, err := p.Inspect(b.Context(), pool, ds)
		if err != nil {
			b.Fatal(err)
		}
		var loaded, ns float64
		for b.Loop() {
			schema := shared.FreshSchema(b, pool, "bench")
			st, err := pl.Load(b.Context(), pool, schema, pack.DefaultWorkers)
			if err != nil {
				b.Fatal(err)
			}
			loaded += float64(st.Rows)
			ns += float64(st.Total.Nanoseconds())
		}
		b.ReportMetric(loaded/(ns/1e9), "rows/s")
	})
	b.Run("shop", func(b *testing.B) {
		var loaded, ns float64
		for b.Loop() {
			schema := shared.FreshSchema(b, pool, "bench")
			st, err := datagen.Load(b.Context(), pool, schema, datagen.Config{Orders: rows, Seed: 1, Today: today}, nil)
			if err != nil {
				b.Fatal(err)
			}
			for _, t := range st.Tables {
				loaded += float64(t.Rows)
			}
			ns += float64(st.Total.Nanoseconds())
		}
		b.ReportMetric(loaded/(ns/1e9), "rows/s")
	})
}
