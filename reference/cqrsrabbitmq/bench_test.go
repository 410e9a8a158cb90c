package cqrsrabbitmq_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/cqrsrabbitmq"
	"github.com/cqrsbench/cqrsbench/reference/readmodel"
)

// benchVersionsEnv sets the versions per order of the benchmarks' backlog
// (fillOrders orders each): default 1,011, about 100,000 events.
const benchVersionsEnv = "CQRSBENCH_BENCH_VERSIONS"

func benchVersions(b *testing.B) int {
	b.Helper()
	if v := os.Getenv(benchVersionsEnv); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("%s=%q: want a positive number", benchVersionsEnv, v)
		}
		return n
	}
	return 1_011
}

// BenchmarkPipeline measures, on real PostgreSQL and RabbitMQ, with 1 and
// 4 workers: the relay publishing a backlog of about 100,000 outbox rows
// with publisher confirms while the workers are paused (relay-rows/s: from
// the start of the one INSERT that writes the rows until the outbox is
// empty), then the workers draining it
// from the queue through the projection core (catch-up-events/s: from
// their resumption until WaitCaughtUp returns).
func BenchmarkPipeline(b *testing.B) {
	versions := benchVersions(b)
	n := versions * fillOrders
	for _, workers := range []int{1, 4} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				f := newFixture(b, 1_000, func(c *cqrsrabbitmq.Config) { c.AMQP.Workers = workers })
				ctx := b.Context()
				if err := f.sys.PauseProjector(ctx); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				began := time.Now()
				f.fill(b, versions)
				f.awaitOutboxEmpty(b)
				relayed := time.Since(began)
				resumed := time.Now()
				if err := f.sys.ResumeProjector(); err != nil {
					b.Fatal(err)
				}
				wctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
				err := f.sys.WaitCaughtUp(wctx)
				cancel()
				caughtUp := time.Since(resumed)
				b.StopTimer()
				if err != nil {
					b.Fatal(err)
				}
				st := f.sys.PipelineStats()
				if st.Applied != int64(n) {
					b.Fatalf("applied %d events, want %d", st.Applied, n)
				}
				b.ReportMetric(float64(n)/relayed.Seconds(), "relay-rows/s")
				b.ReportMetric(float64(n)/caughtUp.Seconds(), "catch-up-events/s")
				b.Logf("%d events: relayed with confirms in %s, applied by %d workers in %s", n,
					relayed.Round(time.Millisecond), workers, caughtUp.Round(time.Millisecond))
				b.StartTimer()
			}
		})
	}
}

// awaitOutboxEmpty returns once the relays have published and deleted every
// outbox row, checking every 10 ms.
func (f *fixture) awaitOutboxEmpty(b testing.TB) {
	b.Helper()
	q := readmodel.Expand(`SELECT NOT EXISTS (SELECT 1 FROM {{schema}}.outbox)`, f.schema)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		var empty bool
		if err := f.pool.QueryRow(b.Context(), q).Scan(&empty); err != nil {
			b.Fatal(err)
		}
		if empty {
			return
		}
		select {
		case <-b.Context().Done():
			b.Fatal(b.Context().Err())
		case <-tick.C:
		}
	}
}
