package main

import (
	"context"
	"fmt"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"io"
	"os"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/infra"
	"github.com/cqrsbench/cqrsbench/harness/progress"
	"github.com/cqrsbench/cqrsbench/reference/datagen"
)

const loadDescription = `
Creates the write-model schema (customers, addresses, products, images,
status labels, orders, order lines) in SCHEMA and fills it with a generated,
deterministic dataset: the same --seed gives the same data. Loading uses COPY,
then builds indexes and foreign keys and runs ANALYZE; the timings of each
phase are printed.

Without --pg-dsn (or $CQRSBENCH_PG_DSN) the data goes into a throwaway
database that is removed on exit: useful to measure the load itself. To keep
the data, start services with 'cqrsbench infra up' or pass your own database.

Examples:
  cqrsbench load --orders 1000000 --infra local
  cqrsbench load --orders 100000 --pg-dsn postgres://me@127.0.0.1:5432/bench
`

func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var f infraFlags
	fs := flagSet("load", "load [flags]", loadDescription, stdout)
	f.register(fs)
	orders := fs.Int("orders", 100_000, "number of orders to generate (lines, customers and products scale with it)")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same dataset")
	schema := fs.String("schema", catalog.MustLookup(catalog.Baseline()).Schema, "PostgreSQL schema to create and fill (must not exist, or have been created by cqrsbench)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg := datagen.Config{Orders: *orders, Seed: *seed}
	if err := cfg.Validate(); err != nil {
		return usagef("load: %v", err)
	}
	f.skipKafka = true
	env, err := infra.Open(ctx, f.config(stderr))
	if err != nil {
		return err
	}
	defer closeInfra(env, stderr)
	pool, err := pgxpool.New(ctx, env.PostgresDSN())
	if err != nil {
		return infra.Unavailable("PostgreSQL", "check --pg-dsn", err)
	}
	defer pool.Close()

	bar := progress.New(stderr, !f.quiet && progress.IsTerminal(os.Stderr))
	started := time.Now()
	stats, err := datagen.Load(ctx, pool, *schema, cfg, func(p datagen.Progress) { bar.Update(p.Phase, p.Done, p.Total) })
	bar.Finish()
	if err != nil {
		return fmt.Errorf("load %d orders into schema %q: %w", *orders, *schema, err)
	}
	fmt.Fprintf(stdout, "loaded %d orders into %q in %.1fs on %s\n", *orders, *schema, time.Since(started).Seconds(), env.Describe())
	fmt.Fprint(stdout, stats)
	return nil
}
