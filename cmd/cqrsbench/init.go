package main

import (
	"context"
	"io"

	"github.com/cqrsbench/cqrsbench/reference/pack/draft"
)

const initDescription = `
Writes a draft workload pack (format: workloads/README.md) from an existing
PostgreSQL database into the new directory DIR: its schema (tables, columns,
types, keys, foreign keys, checks, indexes, enums) as schema.sql, and a
workload.yaml whose data generators are fitted to the database's statistics
(pg_stats: row counts, NULL fractions, distinct values, most common values'
weights, ranges) without copying its text. Where pg_stat_statements is
installed, its most frequent statements are listed to turn into commands
and screens. The operations are TODOs, with a commented example to start
from; the draft loads as it is and runs once they are filled in.

The source is read in one READ ONLY transaction: init never writes to it.
Run ANALYZE on it first if its statistics are stale.

Examples:
  cqrsbench init --from-db postgres://me@db.internal:5432/app --out workloads/app
  cqrsbench init --from-db "$APP_DSN" --schema billing --out workloads/billing
`

func runInit(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("init", "init --from-db DSN --out DIR [flags]", initDescription, stdout)
	dsn := fs.String("from-db", "", "PostgreSQL DSN of the database to draft from (read only)")
	out := fs.String("out", "", "directory to write the pack into: new, or empty")
	var opts draft.Options
	fs.StringVar(&opts.Schema, "schema", "public", "the source's schema holding the tables")
	fs.StringVar(&opts.Name, "name", "", "the pack's name (default: the database's name)")
	fs.IntVar(&opts.Statements, "statements", 20, "how many of pg_stat_statements' most frequent statements to list")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dsn == "" || *out == "" {
		return usagef("init: give --from-db DSN and --out DIR (run 'cqrsbench init -h')")
	}
	if opts.Statements < 0 {
		return usagef("init: --statements must be >= 0, got %d", opts.Statements)
	}
	if opts.Statements == 0 {
		opts.Statements = -1 // none
	}
	res, err := draft.Init(ctx, *dsn, *out, opts)
	if err != nil {
		return err
	}
	res.Summarize(stdout)
	return nil
}
