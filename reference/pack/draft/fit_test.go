package draft

import (
	"math"
	"math/rand/v2"
	"testing"
)

// distinctDraws counts the distinct values among n draws of next.
func distinctDraws(n int, next func() uint64) float64 {
	seen := map[uint64]bool{}
	for range n {
		seen[next()] = true
	}
	return float64(len(seen))
}

// TestFitsGiveTheDistinctCount draws from the fitted distributions (as the
// loader does, with math/rand/v2) and finds about the distinct count asked
// for: within 5%.
func TestFitsGiveTheDistinctCount(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	near := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 0.05*want {
			t.Errorf("%s: %v distinct, want about %v", what, got, want)
		}
	}
	for _, c := range []struct{ d, n float64 }{{50, 10000}, {2000, 12000}, {9000, 12000}} {
		rng, ok := uniformRange(c.d, c.n)
		if !ok {
			t.Fatalf("uniformRange(%v, %v): not found", c.d, c.n)
		}
		near("uniform", distinctDraws(int(c.n), func() uint64 { return r.Uint64N(uint64(rng)) }), c.d)
	}
	for _, c := range []struct{ d, n, top float64 }{{50, 10000, 0.2}, {2000, 12000, 0.05}, {300, 500, 0.02}} {
		s, zr, ok := zipfFit(c.top, c.d, c.n)
		if !ok {
			t.Fatalf("zipfFit(%v, %v, %v): not found", c.top, c.d, c.n)
		}
		z := rand.NewZipf(r, s, 1, uint64(zr-1))
		near("zipf", distinctDraws(int(c.n), z.Uint64), c.d)
	}
	// A head too heavy for so many distinct values: no zipf (the caller
	// falls back to a uniform range).
	if _, _, ok := zipfFit(0.2, 9000, 12000); ok {
		t.Errorf("zipfFit: found a zipf whose top value has 0.2 of 12000 draws and 9000 distinct values")
	}
	s, ok := zipfRefFit(400, 3000, 12000)
	if !ok {
		t.Fatal("zipfRefFit: not found")
	}
	z := rand.NewZipf(r, s, 1, 2999)
	near("zipf ref", distinctDraws(12000, z.Uint64), 400)
	if _, ok := zipfRefFit(2900, 3000, 12000); ok {
		t.Errorf("zipfRefFit: found a zipf giving more distinct parents than a uniform pick")
	}
	s, m, ok := zipfCountFit(5.0/6, 1.0/3)
	if !ok {
		t.Fatal("zipfCountFit: not found")
	}
	zc := rand.NewZipf(r, s, 1, uint64(m))
	var zero, sum float64
	for range 60000 {
		k := zc.Uint64()
		sum += float64(k)
		if k == 0 {
			zero++
		}
	}
	if math.Abs(zero/60000-5.0/6) > 0.02 || math.Abs(sum/60000-1.0/3) > 0.05 {
		t.Errorf("zipf count: %.3f zero, mean %.3f; want 0.833 and 0.333", zero/60000, sum/60000)
	}
}
