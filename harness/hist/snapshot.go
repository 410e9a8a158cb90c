package hist

import (
	"errors"
	"fmt"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Snapshot is the summary of one histogram: count and latency statistics,
// plus the histogram itself so snapshots can be merged or saved. The zero
// value is an empty snapshot.
//
// Statistics are HdrHistogram values: within 0.1% of the recorded ones
// (SigFigs), percentiles and Max rounded up to the top of their bucket.
type Snapshot struct {
	// Count is the number of recorded values.
	Count int64
	// Min, Max and Mean summarise the values.
	Min, Max, Mean time.Duration
	// P50, P90, P99 and P999 are the 50th, 90th, 99th and 99.9th
	// percentiles.
	P50, P90, P99, P999 time.Duration
	// Clamped counts values above MaxValue, recorded as MaxValue.
	Clamped int64
	// Hist is the histogram in microseconds; nil in the zero value. The
	// snapshot owns it: do not record into it.
	Hist *hdrhistogram.PackedHistogram
}

// NewSnapshot summarises h, which must have the cqrsbench geometry (New or
// Decode), and takes ownership of it. clamped is the number of its values
// that were clamped to MaxValue.
func NewSnapshot(h *hdrhistogram.PackedHistogram, clamped int64) (Snapshot, error) {
	if err := checkGeometry(h); err != nil {
		return Snapshot{}, err
	}
	return newSnapshot(h, clamped), nil
}

// newSnapshot is NewSnapshot for a histogram known to have the geometry.
func newSnapshot(h *hdrhistogram.PackedHistogram, clamped int64) Snapshot {
	s := Snapshot{Count: h.TotalCount(), Clamped: clamped, Hist: h}
	if s.Count == 0 {
		return s
	}
	s.Min = Duration(h.Min())
	s.Max = Duration(h.Max())
	s.Mean = time.Duration(h.Mean() * float64(time.Microsecond))
	ps := [...]float64{50, 90, 99, 99.9}
	v := h.ValueAtPercentilesSlice(ps[:])
	s.P50, s.P90, s.P99, s.P999 = Duration(v[0]), Duration(v[1]), Duration(v[2]), Duration(v[3])
	return s
}

// Percentile returns the value at percentile p (0 to 100); 0 when empty.
func (s Snapshot) Percentile(p float64) time.Duration {
	if s.Hist == nil {
		return 0
	}
	return Duration(s.Hist.ValueAtPercentile(p))
}

// Rate returns the count per second over d; 0 when d is not positive.
func (s Snapshot) Rate(d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(s.Count) / d.Seconds()
}

// Merge returns a snapshot of s and o together. Neither is modified.
func (s Snapshot) Merge(o Snapshot) Snapshot { return Merge(s, o) }

// Merge returns a snapshot of all snaps together. None is modified.
func Merge(snaps ...Snapshot) Snapshot {
	h := New()
	var clamped int64
	for _, s := range snaps {
		if s.Hist != nil {
			// Same geometry, so nothing can be dropped.
			h.Merge(s.Hist)
		}
		clamped += s.Clamped
	}
	return newSnapshot(h, clamped)
}

// Dense returns the histogram as a dense hdrhistogram.Histogram, for APIs
// only it offers (distribution plots, percentile printing). It is a copy.
func (s Snapshot) Dense() *hdrhistogram.Histogram {
	d := hdrhistogram.New(LowestDiscernible, MaxValue, SigFigs)
	if s.Hist != nil {
		s.Hist.MergeInto(d)
	}
	return d
}

// Encode returns the histogram in the HdrHistogram V2 compressed format,
// base64: compact, and readable by every HdrHistogram implementation. The
// statistics are not included; DecodeSnapshot recomputes them.
func (s Snapshot) Encode() (string, error) {
	h := s.Hist
	if h == nil {
		h = New()
	}
	return Encode(h)
}

// DecodeSnapshot decodes a histogram written by Snapshot.Encode and
// summarises it. clamped is stored as is: the encoding does not carry it.
func DecodeSnapshot(encoded string, clamped int64) (Snapshot, error) {
	h, err := Decode(encoded)
	if err != nil {
		return Snapshot{}, err
	}
	return newSnapshot(h, clamped), nil
}

// Encode returns h in the HdrHistogram V2 compressed format, base64.
func Encode(h *hdrhistogram.PackedHistogram) (string, error) {
	b, err := h.Encode()
	if err != nil {
		return "", fmt.Errorf("encode histogram: %w", err)
	}
	return string(b), nil
}

// ErrGeometry is returned for a histogram whose range or precision is not
// cqrsbench's, which could not be merged without losing values.
var ErrGeometry = errors.New("histogram geometry differs from cqrsbench's")

// Decode decodes a histogram written by Encode. It fails on malformed input
// and, wrapping ErrGeometry, on a histogram with another geometry.
func Decode(encoded string) (*hdrhistogram.PackedHistogram, error) {
	h, err := hdrhistogram.DecodePacked([]byte(encoded))
	if err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	if err := checkGeometry(h); err != nil {
		return nil, fmt.Errorf("decode histogram: %w", err)
	}
	return h, nil
}

// checkGeometry reports whether h records like New's histograms.
func checkGeometry(h *hdrhistogram.PackedHistogram) error {
	if h == nil {
		return errors.New("nil histogram")
	}
	if h.LowestTrackableValue() != LowestDiscernible || h.HighestTrackableValue() != MaxValue || h.SignificantFigures() != SigFigs {
		return fmt.Errorf("%w: range %d..%d µs with %d digits, want %d..%d with %d",
			ErrGeometry, h.LowestTrackableValue(), h.HighestTrackableValue(), h.SignificantFigures(),
			LowestDiscernible, MaxValue, SigFigs)
	}
	return nil
}
