package report

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/cqrsbench/cqrsbench/harness/compare"
	"github.com/cqrsbench/cqrsbench/harness/results"
)

// Side names one run of a comparison: where it was read from, and the run.
type Side struct {
	Path string
	Run  *results.Run
}

// CompareText writes a comparison as text: what was compared, the
// warnings, a table of every metric with its change and verdict, and a
// closing line that names each regression.
func CompareText(w io.Writer, baseline, result Side, rep *compare.Report) error {
	var b page
	name := "run"
	if sc := result.Run.Scenario; sc != nil {
		name = sc.Name
	}
	fmt.Fprintf(&b, "cqrsbench compare: scenario %s\n", name)
	fmt.Fprintf(&b, "baseline: %s (%s)\nresult:   %s (%s)\n", baseline.Path, runStamp(baseline.Run), result.Path, runStamp(result.Run))
	o := rep.Options
	fmt.Fprintf(&b, "a metric regresses when worse by more than %s (p99s: %s) and by more than %s (shares of failed, late,\n"+
		"dropped ops: %s points), latencies also beyond sampling error (95%% confidence intervals apart); percentiles\n"+
		"on fewer than %d samples (p50: %d) do not gate; any consistency violation fails\n",
		pct(o.Tolerance), pct(o.TailTolerance), dur(o.MinDelta), strings.TrimSuffix(pct(o.MinShareDelta), "%"), o.MinSamples, o.MinSamples/10)
	for _, warning := range rep.Warnings {
		fmt.Fprintf(&b, "WARNING %s\n", warning)
	}
	t := table{
		title:  "Baseline vs result (latencies in ms from each operation's intended start)",
		header: []string{"architecture", "metric", "baseline", "result", "change", "verdict"},
		align:  "llrrrl",
	}
	var better, same, few int
	for i, row := range rep.Rows {
		arch := row.Arch
		if i > 0 && rep.Rows[i-1].Arch == arch {
			arch = ""
		}
		t.rows = append(t.rows, []string{arch, row.Metric, value(row, row.Baseline), value(row, row.Result), change(row), string(row.Verdict)})
		switch row.Verdict {
		case compare.Better:
			better++
		case compare.Same, compare.Noise:
			same++
		case compare.FewSamples:
			few++
		}
	}
	if err := render(&b, t); err != nil {
		return fmt.Errorf("compare report: %w", err)
	}
	if regs := rep.Failures(); len(regs) > 0 {
		fmt.Fprintf(&b, "\nFAILED: %d of %d metrics regressed or failed:\n", len(regs), len(rep.Rows))
		for _, r := range regs {
			if r.Verdict == compare.Failed {
				fmt.Fprintf(&b, "  - %s %s: %s (any fails)\n", r.Arch, r.Metric, value(r, r.Result))
				continue
			}
			fmt.Fprintf(&b, "  - %s %s: %s -> %s (%s)\n", r.Arch, r.Metric, value(r, r.Baseline), value(r, r.Result), change(r))
		}
	} else {
		fmt.Fprintf(&b, "\nOK: no regression (%d better, %d same or within noise, %d on too few samples)\n", better, same, few)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("compare report: %w", err)
	}
	return nil
}

// runStamp is when a run started, and on what.
func runStamp(run *results.Run) string {
	return run.StartedAt.UTC().Format("2006-01-02 15:04 UTC") + ", " + environmentLine(run.Environment)
}

// value formats one side of a row in its unit.
func value(row compare.Row, v float64) string {
	if row.Verdict == compare.Missing {
		return notRun
	}
	switch row.Unit {
	case compare.Micros:
		return ms(v)
	case compare.PerSecond:
		return rate(v) + "/s"
	case compare.Share:
		return pct(v)
	}
	return strconv.FormatFloat(v, 'f', 0, 64)
}

// change formats a row's relative change: +12%, -3.1%, or "-" when the
// baseline is zero.
func change(row compare.Row) string {
	c := row.Change()
	switch {
	case row.Verdict == compare.Missing:
		return notRun
	case math.IsNaN(c) && row.Result == 0:
		return "0%"
	case math.IsNaN(c):
		return "new"
	case c >= 0:
		return "+" + pct(c)
	}
	return "-" + strings.TrimPrefix(pct(-c), "-")
}
