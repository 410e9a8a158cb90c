package hist

import (
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Geometry of every histogram in cqrsbench. Values are microseconds.
const (
	// LowestDiscernible is the smallest value told apart from zero, in µs.
	LowestDiscernible = 1
	// MaxValue is the highest value tracked exactly (to SigFigs), in µs: one
	// hour. Larger values are recorded as MaxValue and counted in
	// Snapshot.Clamped.
	MaxValue = int64(time.Hour / time.Microsecond)
	// SigFigs is the number of significant decimal digits kept for every
	// value: a recorded value is within 0.1% of the true one.
	SigFigs = 3
)

// Key suffixes, go-tpc style: the plain key ("crud/list_orders") holds the
// latency from the intended start of successful operations.
const (
	// ServiceSuffix marks the key holding plain service time (actual start
	// to end) of successful operations.
	ServiceSuffix = "/service"
	// ErrSuffix marks the key holding the latency of failed operations, kept
	// apart so errors do not distort the latency of successes.
	ErrSuffix = "/ERR"
)

// ServiceKey returns the key for the service time of the operations
// recorded under name.
func ServiceKey(name string) string { return name + ServiceSuffix }

// ErrKey returns the key for the latency of failed operations recorded
// under name.
func ErrKey(name string) string { return name + ErrSuffix }

// BaseKey returns name without a ServiceSuffix or ErrSuffix.
func BaseKey(name string) string {
	if s, ok := strings.CutSuffix(name, ServiceSuffix); ok {
		return s
	}
	if s, ok := strings.CutSuffix(name, ErrSuffix); ok {
		return s
	}
	return name
}

// New returns an empty histogram with the cqrsbench geometry, recording
// microseconds.
func New() *hdrhistogram.PackedHistogram {
	return hdrhistogram.NewPacked(LowestDiscernible, MaxValue, SigFigs)
}

// Micros converts d to the value recorded for it: whole microseconds rounded
// up, so any positive duration records at least 1 µs, and a negative one
// (a clock stepping back) records 0. The second result reports whether d was
// above MaxValue, in which case MaxValue is returned.
func Micros(d time.Duration) (us int64, clamped bool) {
	if d <= 0 {
		return 0, false
	}
	us = int64((d + time.Microsecond - 1) / time.Microsecond)
	if us > MaxValue {
		return MaxValue, true
	}
	return us, false
}

// Duration converts a recorded value in microseconds back to a duration.
func Duration(us int64) time.Duration { return time.Duration(us) * time.Microsecond }
