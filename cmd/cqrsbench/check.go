package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/infra"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
)

const checkDescription = `
Reconciles the read models of every architecture found in the database with
what its write model implies, row by row and field by field, and prints the
missing, extra and mismatched rows with a few samples. Run it when nothing
writes and the read side has caught up (cqrsbench run does this itself after
every architecture). Exits 1 when any read model differs.

Example:
  cqrsbench check --pg-dsn "$CQRSBENCH_PG_DSN"
`

func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flagSet("check", "check --pg-dsn DSN", checkDescription, stdout)
	var f infraFlags
	f.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if f.pgDSN == "" {
		return usagef("check: needs --pg-dsn (or CQRSBENCH_PG_DSN): the database to check")
	}
	f.provider, f.skipKafka = infra.ProviderExternal, true
	env, err := infra.Open(ctx, f.config(nil))
	if err != nil {
		return err
	}
	defer closeInfra(env, stderr)
	pool, err := pgxpool.New(ctx, env.PostgresDSN())
	if err != nil {
		return infra.Unavailable("PostgreSQL", "check --pg-dsn", err)
	}
	defer pool.Close()
	var violations int64
	var checked int
	var schemas []string
	work := catalog.DefaultWorkload()
	for _, desc := range catalog.Table() {
		schemas = append(schemas, desc.Schema)
		arch := desc.Name
		var exists bool
		if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = $1)`, desc.Schema).Scan(&exists); err != nil {
			return fmt.Errorf("check: %w", err)
		}
		if !exists {
			continue
		}
		checked++
		diffs, err := work.Check(ctx, pool, desc.Schema, desc.ReadModels)
		if err != nil {
			return fmt.Errorf("check %s: %w", arch, err)
		}
		if len(diffs) == 0 {
			fmt.Fprintf(stdout, "%-13s reads its write model: nothing to reconcile\n", arch)
		}
		for _, d := range diffs {
			status := "ok"
			if d.Violations() > 0 {
				status = "DIFFERS"
			}
			fmt.Fprintf(stdout, "%-13s %-17s %9d rows  lost %d  extra %d  mismatched %d  %s\n", arch, d.Table, d.Expected, d.Missing, d.Extra, d.Mismatched, status)
			for _, s := range d.Samples {
				fmt.Fprintf(stdout, "    %s\n", s)
			}
			violations += d.Violations()
		}
	}
	if checked == 0 {
		return usagef("check: no cqrsbench architecture schema (%s) in this database", strings.Join(schemas, ", "))
	}
	if violations > 0 {
		return &checkFailed{fmt.Sprintf("%d read-model rows differ from what the write model implies", violations)}
	}
	return nil
}
