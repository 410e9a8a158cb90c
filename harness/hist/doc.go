// Package hist records latencies into HdrHistograms, one per name, from
// many workers at once, and summarises them as Snapshots.
//
// Values are microseconds from 1 µs to one hour (MaxValue) with 3
// significant digits; a larger value is recorded as MaxValue and counted in
// Snapshot.Clamped, never dropped. Names follow go-tpc: "crud/list_orders"
// holds the latency from the intended start of successful operations,
// ServiceKey("crud/list_orders") their plain service time, and
// ErrKey("crud/list_orders") the latency of failed ones.
//
// # Usage
//
//	reg := hist.NewRegistry()
//	for range workers {
//		rec := reg.NewRecorder() // one per worker, never shared
//		h := rec.Handle("crud/list_orders")
//		go func() {
//			for ... {
//				h.Record(time.Since(intended))
//			}
//		}()
//	}
//	for range ticker.C {
//		for name, s := range reg.Tick() { // the last interval
//			fmt.Println(name, s.Count, s.P50, s.P99)
//		}
//	}
//	reg.Tick()
//	totals := reg.Cumulative() // everything, per name
//	enc, _ := totals["crud/list_orders"].Encode() // for results JSON
//
// # Design
//
// The model is CockroachDB's pkg/workload/histogram: each worker owns a
// Recorder, and the Recorder a Handle per name. A Handle holds the
// histogram being recorded and a spare, guarded by the Handle's own mutex,
// which only two goroutines ever take: the owning worker, once per record,
// and the ticker, once per Tick to swap the two histograms. So workers share
// no lock while recording, the lock is uncontended except for a pointer swap
// per tick, and Tick merges the swapped-out histogram into the interval and
// cumulative totals after releasing it. The Registry's lock is taken only by
// Tick, Cumulative and the first record of a name by a Recorder.
//
// We chose a mutex per Handle over lock-free alternatives (an atomic
// pointer swap with a grace period, or per-bucket atomics) because an
// uncontended mutex costs about as much as one atomic operation and makes
// the swap obviously correct under the race detector.
//
// Per-worker histograms are hdrhistogram's PackedHistogram, whose memory
// grows with the buckets populated (a few KB) rather than the ~190 KB of a
// dense one at this range: a run keeps two per worker per name (dozens of
// workers times operations times three keys), which dense histograms would
// make hundreds of MB. Recording into one is a short binary search, a few
// tens of nanoseconds, negligible against a database round trip; merging
// costs time proportional to populated buckets, not to the range.
// Snapshot.Dense converts to a dense histogram where one is wanted.
package hist
