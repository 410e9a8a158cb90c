package pack

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/cqrsbench/cqrsbench/reference"
)

// Executor is what an architecture implements to run a pack: its commands
// and screens, each its own way (reference/pack/derived builds one per
// architecture from the pack).
type Executor interface {
	reference.System
	// Run runs command c in one transaction with the parameter values
	// args (by name) and returns the read-model keys it changed and the
	// values its statements' learn: columns returned. A command the
	// application refused returns a *Rejected error.
	Run(ctx context.Context, c *Command, args map[string]any) (Outcome, error)
	// Show runs screen s with args and returns how many rows it showed.
	Show(ctx context.Context, s *Screen, args map[string]any) (int, error)
}

// WriteModelReader is offered by executors that can serve a screen from
// the write model on the primary, as read-your-writes'
// primary-after-write policy sends an owner's reads right after their
// own command.
type WriteModelReader interface {
	// ShowWriteModel runs screen s's crud: query with args on the
	// primary and returns how many rows it showed.
	ShowWriteModel(ctx context.Context, s *Screen, args map[string]any) (int, error)
}

// Verifier is offered by executors whose screens may show a write later
// than it committed (read-model tables, a replica): whether what they
// show for a key is what the projection gives now.
type Verifier interface {
	// Current reports whether the row the screens read for read model
	// rm's key equals the projection's row for it on the primary (both
	// absent counts as equal).
	Current(ctx context.Context, rm *ReadModel, key []any) (bool, error)
}

// Outcome is what a command did.
type Outcome struct {
	// Changed lists, per read model, the keys the command changed; each
	// key is its columns' values in the read model's key order, sorted by
	// KeyText, each once.
	Changed map[string][][]any
	// Learned are the values of the columns its statements' learn: maps
	// name, to add to those parameters' pools (Params.Learn).
	Learned []Learned
}

// Learned is a value a command returned for a parameter's pool.
type Learned struct {
	Param string
	Value any
}

// Rejected is the error of a command the application refused: a statement
// declared `reject_if_empty` changed no row.
type Rejected struct {
	Command, Statement string
	// Kind is the statement's reject_if_empty value.
	Kind string
}

// Error implements error.
func (e *Rejected) Error() string {
	return fmt.Sprintf("%s refused: statement %s changed no row (%s)", e.Command, e.Statement, e.Kind)
}

// Execer is what RunStatements needs: pgx.Tx and *pgx.Conn satisfy it.
type Execer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// Args returns the values of st's placeholders from args; a parameter
// missing from args is an error.
func (st Statement) Args(args map[string]any) ([]any, error) {
	out := make([]any, len(st.Params))
	for i, name := range st.Params {
		v, ok := args[name]
		if !ok {
			return nil, fmt.Errorf("no value for parameter :%s", name)
		}
		out[i] = v
	}
	return out, nil
}

// RunStatements runs c's statements in order on db (the caller's
// transaction) and collects the keys their result columns give for each
// read model c.Affects names (from every statement whose result has all of
// a read model's key columns: one key per row) and the values of their
// learn: columns. A reject_if_empty statement that changes no row returns
// *Rejected; the caller rolls back.
func RunStatements(ctx context.Context, db Execer, c *Command, args map[string]any) (Outcome, error) {
	out := Outcome{Changed: map[string][][]any{}}
	for _, st := range c.Statements {
		vals, err := st.Args(args)
		if err != nil {
			return Outcome{}, fmt.Errorf("%s.%s: %w", c.Name, st.Name, err)
		}
		rows, err := db.Query(ctx, st.Text, vals...)
		if err != nil {
			return Outcome{}, fmt.Errorf("%s.%s: %w", c.Name, st.Name, err)
		}
		n, err := collect(rows, c.Affects, st.Learn, &out)
		if err != nil {
			return Outcome{}, fmt.Errorf("%s.%s: %w", c.Name, st.Name, err)
		}
		if n == 0 && st.RejectIfEmpty != "" {
			return Outcome{}, &Rejected{Command: c.Name, Statement: st.Name, Kind: st.RejectIfEmpty}
		}
	}
	for rm, keys := range out.Changed {
		out.Changed[rm] = dedupKeys(keys)
	}
	return out, nil
}

// collect reads rows, adds to out the keys of each read model whose key
// columns the rows carry and the values of the learn columns, and returns
// how many rows there were (or were affected, for a statement without
// result columns).
func collect(rows pgx.Rows, affects map[string][]string, learn map[string]string, out *Outcome) (int64, error) {
	defer rows.Close()
	fields := rows.FieldDescriptions()
	at := map[string]int{}
	for i, f := range fields {
		at[f.Name] = i
	}
	type pick struct {
		rm   string
		cols []int
	}
	var picks []pick
	for rm, cols := range affects {
		idx := make([]int, 0, len(cols))
		for _, c := range cols {
			i, ok := at[c]
			if !ok {
				break
			}
			idx = append(idx, i)
		}
		if len(idx) == len(cols) {
			picks = append(picks, pick{rm, idx})
		}
	}
	learnAt := map[string]int{}
	for param, col := range learn {
		if i, ok := at[col]; ok {
			learnAt[param] = i
		}
	}
	var n int64
	for rows.Next() {
		n++
		vals, err := rows.Values()
		if err != nil {
			return n, err
		}
		for _, p := range picks {
			key := make([]any, len(p.cols))
			for i, c := range p.cols {
				key[i] = vals[c]
			}
			out.Changed[p.rm] = append(out.Changed[p.rm], key)
		}
		for param, i := range learnAt {
			out.Learned = append(out.Learned, Learned{Param: param, Value: vals[i]})
		}
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	if len(fields) == 0 {
		n = rows.CommandTag().RowsAffected()
	}
	return n, nil
}

// KeyText is the text a key is locked and versioned by: its values as a
// JSON array.
func KeyText(key []any) string {
	b, err := json.Marshal(key)
	if err != nil {
		return fmt.Sprint(key)
	}
	return string(b)
}

// dedupKeys removes repeated keys and sorts them by KeyText: the order
// read-model keys are locked in, so two commands never wait on each other
// in a cycle.
func dedupKeys(keys [][]any) [][]any {
	slices.SortFunc(keys, func(a, b []any) int {
		ta, tb := KeyText(a), KeyText(b)
		switch {
		case ta < tb:
			return -1
		case ta > tb:
			return 1
		}
		return 0
	})
	return slices.CompactFunc(keys, func(a, b []any) bool { return KeyText(a) == KeyText(b) })
}
