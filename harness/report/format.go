package report

import (
	"errors"
	"fmt"
	"io"

	"github.com/cqrsbench/cqrsbench/harness/results"
)

// Format writes a finished run in one output format.
type Format interface {
	// Write writes run to w.
	Write(w io.Writer, run *results.Run) error
}

// Compile-time checks that the formats implement Format.
var (
	_ Format = Text{}
	_ Format = JSON{}
	_ Format = Bench{}
)

// JSON writes the results document, indented, as results.Write saves it:
// the format for --json on standard output.
type JSON struct{}

// Write implements Format.
func (JSON) Write(w io.Writer, run *results.Run) error {
	if run == nil {
		return errNoRun
	}
	b, err := results.Marshal(run)
	if err != nil {
		return fmt.Errorf("json report: %w", err)
	}
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("json report: %w", err)
	}
	return nil
}

// Bench writes go-bench lines for benchstat (see BenchLines).
type Bench struct{}

// Write implements Format.
func (Bench) Write(w io.Writer, run *results.Run) error { return BenchLines(w, run) }

// errNoRun is returned by the formats for a nil run.
var errNoRun = errors.New("report: no run to write")
