package draft

import "math"

// maxRange bounds the ranges fitted (values drawn among at most this many).
const maxRange = 1 << 22

// uniformDistinct is the expected number of distinct values among n draws
// uniform over r values.
func uniformDistinct(r, n float64) float64 {
	if r <= 0 {
		return 0
	}
	return r * -math.Expm1(n*math.Log1p(-1/r))
}

// uniformRange returns how many values r to draw n values uniformly among
// so that about d of them are distinct (r >= d). ok is false when even
// maxRange values give fewer: the column is about unique.
func uniformRange(d, n float64) (r int64, ok bool) {
	if d <= 1 {
		return 1, true
	}
	if uniformDistinct(maxRange, n) < d {
		return maxRange, false
	}
	lo, hi := math.Floor(d), float64(maxRange)
	for hi-lo > 1 {
		mid := math.Floor((lo + hi) / 2)
		if uniformDistinct(mid, n) < d {
			lo = mid
		} else {
			hi = mid
		}
	}
	return int64(hi), true
}

// zipfWeights returns the probabilities of k = 1..r under zipf s (∝ k^-s).
func zipfWeights(r int64, s float64) []float64 {
	p := make([]float64, r)
	var h float64
	for k := range r {
		p[k] = math.Pow(float64(k+1), -s)
		h += p[k]
	}
	for k := range p {
		p[k] /= h
	}
	return p
}

// zipfDistinct is the expected number of distinct values among n draws of
// zipf s over r values.
func zipfDistinct(r int64, s, n float64) float64 {
	var e float64
	for _, p := range zipfWeights(r, s) {
		e += -math.Expm1(n * math.Log1p(-p))
	}
	return e
}

// zipfFit returns the exponent s and number of values r of a zipf whose
// most frequent value has about the share top of n draws, of which about
// d are distinct. It alternates: s for top over r values, then r for d
// under s. r is at least d; s is at least 1.01 (the generator needs s > 1).
// ok is false when no zipf gives d distinct values (the values are less
// skewed than any zipf with s > 1 over a range the search allows).
func zipfFit(top, d, n float64) (s float64, r int64, ok bool) {
	r = max(int64(math.Ceil(d)), 2)
	for range 3 {
		s = bisect(1.01, 6, func(s float64) bool { return zipfWeights(r, s)[0] < top })
		if r, ok = zipfRangeFor(d, s, n); !ok {
			return 0, 0, false
		}
	}
	return s, r, true
}

// zipfRangeFor returns the number of values r of a zipf s whose n draws
// give about d distinct ones, false when even the cap (which keeps the
// search cheap) gives fewer.
func zipfRangeFor(d, s, n float64) (int64, bool) {
	const cap = 1 << 18
	lo, hi := max(int64(d), 1), int64(cap)
	if zipfDistinct(hi, s, n) < d {
		return hi, false
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if zipfDistinct(mid, s, n) < d {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi, true
}

// zipfRefFit returns the exponent s of a zipf over the p rows of a parent
// whose n draws give about d distinct parents, and false when even the
// mildest zipf (s = 1.01) gives fewer: a uniform pick fits better.
func zipfRefFit(d float64, p int64, n float64) (float64, bool) {
	if zipfDistinct(p, 1.01, n) < d {
		return 0, false
	}
	// Larger s, fewer distinct values.
	return bisect(1.01, 8, func(s float64) bool { return zipfDistinct(p, s, n) > d }), true
}

// bisect returns x in [lo, hi] where below turns from true to false, to
// three decimals.
func bisect(lo, hi float64, below func(float64) bool) float64 {
	for hi-lo > 0.001 {
		mid := (lo + hi) / 2
		if below(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return math.Round((lo+hi)/2*1000) / 1000
}

// zipfCountFit returns the exponent s and largest count m of a fanout's
// count {dist: zipf, min: 0, max: m, s: s} under which a parent has no
// child with probability none and mean children per parent; ok is false
// when none is not the most likely count (zipf's mode is its min).
func zipfCountFit(none, mean float64) (s float64, m int64, ok bool) {
	if none <= 0.5 || none >= 1 || mean <= 0 {
		return 0, 0, false
	}
	meanOf := func(m int64, s float64) float64 {
		var sum float64
		for k, p := range zipfWeights(m+1, s) {
			sum += float64(k) * p
		}
		return sum
	}
	m = max(2, int64(math.Ceil(4*mean/(1-none))))
	for range 4 {
		s = bisect(1.01, 12, func(s float64) bool { return zipfWeights(m+1, s)[0] < none })
		lo, hi := int64(1), int64(1<<16)
		if meanOf(hi, s) < mean {
			m = hi
			continue
		}
		for hi-lo > 1 {
			mid := (lo + hi) / 2
			if meanOf(mid, s) < mean {
				lo = mid
			} else {
				hi = mid
			}
		}
		m = hi
	}
	return s, m, true
}
