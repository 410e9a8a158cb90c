package runner

import (
	"math"
	"testing"
	"time"
)

// offsets returns every intended start of cfg's schedule.
func offsets(t *testing.T, cfg Config) (offs []time.Duration, warm int) {
	t.Helper()
	if errs := cfg.Validate(); len(errs) > 0 {
		t.Fatalf("invalid config: %v", errs)
	}
	s := newSchedule(cfg.withDefaults())
	for {
		off, w, ok := s.next()
		if !ok {
			return offs, warm
		}
		if n := len(offs); n > 0 && off < offs[n-1] {
			t.Fatalf("offset %d (%v) before the previous one (%v)", n, off, offs[n-1])
		}
		if w {
			warm++
		}
		offs = append(offs, off)
	}
}

func TestScheduleUniform(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		rate     float64
		duration time.Duration
		want     int
	}{
		{"1000/s for 1s", 1000, time.Second, 1000},
		{"3/s for 1s", 3, time.Second, 3},
		{"7/s for 2.5s", 7, 2500 * time.Millisecond, 18},
		{"0.5/s for 10s", 0.5, 10 * time.Second, 5},
		{"250k/s for 100ms", 250_000, 100 * time.Millisecond, 25_000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			offs, _ := offsets(t, Config{Rate: tt.rate, Duration: tt.duration})
			if len(offs) != tt.want {
				t.Fatalf("%d operations, want %d", len(offs), tt.want)
			}
			for i, off := range offs {
				want := time.Duration(math.Round(float64(i) * 1e9 / tt.rate))
				if off != want {
					t.Fatalf("op %d at %v, want start + i/rate = %v", i, off, want)
				}
			}
		})
	}
}

func TestSchedulePhases(t *testing.T) {
	t.Parallel()
	cfg := Config{
		Warmup: 500 * time.Millisecond,
		Phases: []Phase{
			Steady(time.Second, 100),          // 100 ops in [0.5s, 1.5s)
			Ramp(2*time.Second, 100, 300),     // 400 ops in [1.5s, 3.5s)
			Burst(500*time.Millisecond, 1000), // 500 ops in [3.5s, 4s)
			Steady(time.Second, 0),            // a pause
			Ramp(time.Second, 200, 0),         // 100 ops in [5s, 6s)
		},
	}
	offs, warm := offsets(t, cfg)
	if warm != 50 {
		t.Errorf("%d warmup operations, want 50 (0.5s at the first phase's 100/s)", warm)
	}
	bounds := []struct {
		from, to time.Duration
		want     int
	}{
		{0, 500 * time.Millisecond, 50},
		{500 * time.Millisecond, 1500 * time.Millisecond, 100},
		{1500 * time.Millisecond, 3500 * time.Millisecond, 400},
		{3500 * time.Millisecond, 4 * time.Second, 500},
		{4 * time.Second, 5 * time.Second, 0},
		{5 * time.Second, 6 * time.Second, 100},
	}
	for _, b := range bounds {
		n := 0
		for _, off := range offs {
			if off >= b.from && off < b.to {
				n++
			}
		}
		if n != b.want {
			t.Errorf("[%v, %v): %d operations, want %d", b.from, b.to, n, b.want)
		}
	}
	// Within the ramp, the gap shrinks as the rate grows: about 1/100 s at
	// its start and 1/300 s at its end.
	first, last := offs[151]-offs[150], offs[549]-offs[548]
	if first < 9*time.Millisecond || first > 10*time.Millisecond || last < 3*time.Millisecond || last > 3400*time.Microsecond {
		t.Errorf("ramp gaps %v at start and %v at end, want ~10ms and ~3.3ms", first, last)
	}

	s := newSchedule(cfg.withDefaults())
	names := []struct {
		off  time.Duration
		name string
		rate float64
	}{
		{0, "warmup", 100},
		{time.Second, "steady", 100},
		{2500 * time.Millisecond, "ramp", 200},
		{3600 * time.Millisecond, "burst", 1000},
		{4500 * time.Millisecond, "steady", 0},
		{5500 * time.Millisecond, "ramp", 100},
	}
	for _, n := range names {
		if g := s.at(n.off); g == nil || g.name != n.name {
			t.Errorf("phase at %v: %v, want %q", n.off, g, n.name)
		}
		if r := s.rateAt(n.off); math.Abs(r-n.rate) > 1e-9 {
			t.Errorf("rate at %v: %v, want %v", n.off, r, n.rate)
		}
	}
	if s.at(6*time.Second) != nil {
		t.Error("a phase after the end")
	}
}

