// Package stats estimates ratios between architectures from interleaved
// rounds, with confidence intervals, so a comparison can say when a
// difference is inside the noise.
package stats

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Interval is a ratio's estimate and its confidence interval.
type Interval struct {
	// Estimate is the geometric mean of the ratios.
	Estimate float64
	// Low and High bound the interval; both 0 when it cannot be computed
	// (fewer than two ratios).
	Low, High float64
	// N is the number of ratios.
	N int
}

// ErrNotPositive is returned for a ratio that is zero, negative or not a
// number: a ratio of latencies is always above 0.
var ErrNotPositive = errors.New("stats: a ratio must be a positive number")

// RatioInterval estimates a ratio from one measurement of it per round:
// the geometric mean, with a Student t interval at the given confidence
// (0.95) on the logarithms. Logarithms make a ratio and its inverse
// symmetric (2× faster is as far from 1 as 2× slower), and latency ratios
// are closer to log-normal than to normal. Rounds are treated as
// independent: interleaving them (A B, B A, …) is what makes them so.
func RatioInterval(ratios []float64, confidence float64) (Interval, error) {
	n := len(ratios)
	if n == 0 {
		return Interval{}, nil
	}
	logs := make([]float64, n)
	var sum float64
	for i, r := range ratios {
		if !(r > 0) || math.IsInf(r, 0) {
			return Interval{}, ErrNotPositive
		}
		logs[i] = math.Log(r)
		sum += logs[i]
	}
	mean := sum / float64(n)
	iv := Interval{Estimate: math.Exp(mean), N: n}
	if n < 2 {
		return iv, nil
	}
	var ss float64
	for _, l := range logs {
		ss += (l - mean) * (l - mean)
	}
	se := math.Sqrt(ss/float64(n-1)) / math.Sqrt(float64(n))
	t := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: float64(n - 1)}.Quantile(1 - (1-confidence)/2)
	iv.Low, iv.High = math.Exp(mean-t*se), math.Exp(mean+t*se)
	return iv, nil
}

// Call is how an interval compares with 1.
type Call int

// The calls.
const (
	// Inside: the interval reaches within minEffect of 1 (or there is no
	// interval): not distinguishable.
	Inside Call = iota
	// Above: the whole interval lies above 1 + minEffect.
	Above
	// Below: the whole interval lies below 1/(1 + minEffect).
	Below
)

// Compare says where iv lies against 1, counting as a difference only a
// change beyond minEffect (0.1: 10%) that the whole interval agrees on.
func (iv Interval) Compare(minEffect float64) Call {
	switch {
	case iv.N < 2 || iv.Low == 0:
		return Inside
	case iv.Low > 1+minEffect:
		return Above
	case iv.High < 1/(1+minEffect):
		return Below
	}
	return Inside
}
