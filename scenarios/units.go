package scenarios

import (
	"fmt"
	"github.com/cqrsbench/cqrsbench/reference/settings"
	"math"
	"strconv"
	"strings"
)

// Duration is a time.Duration written as a Go duration string ("30s",
// "1m30s", "250ms") in YAML and JSON; architectures' options use the same
// type (reference/settings).
type Duration = settings.Duration

// Fraction is a share in [0, 1], written in YAML as a number (0.05) or a
// percentage ("5%").
type Fraction float64

// String formats f as a percentage ("5%").
func (f Fraction) String() string {
	return strconv.FormatFloat(float64(f)*100, 'f', -1, 64) + "%"
}

// MarshalText formats f as a plain number ("0.05"), which UnmarshalText
// reads back exactly.
func (f Fraction) MarshalText() ([]byte, error) {
	return []byte(strconv.FormatFloat(float64(f), 'f', -1, 64)), nil
}

// UnmarshalText parses a number in [0, 1] or a percentage in [0%, 100%].
func (f *Fraction) UnmarshalText(b []byte) error {
	v, err := parseFraction(string(b))
	if err != nil {
		return err
	}
	*f = v
	return nil
}

// parseFraction parses "0.05" or "5%"; the range is checked by Validate.
func parseFraction(s string) (Fraction, error) {
	s = strings.TrimSpace(s)
	pct := strings.HasSuffix(s, "%")
	num := strings.TrimSpace(strings.TrimSuffix(s, "%"))
	v, err := strconv.ParseFloat(num, 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return 0, fmt.Errorf("must be a fraction like 0.05 or a percentage like \"5%%\", got %q", s)
	}
	if pct {
		v /= 100
	}
	return Fraction(v), nil
}
