package reference_test

import (
	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/hist"
	"github.com/cqrsbench/cqrsbench/reference/cqrssync"
	"github.com/cqrsbench/cqrsbench/reference/crud"
	"github.com/cqrsbench/cqrsbench/reference/datagen"
	"github.com/cqrsbench/cqrsbench/reference/shop"
)

// BenchmarkListOrders compares list_orders on the normalized tables (crud)
// with the flat read model (cqrs-sync), 4 concurrent clients, random
// customers. Dataset size: CQRSBENCH_BENCH_ORDERS (default 100,000), e.g.
//
//	CQRSBENCH_BENCH_ORDERS=1000000 go test -run '^$' -bench ListOrders -benchtime 20s ./reference/
//
// The harness (cqrsbench run) is the tool for open-model latency; this is a
// closed-loop figure, like pgbench: ns/op is throughput across the 4
// clients, p50-µs and p99-µs the service time of one call.
func BenchmarkListOrders(b *testing.B) {
	orders := 100_000
	if v := os.Getenv("CQRSBENCH_BENCH_ORDERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatalf("CQRSBENCH_BENCH_ORDERS=%q: %v", v, err)
		}
		orders = n
	}
	pool := postgres(b)
	ctx := b.Context()
	data := datagen.Config{Orders: orders, Seed: 1}
	customers := int64(data.WithDefaults().Customers)
	for _, name := range []string{crud.Name, cqrssync.Name} {
		schema := catalog.MustLookup(name).Schema
		start := time.Now()
		if _, err := datagen.Load(ctx, pool, schema, data, nil); err != nil {
			b.Fatal(err)
		}
		var sys shop.Architecture
		var err error
		if name == crud.Name {
			sys, err = crud.New(pool, schema)
		} else {
			sys, err = cqrssync.New(pool, schema)
		}
		if err != nil {
			b.Fatal(err)
		}
		if err := sys.Setup(ctx); err != nil {
			b.Fatal(err)
		}
		b.Logf("%s: %d orders loaded and set up in %v", name, orders, time.Since(start).Round(time.Millisecond))
		b.Run(name, func(b *testing.B) {
			var (
				seed  atomic.Uint64
				mu    sync.Mutex
				calls []hist.Snapshot
			)
			b.SetParallelism(2) // 2 × GOMAXPROCS(2) = 4 clients
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				rng := rand.New(rand.NewPCG(seed.Add(1), 99))
				h := hist.New()
				defer func() {
					mu.Lock()
					defer mu.Unlock()
					calls = append(calls, hist.Merge(hist.Snapshot{Hist: h}))
				}()
				for pb.Next() {
					began := time.Now()
					if _, err := sys.ListOrders(ctx, 1+rng.Int64N(customers)); err != nil {
						b.Error(err)
						return
					}
					us, _ := hist.Micros(time.Since(began))
					_ = h.RecordValue(us)
				}
			})
			b.StopTimer()
			all := hist.Merge(calls...)
			b.ReportMetric(float64(all.P50.Microseconds()), "p50-µs")
			b.ReportMetric(float64(all.P99.Microseconds()), "p99-µs")
		})
	}
}
