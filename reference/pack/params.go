package pack

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// PickSample is the most rows a pick parameter samples from its table:
// beyond it, rows evenly spaced in key order.
const PickSample = 100_000

// LearnCap is the most values Params.Learn adds to one pick's pool; past
// it, a learned value replaces the oldest learned one.
const LearnCap = 100_000

// Params draws the values of a pack's parameters for one session: picks
// from the rows sampled when it was opened (and the keys learned since),
// ranges, lists, words and text from one seeded random stream. Its
// methods are safe for concurrent use; called from one goroutine, the
// values depend only on the seed, the data and the calls.
type Params struct {
	mu     sync.Mutex
	r      *rand.Rand
	byName map[string]source
}

// source is where one parameter name's values come from.
type source struct {
	s   *paramState
	col int // the column of a tuple's row; 0 otherwise
}

// paramState is the state of one declared parameter.
type paramState struct {
	prm *Param
	// rows is a pick's pool: the sampled rows, then the learned values;
	// next is the ring position of the next learned value once the pool
	// is full.
	rows    [][]any
	sampled int
	next    int
	zipf    *rand.Zipf
	zipfN   int
	// draw draws a value of any other source.
	draw func() any
	// elems are an array's element parameters.
	elems []*paramState
}

// OpenParams samples the rows of every pick parameter from the pack's
// data in schema — all matching rows in key order (the order of the
// picked columns), or PickSample of them evenly spaced — and returns the
// Params drawing from them, seeded with seed. db must also begin
// transactions (a pool, a connection or a transaction do). A pick with no
// row to draw from (its table got no rows, or its where: matches none) is
// an *Error at its line: bad input.
func (p *Pack) OpenParams(ctx context.Context, db workload.DB, schema string, seed uint64) (*Params, error) {
	b, ok := db.(Beginner)
	if !ok {
		return nil, fmt.Errorf("open the parameters of pack %s: %T cannot begin a transaction; pass a pool or a connection", p.PackName, db)
	}
	tx, err := b.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("open the parameters of pack %s: %w", p.PackName, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if _, err := tx.Exec(ctx, "SET LOCAL search_path TO "+pgx.Identifier{schema}.Sanitize()); err != nil {
		return nil, fmt.Errorf("open the parameters of pack %s: %w", p.PackName, err)
	}
	ps := &Params{r: rand.New(rand.NewPCG(seed, 0x7061636b706172)), byName: map[string]source{}}
	var errs ErrorList
	states := make(map[*Param]*paramState, len(p.Parameters))
	for _, prm := range p.Parameters {
		st := &paramState{prm: prm}
		states[prm] = st
		switch prm.Kind {
		case ParamPick:
			if st.rows, err = samplePick(ctx, tx, prm); err != nil {
				return nil, fmt.Errorf("open the parameters of pack %s: parameter %s: %w", p.PackName, prm.Name, err)
			}
			st.sampled = len(st.rows)
			if st.sampled == 0 {
				where := ""
				if prm.Where != "" {
					where = " where " + prm.Where
				}
				errs = append(errs, &Error{File: p.File, Line: prm.Line, Path: "parameters." + prm.Name,
					Msg: fmt.Sprintf("no row of %s%s to pick from in schema %s; give the table rows under data: or loosen the where:", prm.Table, where, schema)})
			}
		case ParamRange:
			st.draw = rangeDraw(prm, ps.r)
		case ParamList:
			index := weightedIndex(prm.Weights)
			st.draw = func() any { return prm.Values[index(ps.r)] }
		case ParamWords, ParamText:
			mk := wordsFn(prm.MinLen, prm.MaxLen, 0)
			if prm.Kind == ParamText {
				mk = textFn(prm.MinLen, prm.MaxLen)
			}
			fn := mk(ps.r)
			st.draw = func() any { return string(fn(nil, &row{})) }
		}
		for i, name := range prm.Names() {
			ps.byName[name] = source{s: st, col: i}
		}
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	for prm, st := range states {
		for _, el := range prm.Elements {
			st.elems = append(st.elems, states[p.param(el)])
		}
	}
	return ps, nil
}

// samplePick reads a pick's rows: all in order, or PickSample evenly
// spaced.
func samplePick(ctx context.Context, tx pgx.Tx, prm *Param) ([][]any, error) {
	rows, err := tx.Query(ctx, pickQuery(prm, pgx.Identifier{prm.Table}.Sanitize(), strconv.Itoa(PickSample)))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]any
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, err
		}
		out = append(out, vals[:len(prm.Columns)])
	}
	return out, rows.Err()
}

