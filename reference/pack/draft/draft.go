package draft

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/pack"
)

// Result is what Init wrote.
type Result struct {
	Source *Source
	Plan   *Plan
	Dir    string
}

// Init writes the draft pack of the database dsn into the new directory
// dir: Read, MakePlan, Render and Write. The directory is checked before
// the database is read, so a run that would be refused reads nothing.
func Init(ctx context.Context, dsn, dir string, opts Options) (*Result, error) {
	if err := checkOut(dir); err != nil {
		return nil, err
	}
	if opts.Name != "" && !pack.ValidName(opts.Name) {
		return nil, &InputError{fmt.Sprintf("--name %q: use lower-case letters, digits, - and _, starting with a letter", opts.Name)}
	}
	src, err := Read(ctx, dsn, opts)
	if err != nil {
		return nil, err
	}
	pl := MakePlan(src)
	if err := Write(dir, Render(src, pl, opts.Name, time.Now())); err != nil {
		return nil, err
	}
	return &Result{Source: src, Plan: pl, Dir: dir}, nil
}

// Summarize prints what the draft holds and what to do next.
func (r *Result) Summarize(w io.Writer) {
	fmt.Fprintf(w, "wrote a draft pack of %s (schema %s) into %s:\n", r.Source.Database, r.Source.SchemaName, r.Dir)
	for _, tp := range r.Plan.Tables {
		shape := fmt.Sprintf("%d rows", r.Source.Rows[tp.Name])
		if tp.Per != "" {
			shape += ", a fanout of " + tp.Per
		}
		if tp.Name == r.Plan.Main {
			shape += ", the main table"
		}
		todo := ""
		for _, c := range tp.Columns {
			if c.YAML == "" {
				todo = " (TODO in a column)"
			}
		}
		fmt.Fprintf(w, "  %-24s %s%s\n", tp.Name, shape, todo)
	}
	if len(r.Source.Statements) > 0 {
		fmt.Fprintf(w, "the %d most frequent statements are listed in workload.yaml, to turn into commands and screens\n", len(r.Source.Statements))
	} else {
		fmt.Fprintf(w, "no statements listed: %s\n", r.Source.StatementsNote)
	}
	fmt.Fprintf(w, "next: fill in the TODOs at the end of %s/workload.yaml (commands, screens, read models), then\n  cqrsbench run smoke --workload %s\n", r.Dir, r.Dir)
}
