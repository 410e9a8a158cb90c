package hist_test

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/cqrsbench/cqrsbench/harness/hist"
)

func TestMicros(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		d       time.Duration
		want    int64
		clamped bool
	}{
		{"zero", 0, 0, false},
		{"negative", -time.Second, 0, false},
		{"sub-microsecond rounds up", time.Nanosecond, 1, false},
		{"exact microsecond", time.Microsecond, 1, false},
		{"fraction rounds up", 1500 * time.Nanosecond, 2, false},
		{"ten ms", 10 * time.Millisecond, 10_000, false},
		{"max", time.Hour, hist.MaxValue, false},
		{"above max is clamped", time.Hour + time.Microsecond, hist.MaxValue, true},
		{"far above max is clamped", 1000 * time.Hour, hist.MaxValue, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, clamped := hist.Micros(tt.d)
			if got != tt.want || clamped != tt.clamped {
				t.Errorf("Micros(%v) = %d, %v; want %d, %v", tt.d, got, clamped, tt.want, tt.clamped)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"crud/list_orders", "crud/list_orders"},
		{hist.ServiceKey("crud/list_orders"), "crud/list_orders"},
		{hist.ErrKey("crud/list_orders"), "crud/list_orders"},
		{"crud/list_orders/service", "crud/list_orders"},
		{"crud/list_orders/ERR", "crud/list_orders"},
	}
	for _, tt := range tests {
		if got := hist.BaseKey(tt.in); got != tt.want {
			t.Errorf("BaseKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestRegistryConcurrent records known values from many workers while a
// ticker ticks, and checks that counts are exact and percentiles right, in
// total and summed over the intervals.
func TestRegistryConcurrent(t *testing.T) {
	t.Parallel()
	const (
		workers = 8
		rounds  = 50
	)
	names := []string{"a", "b"}
	reg := hist.NewRegistry()

	var (
		mu       sync.Mutex
		interval = map[string]int64{}
	)
	tick := func() {
		for name, s := range reg.Tick() {
			mu.Lock()
			interval[name] += s.Count
			mu.Unlock()
		}
	}
	stop := make(chan struct{})
	tickerDone := make(chan struct{})
	go func() {
		defer close(tickerDone)
		for {
			select {
			case <-stop:
				return
			default:
				tick()
			}
		}
	}()

	var wg sync.WaitGroup
	for range workers {
		rec := reg.NewRecorder()
		wg.Go(func() {
			for range rounds {
				for _, name := range names {
					h := rec.Handle(name)
					for v := 1; v <= 1000; v++ {
						h.Record(time.Duration(v) * time.Microsecond)
					}
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	<-tickerDone
	tick() // flush what the ticker had not seen

	const want = workers * rounds * 1000
	totals := reg.Cumulative()
	for _, name := range names {
		s := totals[name]
		if s.Count != want {
			t.Errorf("%s: cumulative count %d, want %d", name, s.Count, want)
		}
		if interval[name] != want {
			t.Errorf("%s: interval counts sum to %d, want %d", name, interval[name], want)
		}
		// Values below 2048 µs are exact at 3 significant digits.
		checks := []struct {
			what      string
			got, want time.Duration
		}{
			{"min", s.Min, time.Microsecond},
			{"max", s.Max, 1000 * time.Microsecond},
			{"p50", s.P50, 500 * time.Microsecond},
			{"p90", s.P90, 900 * time.Microsecond},
			{"p99", s.P99, 990 * time.Microsecond},
			{"p99.9", s.P999, 999 * time.Microsecond},
			{"mean", s.Mean, 500500 * time.Nanosecond},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("%s: %s = %v, want %v", name, c.what, c.got, c.want)
			}
		}
	}
}

func TestTickIntervals(t *testing.T) {
	t.Parallel()
	reg := hist.NewRegistry()
	rec := reg.NewRecorder()
	rec.Record("op", time.Millisecond)
	rec.Record("op", 2*time.Millisecond)

	first := reg.Tick()["op"]
	if first.Count != 2 || first.Max != 2*time.Millisecond {
		t.Fatalf("first interval: count %d max %v, want 2 and 2ms", first.Count, first.Max)
	}
	// An idle interval is empty but still reported.
	idle, ok := reg.Tick()["op"]
	if !ok || idle.Count != 0 || idle.P99 != 0 {
		t.Fatalf("idle interval: %+v (present %v), want empty", idle, ok)
	}
	rec.Record("op", 3*time.Millisecond)
	if got := reg.Cumulative()["op"].Count; got != 2 {
		t.Errorf("cumulative before tick: %d, want 2 (recorded since last tick not included)", got)
	}
	third := reg.Tick()["op"]
	if third.Count != 1 || third.Min != 3*time.Millisecond {
		t.Errorf("third interval: count %d min %v, want 1 and 3ms", third.Count, third.Min)
	}
	total := reg.Cumulative()["op"]
	if total.Count != 3 || total.Min != time.Millisecond || !within(total.Max, 3*time.Millisecond) {
		t.Errorf("cumulative: count %d min %v max %v", total.Count, total.Min, total.Max)
	}
	// A snapshot owns its histogram: more ticks do not change it.
	rec.Record("op", time.Second)
	reg.Tick()
	if first.Hist.TotalCount() != 2 || total.Hist.TotalCount() != 3 {
		t.Errorf("earlier snapshots changed: %d, %d", first.Hist.TotalCount(), total.Hist.TotalCount())
	}
}

func TestClamped(t *testing.T) {
	t.Parallel()
	reg := hist.NewRegistry()
	rec := reg.NewRecorder()
	rec.Record("op", 2*time.Hour)
	rec.Record("op", time.Millisecond)
	iv := reg.Tick()["op"]
	if iv.Count != 2 || iv.Clamped != 1 {
		t.Fatalf("count %d clamped %d, want 2 and 1", iv.Count, iv.Clamped)
	}
	if iv.Max < time.Hour || iv.Max > time.Hour+time.Hour/500 {
		t.Errorf("max %v, want about 1h (the clamp)", iv.Max)
	}
	rec.Record("op", 3*time.Hour)
	reg.Tick()
	if got := reg.Cumulative()["op"].Clamped; got != 2 {
		t.Errorf("cumulative clamped %d, want 2", got)
	}
}

func TestMerge(t *testing.T) {
	t.Parallel()
	reg := hist.NewRegistry()
	a, b := reg.NewRecorder(), reg.NewRecorder()
	for v := 1; v <= 100; v++ {
		a.Record("a", time.Duration(v)*time.Millisecond)
		b.Record("b", time.Duration(100+v)*time.Millisecond)
	}
	b.Record("b", 5*time.Hour)
	iv := reg.Tick()
	sa, sb := iv["a"], iv["b"]

	m := sa.Merge(sb).Merge(hist.Snapshot{}) // the zero value is empty
	if m.Count != 201 || m.Clamped != 1 {
		t.Fatalf("merged count %d clamped %d, want 201 and 1", m.Count, m.Clamped)
	}
	if !within(m.P50, 101*time.Millisecond) || m.Min != time.Millisecond {
		t.Errorf("merged p50 %v min %v, want ~101ms and 1ms", m.P50, m.Min)
	}
	if sa.Count != 100 || sa.Hist.TotalCount() != 100 || sb.Count != 101 {
		t.Errorf("inputs changed: %d %d %d", sa.Count, sa.Hist.TotalCount(), sb.Count)
	}
	if z := hist.Merge(); z.Count != 0 || z.P99 != 0 || z.Hist == nil {
		t.Errorf("Merge() = %+v, want empty with a histogram", z)
	}
	if got := m.Dense().TotalCount(); got != 201 {
		t.Errorf("Dense total %d, want 201", got)
	}
	if got, want := m.Percentile(50), m.P50; got != want {
		t.Errorf("Percentile(50) = %v, P50 = %v", got, want)
	}
}

func TestEncodeDecode(t *testing.T) {
	t.Parallel()
	reg := hist.NewRegistry()
	rec := reg.NewRecorder()
	for v := 1; v <= 5000; v++ {
		rec.Record("op", time.Duration(v*v)*time.Microsecond)
	}
	s := reg.Tick()["op"]
	enc, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if len(enc) > 8000 {
		t.Errorf("encoding is %d bytes; want compact", len(enc))
	}
	got, err := hist.DecodeSnapshot(enc, s.Clamped)
	if err != nil {
		t.Fatal(err)
	}
	s.Hist, got.Hist = nil, nil
	if got != s {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, s)
	}

	empty, err := hist.Snapshot{}.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if e, err := hist.DecodeSnapshot(empty, 0); err != nil || e.Count != 0 {
		t.Errorf("empty round trip: %+v, %v", e, err)
	}
}

func TestDecodeErrors(t *testing.T) {
	t.Parallel()
	other, err := hdrhistogram.NewPacked(1, 1000, 2).Encode()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in string
		geometry bool
	}{
		{"not base64", "%%%", false},
		{"too short", "AAAA", false},
		{"other geometry", string(other), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := hist.Decode(tt.in)
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.HasPrefix(err.Error(), "decode histogram: ") {
				t.Errorf("error %q lacks context", err)
			}
			if got := errors.Is(err, hist.ErrGeometry); got != tt.geometry {
				t.Errorf("errors.Is(err, ErrGeometry) = %v, want %v (%v)", got, tt.geometry, err)
			}
		})
	}
	if _, err := hist.NewSnapshot(hdrhistogram.NewPacked(1, 1000, 2), 0); !errors.Is(err, hist.ErrGeometry) {
		t.Errorf("NewSnapshot with other geometry: %v", err)
	}
}

// within reports whether got is want up to HdrHistogram's 0.1% precision.
func within(got, want time.Duration) bool {
	diff := got - want
	if diff < 0 {
		diff = -diff
	}
	return diff <= want/1000+time.Microsecond
}

func BenchmarkRecord(b *testing.B) {
	reg := hist.NewRegistry()
	h := reg.NewRecorder().Handle("op")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Record(time.Duration(100+i%50_000) * time.Microsecond)
	}
}