// rangeDraw returns a draw of a range: whole numbers in [min, max], or
// floats in [min, max).
func rangeDraw(prm *Param, r *rand.Rand) func() any {
	if prm.Float {
		return func() any { return prm.Min + r.Float64()*(prm.Max-prm.Min) }
	}
	lo, n := int64(prm.Min), int64(prm.Max)-int64(prm.Min)+1
	return func() any { return lo + r.Int64N(n) }
}

// Draw returns one value for each name: a declared parameter, a tuple's
// or an array's column (name.column) or the built-in now. The columns of
// one tuple, and every use of one pick, take their values from one row
// within a Draw, and the columns of one array are drawn together, one
// []any each; so draw all the names of one command (Command.Params) in one
// call.
func (ps *Params) Draw(names []string) ([]any, error) {
	out := make([]any, len(names))
	var now time.Time
	var chosen map[*paramState]int
	var arrays map[*paramState][]any
	ps.mu.Lock()
	defer ps.mu.Unlock()
	for i, name := range names {
		if name == BuiltinNow {
			if now.IsZero() {
				now = time.Now().UTC()
			}
			out[i] = now
			continue
		}
		src, ok := ps.byName[name]
		if !ok {
			return nil, fmt.Errorf("draw parameters: the pack declares no parameter %q", name)
		}
		st := src.s
		if st.draw != nil {
			out[i] = st.draw()
			continue
		}
		if st.prm.Kind == ParamArray {
			cols, ok := arrays[st]
			if !ok {
				cols = st.drawArray(ps.r)
				if arrays == nil {
					arrays = map[*paramState][]any{}
				}
				arrays[st] = cols
			}
			out[i] = cols[src.col]
			continue
		}
		k, ok := chosen[st]
		if !ok {
			k = st.pick(ps.r)
			if chosen == nil {
				chosen = map[*paramState]int{}
			}
			chosen[st] = k
		}
		out[i] = st.rows[k][src.col]
	}
	return out, nil
}

// drawArray draws an array's length, then each element's values, and
// returns one []any per column.
func (st *paramState) drawArray(r *rand.Rand) []any {
	n := st.prm.MinLen + r.IntN(st.prm.MaxLen-st.prm.MinLen+1)
	cols := make([][]any, len(st.prm.Columns))
	for range n {
		c := 0
		for _, el := range st.elems {
			if el.draw != nil {
				cols[c] = append(cols[c], el.draw())
				c++
				continue
			}
			for _, v := range el.rows[el.pick(r)] {
				cols[c] = append(cols[c], v)
				c++
			}
		}
	}
	out := make([]any, len(cols))
	for i, c := range cols {
		out[i] = c
	}
	return out
}

// pick draws the index of a row of the pool: uniformly, or by zipf over
// the pool's order (learned values last).
func (st *paramState) pick(r *rand.Rand) int {
	n := len(st.rows)
	if !st.prm.Zipf {
		return r.IntN(n)
	}
	if st.zipf == nil || st.zipfN != n {
		st.zipf, st.zipfN = rand.NewZipf(r, st.prm.S, 1, uint64(n-1)), n
	}
	return int(st.zipf.Uint64())
}

// Learn adds v to the pool of param, a pick of one column, so that later
// draws may pick it (a key a command created; CommandStatement.Learn says
// which). The pool grows by at most LearnCap values, then a learned value
// replaces the oldest learned one. Names that are not a pick of one
// column are ignored.
func (ps *Params) Learn(param string, v any) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	src, ok := ps.byName[param]
	if !ok || src.s.prm.Kind != ParamPick || src.s.prm.Tuple {
		return
	}
	st := src.s
	if len(st.rows) < st.sampled+LearnCap {
		st.rows = append(st.rows, []any{v})
		return
	}
	st.rows[st.sampled+st.next] = []any{v}
	st.next = (st.next + 1) % LearnCap
}

// Len returns the number of values in the pool of a pick parameter (or of
// a tuple's rows, by a column's name): sampled plus learned; 0 for other
// names.
func (ps *Params) Len(param string) int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return len(ps.byName[param].s.rowsOrNil())
}

func (st *paramState) rowsOrNil() [][]any {
	if st == nil {
		return nil
	}
	return st.rows
}

// Params returns the names of the parameters a command's statements use,
// each once, in order of first use: what to Draw for one run of it.
func (c *Command) Params() []string {
	var out []string
	seen := map[string]bool{}
	for _, st := range c.Statements {
		for _, n := range st.Params {
			if !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}
