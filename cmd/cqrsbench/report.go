package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/cqrsbench/cqrsbench/harness/report"
	"github.com/cqrsbench/cqrsbench/harness/results"
)

const reportDescription = `
Writes one self-contained HTML page (no scripts, no network) for one or
more results files: per run the verdicts, a latency-by-percentile chart per
operation with a line per architecture (log scale of the tail, as
HdrHistogram plots it, drawn from the saved histograms), the projection lag
of the eventually consistent architectures, and every table of the text
report (as HTML tables). An existing output file is kept unless --force
is given. With --text, prints each file's text report (what 'cqrsbench run'
printed, computed again from the file) to stdout instead.

Examples:
  cqrsbench report results/mixed-20261124T135845Z.json -o report.html
  cqrsbench report results/*.json -o all.html --force
  cqrsbench report --text results/page-sweep-20261204T093304Z.json
`

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := flagSet("report", "report RESULT.json... -o report.html", reportDescription, stdout)
	out := flags.String("o", "report.html", "the HTML file to write")
	force := flags.Bool("force", false, "replace the output file if it exists")
	text := flags.Bool("text", false, "print each file's text report to stdout instead of writing HTML")
	files, err := parseInterspersed(flags, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("report: needs at least one results file (run 'cqrsbench report -h')")
	}
	var sides []report.Side
	for _, path := range files {
		run, err := results.Read(path)
		if err != nil {
			return usagef("report: %v", err)
		}
		sides = append(sides, report.Side{Path: path, Run: run})
	}
	if *text {
		for _, s := range sides {
			if err := (report.Text{}).Write(stdout, s.Run); err != nil {
				return err
			}
		}
		return nil
	}
	if err := report.SaveHTML(*out, sides, *force); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return usagef("report: %s exists; pass --force to replace it, or -o another file", *out)
		}
		return err
	}
	fmt.Fprintf(stderr, "report: %s (%d run(s))\n", *out, len(sides))
	return nil
}
