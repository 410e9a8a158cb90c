package stats

import (
	"errors"
	"math"
	"testing"
)

func TestRatioInterval(t *testing.T) {
	// Logs 0, +0.2, -0.2: mean 0, sd 0.2, se 0.2/√3; t(0.975, 2 df) = 4.3027.
	iv, err := RatioInterval([]float64{1, math.Exp(0.2), math.Exp(-0.2)}, 0.95)
	if err != nil {
		t.Fatal(err)
	}
	half := 4.302653 * 0.2 / math.Sqrt(3)
	if math.Abs(iv.Estimate-1) > 1e-9 || math.Abs(iv.Low-math.Exp(-half)) > 1e-5 || math.Abs(iv.High-math.Exp(half)) > 1e-5 || iv.N != 3 {
		t.Errorf("interval %+v, want 1 [%.5f, %.5f] of 3", iv, math.Exp(-half), math.Exp(half))
	}
	// A ratio and its inverse are as far from 1: 2 and 8 average to 4.
	if iv, _ := RatioInterval([]float64{2, 8}, 0.95); math.Abs(iv.Estimate-4) > 1e-9 {
		t.Errorf("geometric mean of 2 and 8: %g, want 4", iv.Estimate)
	}
	if iv, _ := RatioInterval([]float64{3}, 0.95); math.Abs(iv.Estimate-3) > 1e-9 || iv.Low != 0 || iv.High != 0 {
		t.Errorf("one ratio: %+v, want the estimate and no interval", iv)
	}
	for _, bad := range []float64{0, -1, math.NaN(), math.Inf(1)} {
		if _, err := RatioInterval([]float64{1, bad}, 0.95); !errors.Is(err, ErrNotPositive) {
			t.Errorf("ratio %g: error %v, want ErrNotPositive", bad, err)
		}
	}
}

func TestCompare(t *testing.T) {
	for _, c := range []struct {
		iv   Interval
		want Call
	}{
		{Interval{Estimate: 2, Low: 1.5, High: 2.5, N: 3}, Above},
		{Interval{Estimate: 0.5, Low: 0.4, High: 0.6, N: 3}, Below},
		{Interval{Estimate: 1.3, Low: 0.9, High: 1.8, N: 3}, Inside},  // includes 1
		{Interval{Estimate: 1.1, Low: 1.02, High: 1.2, N: 3}, Inside}, // beyond 1, not beyond 10%
		{Interval{Estimate: 0.95, Low: 0.92, High: 0.97, N: 3}, Inside},
		{Interval{Estimate: 5, N: 1}, Inside}, // no interval
	} {
		if got := c.iv.Compare(0.1); got != c.want {
			t.Errorf("%+v: %v, want %v", c.iv, got, c.want)
		}
	}
}
