package rabbitmq_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/pipeline/rabbitmq"
)

// BenchmarkPublish publishes eventSize-byte messages in batches, waiting
// for every confirm, from callers concurrent callers of one Publisher
// ("mutex": the callers take turns, so they share one channel).
func BenchmarkPublish(b *testing.B) {
	for _, bc := range []struct {
		batch, callers int
		mutex          bool
	}{
		{100, 1, false}, {1000, 1, false}, {100, 4, false}, {100, 4, true},
	} {
		name := fmt.Sprintf("batch=%d/callers=%d", bc.batch, bc.callers)
		if bc.mutex {
			name += "/mutex"
		}
		b.Run(name, func(b *testing.B) {
			cfg := testConfig(b)
			cfg.OnError = nil
			p := newPublisher(b, cfg)
			batch := msgs(bc.batch)
			var mu sync.Mutex
			var sent atomic.Int64
			b.SetBytes(eventSize)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for range bc.callers {
				wg.Go(func() {
					for sent.Add(int64(bc.batch)) <= int64(b.N)+int64(bc.batch)-1 {
						if bc.mutex {
							mu.Lock()
						}
						err := p.Publish(context.Background(), batch)
						if bc.mutex {
							mu.Unlock()
						}
						if err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			pc := p.Counters()
			b.ReportMetric(float64(pc.Confirmed)/time.Since(start).Seconds(), "events/s")
		})
	}
}

// BenchmarkDrain consumes a backlog of 100,000 eventSize-byte messages with
// a handler that does nothing: the transport's ceiling. Run it with
// -benchtime=1x (each iteration publishes the backlog first, untimed).
func BenchmarkDrain(b *testing.B) {
	const backlogSize = 100_000
	for _, workers := range []int{1, 4} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			cfg := testConfig(b)
			cfg.OnError = nil
			cfg.Workers = workers
			p := newPublisher(b, cfg)
			all := msgs(backlogSize)
			var elapsed time.Duration
			var batches int64
			for range b.N {
				b.StopTimer()
				publishAll(b, p, all, 1000, 4)
				var acked atomic.Int64
				done := make(chan struct{})
				c, err := rabbitmq.NewConsumer(cfg, func(_ context.Context, batch []rabbitmq.Delivery) ([]int, error) {
					if acked.Add(int64(len(batch))) == backlogSize {
						close(done)
					}
					return nil, nil
				})
				if err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				start := time.Now()
				if err := c.Start(context.Background()); err != nil {
					b.Fatal(err)
				}
				select {
				case <-done:
				case <-time.After(5 * time.Minute):
					b.Fatalf("drained %d of %d in 5 minutes", acked.Load(), backlogSize)
				}
				elapsed += time.Since(start)
				b.StopTimer()
				closeConsumer(b, c)
				batches += c.Counters().Batches
			}
			b.ReportMetric(float64(backlogSize*b.N)/elapsed.Seconds(), "events/s")
			b.ReportMetric(float64(backlogSize*b.N)/float64(batches), "events/batch")
		})
	}
}
