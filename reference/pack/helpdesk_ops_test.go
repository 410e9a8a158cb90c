package pack_test

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference/pack"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// TestHelpdeskScreensAgree loads the helpdesk, materializes each read
// model from its projection and checks, for a sample of owners, that each
// screen's flat query over it returns exactly what its crud query returns
// on the write model; then runs every command many times (each in one
// transaction, rolled back when a reject_if_empty statement changes no
// row, learning the keys it names) and checks the same again on the
// changed data.
func TestHelpdeskScreensAgree(t *testing.T) {
	pool := shared.Pool(t)
	p := mustLoad(t, "../../workloads/helpdesk")
	ds := workload.Dataset{Rows: 2000, Seed: 1, Today: today}
	if _, err := p.Inspect(t.Context(), pool, ds); err != nil {
		t.Fatal(err)
	}
	schema := loadInto(t, pool, p, ds)
	if err := p.CheckProjections(t.Context(), pool, schema); err != nil {
		t.Fatal(err)
	}
	ps, err := p.OpenParams(t.Context(), pool, schema, 1)
	if err != nil {
		t.Fatal(err)
	}
	compareScreens(t, pool, p, ps, schema)

	tickets := ps.Len("ticket")
	done, rejected := map[string]int{}, map[string]int{}
	for round := range 60 {
		for _, c := range p.Commands {
			ok, err := runCommand(t.Context(), pool, schema, ps, c)
			if err != nil {
				t.Fatalf("round %d: %s: %v", round, c.Name, err)
			}
			if ok {
				done[c.Name]++
			} else {
				rejected[c.Name]++
			}
		}
	}
	t.Logf("commands done %v, rejected %v", done, rejected)
	for _, c := range p.Commands {
		if done[c.Name] == 0 {
			t.Errorf("%s never succeeded in 60 runs", c.Name)
		}
	}
	if got, want := ps.Len("ticket"), tickets+done["open_ticket"]; got != want {
		t.Errorf("ticket pool: %d, want %d sampled + %d opened", got, tickets, done["open_ticket"])
	}
	if err := p.CheckProjections(t.Context(), pool, schema); err != nil {
		t.Fatal(err)
	}
	compareScreens(t, pool, p, ps, schema)
}

// inSchema runs fn in a transaction with search_path set to schema and
// commits it.
func inSchema(ctx context.Context, pool *pgxpool.Pool, schema string, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL search_path TO "+pgx.Identifier{schema}.Sanitize()); err != nil {
			return err
		}
		return fn(tx)
	})
}

// compareScreens materializes the read models afresh and compares every
// screen's flat and crud results for 40 draws of its parameters.
func compareScreens(t *testing.T, pool *pgxpool.Pool, p *pack.Pack, ps *pack.Params, schema string) {
	t.Helper()
	ctx := t.Context()
	err := inSchema(ctx, pool, schema, func(tx pgx.Tx) error {
		for _, rm := range p.ReadModels {
			id := pgx.Identifier{rm.Name}.Sanitize()
			if _, err := tx.Exec(ctx, "DROP TABLE IF EXISTS "+id+"; CREATE TABLE "+id+" AS "+rm.Projection.Text); err != nil {
				return fmt.Errorf("materialize %s: %w", rm.Name, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range p.Screens {
		names := slices.Clone(s.CRUD.Params)
		for _, n := range s.Flat.Params {
			if !slices.Contains(names, n) {
				names = append(names, n)
			}
		}
		shown := 0
		for range 40 {
			vals, err := ps.Draw(names)
			if err != nil {
				t.Fatal(err)
			}
			crud := query(t, pool, schema, s.CRUD, names, vals)
			flat := query(t, pool, schema, s.Flat, names, vals)
			if !reflect.DeepEqual(crud, flat) {
				t.Fatalf("%s with %v = %v:\ncrud returns %d rows %v\nflat returns %d rows %v", s.Name, names, vals, len(crud), crud, len(flat), flat)
			}
			if len(crud) > 0 {
				shown++
			}
		}
		if shown < 10 {
			t.Errorf("%s: only %d of 40 owners have rows; the comparison says little", s.Name, shown)
		}
		t.Logf("%s: crud and flat agree for 40 owners, %d with rows", s.Name, shown)
	}
}

// args returns the values of st's parameters from a draw of names.
func args(st pack.Statement, names []string, vals []any) []any {
	out := make([]any, len(st.Params))
	for i, n := range st.Params {
		out[i] = vals[slices.Index(names, n)]
	}
	return out
}

// query runs a screen's query in schema and returns its rows.
func query(t *testing.T, pool *pgxpool.Pool, schema string, st pack.Statement, names []string, vals []any) [][]any {
	t.Helper()
	var out [][]any
	err := inSchema(t.Context(), pool, schema, func(tx pgx.Tx) error {
		rows, err := tx.Query(t.Context(), st.Text, args(st, names, vals)...)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]any, error) { return r.Values() })
		return err
	})
	if err != nil {
		t.Fatalf("%s:%d: %v", st.Source.File, st.Source.Line, err)
	}
	return out
}

// runCommand runs one command in one transaction, as the derived
// architectures do at their simplest; false when a reject_if_empty
// statement changed no row (the transaction is rolled back).
func runCommand(ctx context.Context, pool *pgxpool.Pool, schema string, ps *pack.Params, c *pack.Command) (bool, error) {
	names := c.Params()
	vals, err := ps.Draw(names)
	if err != nil {
		return false, err
	}
	type learned struct {
		param string
		v     any
	}
	var learn []learned
	errRejected := fmt.Errorf("rejected")
	err = inSchema(ctx, pool, schema, func(tx pgx.Tx) error {
		for _, st := range c.Statements {
			rows, err := tx.Query(ctx, st.Text, args(st.Statement, names, vals)...)
			if err != nil {
				return fmt.Errorf("%s: %w", st.Name, err)
			}
			got, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]any, error) { return r.Values() })
			if err != nil {
				return fmt.Errorf("%s: %w", st.Name, err)
			}
			if len(got) == 0 && st.RejectIfEmpty != "" {
				return errRejected
			}
			for param, col := range st.Learn {
				for _, r := range got {
					learn = append(learn, learned{param, r[slices.Index(st.Columns, col)]})
				}
			}
		}
		return nil
	})
	if err == errRejected {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	for _, l := range learn {
		ps.Learn(l.param, l.v)
	}
	return true, nil
}