func TestSchedulePoisson(t *testing.T) {
	t.Parallel()
	const (
		rate = 500.0
		dur  = 20 * time.Second
	)
	tests := []struct {
		seed uint64
	}{{1}, {2}, {42}, {1 << 40}}
	for _, tt := range tests {
		cfg := Config{Rate: rate, Duration: dur, Arrival: ArrivalPoisson, Seed: tt.seed}
		offs, _ := offsets(t, cfg)
		// The count of a Poisson process has mean and variance rate*dur.
		mean := rate * dur.Seconds()
		if d := math.Abs(float64(len(offs)) - mean); d > 4*math.Sqrt(mean) {
			t.Errorf("seed %d: %d operations, want %v ± %v", tt.seed, len(offs), mean, 4*math.Sqrt(mean))
		}
		// Exponential gaps: mean 1/rate and a coefficient of variation of 1.
		var sum, sq float64
		prev := time.Duration(0)
		for _, off := range offs {
			g := (off - prev).Seconds()
			sum += g
			sq += g * g
			prev = off
		}
		n := float64(len(offs))
		m := sum / n
		cv := math.Sqrt(sq/n-m*m) / m
		if math.Abs(m*rate-1) > 0.03 || math.Abs(cv-1) > 0.05 {
			t.Errorf("seed %d: mean gap %v (want %v), cv %.3f (want 1)", tt.seed, m, 1/rate, cv)
		}
		again, _ := offsets(t, cfg)
		if len(again) != len(offs) || again[len(again)/2] != offs[len(offs)/2] {
			t.Errorf("seed %d: not reproducible", tt.seed)
		}
	}
	a, _ := offsets(t, Config{Rate: rate, Duration: time.Second, Arrival: ArrivalPoisson, Seed: 1})
	b, _ := offsets(t, Config{Rate: rate, Duration: time.Second, Arrival: ArrivalPoisson, Seed: 2})
	if len(a) > 0 && len(b) > 0 && a[0] == b[0] && a[len(a)-1] == b[len(b)-1] {
		t.Error("seeds 1 and 2 give the same arrivals")
	}
}

func TestChooser(t *testing.T) {
	t.Parallel()
	ops := []Op{{Name: "a", Weight: 1}, {Name: "b", Weight: 2}, {Name: "c", Weight: 7}}
	const n = 200_000
	counts := make([]int, len(ops))
	c := newChooser(ops, 7, streamMix)
	seq := make([]int, 0, 100)
	for i := range n {
		k := c.pick()
		counts[k]++
		if i < 100 {
			seq = append(seq, k)
		}
	}
	for i, op := range ops {
		got := float64(counts[i]) / n
		want := op.Weight / 10
		if math.Abs(got-want) > 0.005 {
			t.Errorf("%s: share %.4f, want %.2f", op.Name, got, want)
		}
	}
	again := newChooser(ops, 7, streamMix)
	for i, k := range seq {
		if got := again.pick(); got != k {
			t.Fatalf("pick %d: %d, want %d with the same seed", i, got, k)
		}
	}
	if one := newChooser(ops[:1], 7, streamMix); one.pick() != 0 {
		t.Error("a single operation is not always picked")
	}
}
