package runner

import (
	"context"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkExecute measures a worker's own overhead per operation: two clock
// reads, counters and two histogram records around a no-op.
func BenchmarkExecute(b *testing.B) {
	r, err := New(Config{Rate: 1, Duration: time.Second, Concurrency: 1},
		[]Op{{Name: "op", Weight: 1, Do: func(context.Context) error { return nil }}})
	if err != nil {
		b.Fatal(err)
	}
	rn := newRun(r)
	rn.start = rn.clk.Now()
	w := rn.workers[0]
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		now := rn.clk.Now()
		w.execute([2]context.Context{ctx, ctx}, rn, job{intended: now}, now)
	}
}

// benchRun runs cfg until b.N no-op operations have started, then cancels
// the run: the time per operation is the whole per-operation cost of the
// runner (schedule, mix, hand-off, recording) with a system that takes no
// time.
func benchRun(b *testing.B, cfg Config) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var n atomic.Int64
	target := int64(b.N)
	op := func(name string, w float64) Op {
		return Op{Name: name, Weight: w, Do: func(context.Context) error {
			if n.Add(1) == target {
				cancel()
			}
			return nil
		}}
	}
	r, err := New(cfg, []Op{op("list_orders", 8), op("create_order", 1), op("confirm_order", 1)})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	res, _ := r.Run(ctx)
	b.StopTimer()
	if res.Counts.Issued+res.Warmup.Issued < target {
		b.Fatalf("issued %d of %d", res.Counts.Issued, target)
	}
}

// BenchmarkOpen drives an open run at a rate no system meets (10^9/s), so
// the dispatcher hands operations to workers as fast as it can.
func BenchmarkOpen(b *testing.B) {
	for _, workers := range []int{1, 4, 64} {
		b.Run(strconv.Itoa(workers)+"workers", func(b *testing.B) {
			benchRun(b, Config{Rate: 1e9, Duration: time.Hour, Concurrency: workers, ProgressEvery: 100 * time.Millisecond})
		})
	}
}

// BenchmarkClosed drives a closed run: workers loop back to back.
func BenchmarkClosed(b *testing.B) {
	for _, workers := range []int{1, 4} {
		b.Run(strconv.Itoa(workers)+"workers", func(b *testing.B) {
			benchRun(b, Config{Mode: ModeClosed, Duration: time.Hour, Concurrency: workers, ProgressEvery: 100 * time.Millisecond})
		})
	}
}
