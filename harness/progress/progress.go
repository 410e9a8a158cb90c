// Package progress renders the progress of long work (a data load, a
// benchmark phase) on a terminal, and stays quiet when output is not a
// terminal so logs and pipes are not flooded.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/term"
)

// Bar draws a single-line progress bar, redrawn in place with '\r'. It is
// safe for concurrent use. A disabled Bar does nothing.
type Bar struct {
	w       io.Writer
	enabled bool
	now     func() time.Time
	every   time.Duration

	mu    sync.Mutex
	last  time.Time
	start time.Time
	phase string
	drawn bool
}

// Option configures a Bar.
type Option func(*Bar)

// WithClock sets the clock (for tests). Default time.Now.
func WithClock(now func() time.Time) Option { return func(b *Bar) { b.now = now } }

// WithInterval sets the minimum time between redraws. Default 200ms.
func WithInterval(d time.Duration) Option { return func(b *Bar) { b.every = d } }

// New returns a Bar writing to w when enabled is true.
func New(w io.Writer, enabled bool, opts ...Option) *Bar {
	b := &Bar{w: w, enabled: enabled, now: time.Now, every: 200 * time.Millisecond}
	for _, o := range opts {
		o(b)
	}
	return b
}

// IsTerminal reports whether f is a terminal.
func IsTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// Update shows that done of total units of phase are finished. Redraws are
// rate limited; a new phase always draws.
func (b *Bar) Update(phase string, done, total int64) {
	if !b.enabled {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	if phase != b.phase {
		if b.drawn {
			fmt.Fprintln(b.w)
		}
		b.phase, b.start, b.last = phase, now, time.Time{}
	}
	if !b.last.IsZero() && now.Sub(b.last) < b.every && done < total {
		return
	}
	b.last, b.drawn = now, true
	fmt.Fprint(b.w, "\r"+Line(phase, done, total, now.Sub(b.start)))
}

// Finish ends the current line.
func (b *Bar) Finish() {
	if !b.enabled {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.drawn {
		fmt.Fprintln(b.w)
	}
	b.drawn, b.phase = false, ""
}

// Line formats one progress line: phase, a 24-cell bar, percentage, counts,
// rate and elapsed time. total <= 0 means unknown.
func Line(phase string, done, total int64, elapsed time.Duration) string {
	const width = 24
	rate := ""
	if s := elapsed.Seconds(); s > 0 {
		rate = fmt.Sprintf(" %s/s", human(int64(float64(done)/s)))
	}
	if total <= 0 {
		return fmt.Sprintf("%-14s %s%s %5.1fs", phase, human(done), rate, elapsed.Seconds())
	}
	frac := min(float64(done)/float64(total), 1)
	filled := int(frac * width)
	return fmt.Sprintf("%-14s [%s%s] %5.1f%% %s/%s%s %5.1fs", phase,
		strings.Repeat("#", filled), strings.Repeat(".", width-filled), frac*100,
		human(done), human(total), rate, elapsed.Seconds())
}

// human prints n with a k/M suffix.
func human(n int64) string {
	switch {
	case n >= 10_000_000:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 10_000:
		return fmt.Sprintf("%dk", n/1000)
	default:
		return fmt.Sprint(n)
	}
}
