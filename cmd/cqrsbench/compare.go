package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/cqrsbench/cqrsbench/harness/compare"
	"github.com/cqrsbench/cqrsbench/harness/report"
	"github.com/cqrsbench/cqrsbench/harness/results"
)

const compareDescription = `
Sets a run beside a baseline run of the same scenario (same dataset, mix,
load, options and faults), metric by metric — each operation's p50 and p99
from its intended start, cqrs-kafka's lag p99 (pipeline and prober), the
achieved rate, the shares of failed, late and dropped operations, and the
consistency checker's findings — and exits 1 when any regressed: a CI
regression gate.

Single runs differ by noise, so a metric regresses only when it is worse
by more than --tolerance (p99s: --tail-tolerance) and, for latencies, by
more than --min-delta and beyond the sampling error (the two percentiles'
95% confidence intervals, from the saved histograms, do not overlap); a
percentile gates only when it rests on --min-samples operations (p50: a
tenth of that). Any consistency violation in the result fails, whatever the
baseline. Runs on other machines or server versions are compared with a
warning; runs of different scenarios or settings are refused (exit 2).
For small effects, repeat each side and use benchstat on 'run --bench'.

Examples:
  cqrsbench compare results/baselines/mixed.json results/mixed-20261124T135845Z.json
  cqrsbench compare --tolerance 10% --tail-tolerance 20% --min-delta 100us base.json new.json
`

func runCompare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("compare", "compare [flags] BASELINE.json RESULT.json", compareDescription, stdout)
	tolerance := fs.String("tolerance", strconv.Itoa(int(compare.DefaultTolerance*100))+"%", "relative worsening allowed of p50s and the achieved rate, e.g. 25% or 0.25")
	tailTolerance := fs.String("tail-tolerance", strconv.Itoa(int(compare.DefaultTailTolerance*100))+"%", "relative worsening allowed of p99s (operations and lag), which swing more between runs")
	minDelta := fs.Duration("min-delta", compare.DefaultMinDelta, "latency worsening below which a change is noise, whatever its ratio")
	minShare := fs.String("min-share-delta", "0.5%", "worsening of the share of failed, late or dropped ops below which a change is noise")
	minSamples := fs.Int64("min-samples", compare.DefaultMinSamples, "operations a p99 must rest on to gate (a p50 needs a tenth)")
	files, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(files) != 2 {
		return usagef("compare: needs two results files, BASELINE.json and RESULT.json (got %d; run 'cqrsbench compare -h')", len(files))
	}
	tol, err := parseTolerance(*tolerance)
	if err != nil {
		return usagef("--tolerance: %v", err)
	}
	tailTol, err := parseTolerance(*tailTolerance)
	if err != nil {
		return usagef("--tail-tolerance: %v", err)
	}
	shareDelta, err := parseTolerance(*minShare)
	if err != nil {
		return usagef("--min-share-delta: %v", err)
	}
	opts := compare.Options{Tolerance: tol, TailTolerance: tailTol, MinDelta: *minDelta, MinShareDelta: shareDelta, MinSamples: *minSamples}
	if err := opts.Validate(); err != nil {
		return usagef("compare: %v", err)
	}
	var sides [2]report.Side
	for i, path := range files {
		run, err := results.Read(path)
		if err != nil {
			return usagef("compare: %v", err)
		}
		sides[i] = report.Side{Path: path, Run: run}
	}
	rep, err := compare.Runs(sides[0].Run, sides[1].Run, opts)
	var notComparable *compare.NotComparableError
	if errors.As(err, &notComparable) {
		return usagef("compare %s %s: %v", files[0], files[1], err)
	}
	if err != nil {
		return fmt.Errorf("compare: %w", err)
	}
	if err := report.CompareText(stdout, sides[0], sides[1], rep); err != nil {
		return err
	}
	if regs := rep.Failures(); len(regs) > 0 {
		names := make([]string, len(regs))
		for i, r := range regs {
			names[i] = r.Arch + " " + r.Metric
		}
		return &checkFailed{fmt.Sprintf("%d metric(s) regressed or failed against %s: %s", len(regs), files[0], strings.Join(names, ", "))}
	}
	return nil
}

// parseTolerance reads a tolerance as a percentage ("25%") or a fraction
// ("0.25").
func parseTolerance(s string) (float64, error) {
	s = strings.TrimSpace(s)
	pct := strings.HasSuffix(s, "%")
	v, err := strconv.ParseFloat(strings.TrimSuffix(s, "%"), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not a percentage or fraction (example: 25%% or 0.25)", s)
	}
	if pct {
		v /= 100
	}
	if v < 0 {
		return 0, fmt.Errorf("%q: must be ≥ 0", s)
	}
	return v, nil
}
