package reference_test

import (
	"math/rand/v2"
	"os"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/cqrssync"
	"github.com/cqrsbench/cqrsbench/reference/crud"
	"github.com/cqrsbench/cqrsbench/reference/datagen"
)

// BenchmarkListOrders compares list_orders on the normalized tables (crud)
// with the flat read model (cqrs-sync), 4 concurrent clients, random
// customers. Dataset size: CQRSBENCH_BENCH_ORDERS (default 100,000), e.g.
//
//	CQRSBENCH_BENCH_ORDERS=1000000 go test -run '^$' -bench ListOrders -benchtime 20s ./reference/
//
// The harness (cqrsbench run) is the tool for open-model latency; this is a
// closed-loop throughput figure, like pgbench.
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
	for _, name := range []string{reference.CRUD, reference.CQRSSync} {
		schema := reference.SchemaOf(name)
		start := time.Now()
		if _, err := datagen.Load(ctx, pool, schema, data, nil); err != nil {
			b.Fatal(err)
		}
		var sys reference.System
		var err error
		if name == reference.CRUD {
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
			var seed atomic.Uint64
			b.SetParallelism(2) // 2 × GOMAXPROCS(2) = 4 clients
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				rng := rand.New(rand.NewPCG(seed.Add(1), 99))
				for pb.Next() {
					if _, err := sys.ListOrders(ctx, 1+rng.Int64N(customers)); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
