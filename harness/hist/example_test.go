package hist_test

import (
	"fmt"
	"sync"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/hist"
)

// Example records from two workers, ticks, and saves the histogram.
func Example() {
	reg := hist.NewRegistry()
	var wg sync.WaitGroup
	for w := range 2 {
		rec := reg.NewRecorder() // one per worker
		lat := rec.Handle("crud/list_orders")
		svc := rec.Handle(hist.ServiceKey("crud/list_orders"))
		wg.Go(func() {
			for i := 1; i <= 500; i++ {
				d := time.Duration(w*500+i) * time.Microsecond
				lat.Record(d + 100*time.Microsecond) // queueing included
				svc.Record(d)
			}
		})
	}
	wg.Wait()

	interval := reg.Tick()
	s := interval["crud/list_orders"]
	fmt.Println("interval:", s.Count, s.P50, s.P99, s.Max)
	total := reg.Cumulative()[hist.ServiceKey("crud/list_orders")]
	fmt.Println("service:", total.Count, total.P50, total.P99)

	enc, _ := s.Encode()
	back, _ := hist.DecodeSnapshot(enc, s.Clamped)
	fmt.Println("decoded:", back.Count, back.P99 == s.P99)
	// Output:
	// interval: 1000 600µs 1.09ms 1.1ms
	// service: 1000 500µs 990µs
	// decoded: 1000 true
}
