package pack

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// defaultDays is how many days before the end of Dataset.Today generated
// times spread over by default.
const defaultDays = 365

// Plan is what a Load of the pack will do: the tables in load order with
// their row counts, and the generator of each column.
type Plan struct {
	// Schema is the write model read from the catalog.
	Schema *Schema
	// Tables lists the tables with data, parents before children.
	Tables []*TablePlan

	pack  *Pack
	seed  uint64
	today time.Time
}

// TablePlan is how one table is filled.
type TablePlan struct {
	Name string
	// Rows is the number of rows it gets.
	Rows int64

	per   *TablePlan
	count Dist
	// maxCount caps a fanout's count per parent row (0: no cap): a
	// distinct ref cannot draw more rows than its table has.
	maxCount int64
	data     *TableData
	copied   []*colPlan // the columns COPY fills, in table order
	exprs    []*colPlan // the columns an expression fills
	seqs     map[string][2]int64
	hasData  bool
}

// colPlan is the generator of one column.
type colPlan struct {
	name string
	make func(*rand.Rand) valueFn
	expr string
	line int
}

// Inspect runs the pack's DDL in a throwaway schema inside a transaction on
// db that it rolls back, reads the write model from the catalog, and plans
// the data of ds: row counts (ds.Rows scales them), load order and every
// column's generator. Mistakes of the pack are *Errors (in an ErrorList);
// other errors are the database's.
func (p *Pack) Inspect(ctx context.Context, db interface {
	Begin(context.Context) (pgx.Tx, error)
}, ds workload.Dataset) (*Plan, error) {
	tx, err := db.Begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("inspect pack %s: %w", p.PackName, err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	const scratch = "cqrsbench_pack_inspect"
	if _, err := tx.Exec(ctx, "CREATE SCHEMA "+scratch); err != nil {
		return nil, fmt.Errorf("inspect pack %s: create a scratch schema: %w", p.PackName, err)
	}
	if err := p.runDDL(ctx, tx, scratch); err != nil {
		return nil, err
	}
	s, err := readSchema(ctx, tx, scratch)
	if err != nil {
		return nil, fmt.Errorf("inspect pack %s: %w", p.PackName, err)
	}
	pl, err := p.plan(s, ds)
	if err == nil {
		err = pl.checkExprs(ctx, tx)
	}
	if err == nil && p.Data.From != "" {
		err = pl.checkSource(ctx)
	}
	if err != nil {
		if _, ok := errors.AsType[ErrorList](err); !ok {
			if _, ok := errors.AsType[*Error](err); !ok {
				return nil, err
			}
		}
		pl = nil
	}
	// The operations are checked even when the data is wrong, so that
	// every mistake is reported at once.
	opsErr := p.inspectOps(ctx, tx, s, pl)
	if err != nil || opsErr != nil {
		return nil, joinErrors(err, opsErr)
	}
	return pl, nil
}

// joinErrors joins the pack errors (each an *Error or an ErrorList) of
// several checks into one; an error that is not a pack's is returned
// alone.
func joinErrors(errs ...error) error {
	var all ErrorList
	for _, err := range errs {
		if err == nil {
			continue
		}
		if l, ok := errors.AsType[ErrorList](err); ok {
			all = append(all, l...)
		} else if e, ok := errors.AsType[*Error](err); ok {
			all = append(all, e)
		} else {
			return err
		}
	}
	return all.err()
}

// plan resolves the data section against the schema.
func (p *Pack) plan(s *Schema, ds workload.Dataset) (*Plan, error) {
	today := ds.Today
	if today.IsZero() {
		today = time.Now()
	}
	y, m, d := today.UTC().Date()
	pl := &Plan{Schema: s, pack: p, seed: ds.Seed, today: time.Date(y, m, d, 0, 0, 0, 0, time.UTC)}
	if p.Data.From != "" {
		pl.planFrom()
		return pl, nil
	}
	r := &resolver{pl: pl, p: p, byName: map[string]*TablePlan{}, scaleTo: int64(ds.Rows)}
	for _, t := range p.Data.Tables {
		if s.table(t.Name) == nil {
			r.errorf(t.Line, "data.tables."+t.Name, "no table %q in the schema; its tables are %s", t.Name, strings.Join(s.tableNames(), ", "))
		}
	}
	for _, t := range s.Tables {
		tp := &TablePlan{Name: t.Name, data: p.Data.table(t.Name), seqs: map[string][2]int64{}}
		r.byName[t.Name] = tp
	}
	order := r.order()
	if len(r.errs) == 0 {
		r.rows(order)
	}
	if len(r.errs) == 0 {
		for _, tp := range order {
			r.columns(tp)
		}
	}
	if err := r.errs.err(); err != nil {
		return nil, err
	}
	for _, tp := range order {
		if tp.hasData {
			pl.Tables = append(pl.Tables, tp)
		}
	}
	return pl, nil
}

// resolver collects the errors of planning.
type resolver struct {
	pl     *Plan
	p      *Pack
	byName map[string]*TablePlan
	// scaleTo is the main table's row count the dataset asks for, 0 for
	// the pack's own.
	scaleTo int64
	errs    ErrorList
}

func (r *resolver) errorf(line int, path, format string, args ...any) {
	r.errs = append(r.errs, &Error{File: r.p.File, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// parents returns the tables a table's generated rows point into (by
// per:, ref: and the foreign keys of columns without a generator), with
// the line that makes each one a parent.
func (r *resolver) parents(t *Table) map[string]int {
	out := map[string]int{}
	data := r.p.Data.table(t.Name)
	if data == nil {
		return out
	}
	if data.Per != "" {
		out[data.Per] = data.PerLine
	}
	for _, c := range t.Columns {
		g := data.column(c.Name)
		switch {
		case g != nil && g.Kind == KindRef:
			out[g.Ref] = g.Line
		case g != nil && (g.Kind != KindDefault || g.Null == 1):
		default:
			if fk := singleFK(t, c.Name); fk != nil {
				line := data.Line
				if g != nil {
					line = g.Line
				}
				if _, ok := out[fk.RefTable]; !ok {
					out[fk.RefTable] = line
				}
			}
		}
	}
	return out
}

// order returns the tables parents first, reporting cycles.
func (r *resolver) order() []*TablePlan {
	s := r.pl.Schema
	state := map[string]int{} // 1 visiting, 2 done
	var out []*TablePlan
	var stack []string
	var visit func(name string)
	visit = func(name string) {
		switch state[name] {
		case 1:
			i := slices.Index(stack, name)
			cycle := append(slices.Clone(stack[i:]), name)
			t := s.table(stack[len(stack)-1])
			line := r.parents(t)[name]
			r.errorf(line, "data.tables."+t.Name, "the generated rows reference each other in a cycle (%s): no table can be filled first; break it by giving one of the columns null: 1 (and set it later) or an expr:", strings.Join(cycle, " → "))
			return
		case 2:
			return
		}
		state[name] = 1
		stack = append(stack, name)
		t := s.table(name)
		ps := r.parents(t)
		names := make([]string, 0, len(ps))
		for p := range ps {
			names = append(names, p)
		}
		slices.Sort(names)
		for _, p := range names {
			if s.table(p) == nil {
				r.errorf(ps[p], "data.tables."+name, "references table %q, which the schema does not create; tables: %s", p, strings.Join(s.tableNames(), ", "))
				continue
			}
			visit(p)
		}
		stack = stack[:len(stack)-1]
		state[name] = 2
		out = append(out, r.byName[name])
	}
	for _, t := range s.Tables {
		visit(t.Name)
	}
	return out
}

// rows sets every table's row count: `rows:` scaled by the dataset, or the
// sum of a fanout's counts over its parent's rows.
func (r *resolver) rows(order []*TablePlan) {
	d := r.p.Data
	main := d.Main
	if main == "" {
		for _, t := range d.Tables {
			if t.Rows >= 0 {
				main = t.Name
				break
			}
		}
	}
	factor := 1.0
	if want := r.scaleTo; want > 0 && main != "" {
		base := d.table(main).Rows
		if base == 0 {
			r.errorf(d.table(main).Line, "data.tables."+main, "the main table has rows: 0, so the dataset's size cannot scale it; give it rows > 0")
			return
		}
		factor = float64(want) / float64(base)
	}
	for _, tp := range order {
		t := tp.data
		switch {
		case t == nil:
		case t.Rows >= 0:
			tp.Rows = t.Rows
			if t.Rows > 0 && factor != 1 {
				tp.Rows = max(1, int64(math.Round(float64(t.Rows)*factor)))
			}
			tp.hasData = true
		default:
			parent := r.byName[t.Per]
			if parent.data == nil {
				r.errorf(t.PerLine, "data.tables."+t.Name+".per", "parent table %q has no entry under data.tables, so it gets no rows; give it rows:", t.Per)
				continue
			}
			tp.per, tp.count, tp.hasData = parent, t.Count, true
			tp.maxCount = r.distinctCap(t)
			tp.Rows = tp.fanoutRows(r.pl.seed)
		}
	}
}

// distinctCap returns the fewest rows among the tables t's distinct ref
// columns point at, already planned (load order puts them first); 0 when
// none: a fanout group cannot hold more distinct picks than that.
func (r *resolver) distinctCap(t *TableData) int64 {
	var lowest int64
	for _, c := range t.Columns {
		if c.Ref == "" || !c.Distinct {
			continue
		}
		if p := r.byName[c.Ref]; p != nil && p.Rows > 0 && (lowest == 0 || p.Rows < lowest) {
			lowest = p.Rows
		}
	}
	return lowest
}

// fanoutRows draws the count of every parent row, as the loader will, and
// returns their sum.
func (tp *TablePlan) fanoutRows(seed uint64) int64 {
	next := tp.counter(seed)
	var n int64
	for range tp.per.Rows {
		n += next()
	}
	return n
}

// counter returns the source of a fanout's per-parent counts.
func (tp *TablePlan) counter(seed uint64) func() int64 {
	d := tp.count
	s := newSampler(d, newStream(seed, tp.Name, "\x00count"))
	return func() int64 {
		n := max(0, int64(math.Round(s())))
		if tp.maxCount > 0 {
			n = min(n, tp.maxCount)
		}
		return n
	}
}

// singleFK returns the single-column foreign key on column, nil if none.
func singleFK(t *Table, column string) *ForeignKey {
	for i, fk := range t.ForeignKeys {
		if len(fk.Columns) == 1 && fk.Columns[0] == column {
			return &t.ForeignKeys[i]
		}
	}
	return nil
}

// inCompositeFK returns a multi-column foreign key holding column.
func inCompositeFK(t *Table, column string) *ForeignKey {
	for i, fk := range t.ForeignKeys {
		if len(fk.Columns) > 1 && slices.Contains(fk.Columns, column) {
			return &t.ForeignKeys[i]
		}
	}
	return nil
}

// integerTypes are the base types sequences, refs and integer defaults fill.
var integerTypes = []string{"int2", "int4", "int8"}

// textTypes are the base types a sequence or dist with prefix: fills.
var textTypes = []string{"text", "varchar", "bpchar", "citext"}

// columns builds the generators of a table's columns.
func (r *resolver) columns(tp *TablePlan) {
	if !tp.hasData {
		return
	}
	t := r.pl.Schema.table(tp.Name)
	path := "data.tables." + tp.Name
	for _, g := range tp.data.Columns {
		if t.column(g.Name) == nil {
			names := make([]string, len(t.Columns))
			for i, c := range t.Columns {
				names[i] = c.Name
			}
			r.errorf(g.Line, path+".columns", "table %s has no column %q; its columns are %s", t.Name, g.Name, strings.Join(names, ", "))
		}
	}
	perDone := false
	for _, c := range t.Columns {
		g := tp.data.column(c.Name)
		cp := &colPlan{name: c.Name, line: tp.data.Line}
		cpath := path
		if g != nil {
			cp.line, cpath = g.Line, path+".columns."+c.Name
		}
		fail := func(format string, args ...any) { r.errorf(cp.line, cpath, format, args...) }
		if c.Generated {
			if g != nil {
				fail("column %s is GENERATED by the schema; remove its generator", c.Name)
			}
			continue
		}
		null := 0.0
		if g != nil {
			null = g.Null
		}
		if null > 0 && c.NotNull {
			fail("column %s is NOT NULL, so null: %v cannot be; remove null: or drop NOT NULL from the schema", c.Name, null)
			continue
		}
		if null == 1 {
			cp.make = constFn(`\N`)
			tp.copied = append(tp.copied, cp)
			continue
		}
		kind := KindDefault
		if g != nil {
			kind = g.Kind
		}
		var mk func(*rand.Rand) valueFn
		switch kind {
		case KindExpr:
			cp.expr = g.Expr
			tp.exprs = append(tp.exprs, cp)
			continue
		case KindSequence:
			mk = sequenceFn(g.Start, g.Step)
			if g.PerParent {
				if tp.data.Per == "" {
					fail("per_parent: true restarts the sequence for each parent row of a fanout; %s has rows:, not per:", tp.Name)
					continue
				}
				mk = perParentSequenceFn(g.Start, g.Step)
			}
			if g.HasPrefix {
				if !slices.Contains(textTypes, c.Base) {
					fail("prefix: makes text; %s is %s: remove prefix:", c.Name, c.Type)
					continue
				}
				mk = prefixFn(copyText(g.Prefix), mk)
				break
			}
			if !slices.Contains(integerTypes, c.Base) && !r.numeric(c) {
				fail("sequence fills number columns; %s is %s (give it prefix: to fill text)", c.Name, c.Type)
				continue
			}
			if !g.PerParent {
				tp.seqs[c.Name] = [2]int64{g.Start, g.Step}
			}
		case KindDist:
			if g.HasPrefix {
				if !slices.Contains(textTypes, c.Base) {
					fail("prefix: makes text; %s is %s: remove prefix:", c.Name, c.Type)
					continue
				}
				mk = prefixFn(copyText(g.Prefix), numberFn(g.Dist, 0))
				break
			}
			if !slices.Contains(integerTypes, c.Base) && !r.numeric(c) {
				fail("dist fills number columns; %s is %s: use choice:, words:, expr: or dist: with prefix:", c.Name, c.Type)
				continue
			}
			dec := g.Dist.Decimals
			if dec < 0 {
				dec = r.decimals(c)
			}
			mk = numberFn(g.Dist, dec)
		case KindChoice:
			vals := make([]string, len(g.Choices))
			for i, v := range g.Choices {
				vals[i] = copyText(v)
			}
			mk = choiceFn(vals, g.Weights)
		case KindTimestamp:
			layout, ok := timeLayouts[c.Base]
			if !ok {
				layout = time.RFC3339Nano
			}
			from, to := g.From, g.To
			if from.IsZero() {
				days := g.MinLen
				if days == 0 {
					days = defaultDays
				}
				to = r.pl.today.AddDate(0, 0, 1)
				from = to.AddDate(0, 0, -days)
			}
			mk = timeFn(from, to, layout)
		case KindWords:
			mk = wordsFn(g.MinLen, g.MaxLen, r.charLimit(c))
		case KindText:
			if l := r.charLimit(c); l > 0 && g.MaxLen > l {
				fail("text of up to %d characters does not fit %s %s; lower max to %d", g.MaxLen, c.Name, c.Type, l)
				continue
			}
			mk = textFn(g.MinLen, g.MaxLen)
		case KindRef:
			mk = r.ref(tp, t, c, g.Ref, g.Dist, g.Distinct, fail)
			if mk == nil {
				continue
			}
		default:
			fk := singleFK(t, c.Name)
			switch {
			case fk != nil && tp.per != nil && fk.RefTable == tp.per.Name && !perDone:
				perDone = true
				start, step, ok := r.parentKey(tp.per, fk.RefColumns[0], fail)
				if !ok {
					continue
				}
				mk = parentKeyFn(start, step)
			case fk != nil:
				mk = r.ref(tp, t, c, fk.RefTable, Dist{Kind: DistUniform}, false, fail)
				if mk == nil {
					continue
				}
			case inCompositeFK(t, c.Name) != nil:
				fk := inCompositeFK(t, c.Name)
				fail("column %s is part of the foreign key %s (%s) → %s, which the loader cannot fill by itself; give each of its columns a generator (expr: can compute them)", c.Name, fk.Name, strings.Join(fk.Columns, ", "), fk.RefTable)
				continue
			case len(t.PrimaryKey) == 1 && t.PrimaryKey[0] == c.Name && slices.Contains(integerTypes, c.Base):
				tp.seqs[c.Name] = [2]int64{1, 1}
				mk = sequenceFn(1, 1)
			case c.Default != "" && null == 0:
				continue // the column's DEFAULT fills it
			default:
				mk = r.typeDefault(c)
				if mk == nil {
					if c.NotNull {
						fail("no generator can fill NOT NULL column %s of type %s by default; give it one (choice: [...] or expr: '...')", c.Name, c.Type)
						continue
					}
					mk = constFn(`\N`)
				}
			}
		}
		cp.make = withNulls(null, mk)
		tp.copied = append(tp.copied, cp)
	}
}

// numeric reports whether c holds decimal numbers.
func (r *resolver) numeric(c *TableColumn) bool {
	return slices.Contains([]string{"numeric", "float4", "float8"}, c.Base)
}

// decimals returns the default number of decimals of c's values.
func (r *resolver) decimals(c *TableColumn) int {
	switch {
	case slices.Contains(integerTypes, c.Base):
		return 0
	case c.Base == "numeric" && c.Mod >= 4:
		return int((c.Mod - 4) & 0xffff)
	}
	return 2
}

// charLimit returns the length limit of a varchar(n) or char(n) column, 0
// for none.
func (r *resolver) charLimit(c *TableColumn) int {
	if (c.Base == "varchar" || c.Base == "bpchar") && c.Mod >= 4 {
		return int(c.Mod - 4)
	}
	return 0
}

// typeDefault returns the generator of a column given none, by its type,
// nil when there is none.
func (r *resolver) typeDefault(c *TableColumn) func(*rand.Rand) valueFn {
	if c.Array {
		return constFn("{}")
	}
	if len(c.Labels) > 0 {
		vals := make([]string, len(c.Labels))
		ws := make([]float64, len(c.Labels))
		for i, l := range c.Labels {
			vals[i], ws[i] = copyText(l), 1
		}
		return choiceFn(vals, ws)
	}
	switch c.Base {
	case "int2":
		return numberFn(Dist{Kind: DistUniform, Min: 1, Max: 100}, 0)
	case "int4", "int8":
		return numberFn(Dist{Kind: DistUniform, Min: 1, Max: 1000}, 0)
	case "numeric", "float4", "float8":
		hi := 1000.0
		dec := r.decimals(c)
		if c.Base == "numeric" && c.Mod >= 4 {
			prec := int((c.Mod - 4) >> 16)
			hi = min(hi, math.Pow10(prec-dec)-1)
		}
		return numberFn(Dist{Kind: DistUniform, Min: 0, Max: hi}, dec)
	case "text", "varchar", "bpchar", "citext", "name":
		return wordsFn(1, 3, r.charLimit(c))
	case "bool":
		return choiceFn([]string{"t", "f"}, []float64{1, 1})
	case "timestamptz", "timestamp", "date", "time":
		to := r.pl.today.AddDate(0, 0, 1)
		return timeFn(to.AddDate(0, 0, -defaultDays), to, timeLayouts[c.Base])
	case "uuid":
		return uuidFn
	case "json", "jsonb":
		return constFn("{}")
	}
	return nil
}

// ref returns the generator of a column pointing into table parent, nil
// after reporting an error.
func (r *resolver) ref(tp *TablePlan, t *Table, c *TableColumn, parent string, d Dist, distinct bool, fail func(string, ...any)) func(*rand.Rand) valueFn {
	pt := r.pl.Schema.table(parent)
	if pt == nil {
		fail("ref: no table %q in the schema; tables: %s", parent, strings.Join(r.pl.Schema.tableNames(), ", "))
		return nil
	}
	var key string
	if fk := singleFK(t, c.Name); fk != nil {
		if fk.RefTable != parent {
			fail("column %s's foreign key %s references %s, not %s; write ref: %s", c.Name, fk.Name, fk.RefTable, parent, fk.RefTable)
			return nil
		}
		key = fk.RefColumns[0]
	} else if len(pt.PrimaryKey) == 1 {
		key = pt.PrimaryKey[0]
	} else {
		fail("ref: %s has no single-column primary key to point at; give %s a foreign key in the schema", parent, c.Name)
		return nil
	}
	ptp := r.byName[parent]
	if ptp.Rows == 0 {
		if !c.NotNull {
			fail("column %s references %s, which gets no rows; give %s rows (under data.tables) or give this column null: 1", c.Name, parent, parent)
		} else {
			fail("column %s references %s, which gets no rows; give %s rows under data.tables", c.Name, parent, parent)
		}
		return nil
	}
	start, step, ok := r.parentKey(ptp, key, fail)
	if !ok {
		return nil
	}
	if distinct && tp.per == nil {
		fail("distinct: true applies to a fanout (per:) table: no parent repeats among the rows of one parent row")
		return nil
	}
	return refFn(ptp.Rows, start, step, d, distinct)
}

// parentKey returns the sequence that fills a parent's key column.
func (r *resolver) parentKey(parent *TablePlan, key string, fail func(string, ...any)) (start, step int64, ok bool) {
	seq, ok := parent.seqs[key]
	if !ok {
		fail("references %s.%s, which is not filled by a sequence; give it sequence: (the loader computes references from it)", parent.Name, key)
		return 0, 0, false
	}
	return seq[0], seq[1], true
}

// checkExprs checks every expr: generator by preparing it over its table's
// other columns.
func (pl *Plan) checkExprs(ctx context.Context, tx pgx.Tx) error {
	var errs ErrorList
	for _, tp := range pl.Tables {
		for _, e := range tp.exprs {
			sql := "SELECT " + e.expr + " FROM (" + tp.stagingSelect() + ") AS " + pgx.Identifier{tp.Name}.Sanitize() + " LIMIT 0"
			_, err := tx.Exec(ctx, "SAVEPOINT expr")
			if err == nil {
				_, err = tx.Exec(ctx, sql)
			}
			if err != nil {
				msg := err.Error()
				if pgErr, ok := err.(*pgconn.PgError); ok {
					msg = pgErr.Message
				}
				errs = append(errs, &Error{File: pl.pack.File, Line: e.line, Path: "data.tables." + tp.Name + ".columns." + e.name + ".expr",
					Msg: "the expression fails: " + msg + "; it may use the table's columns that are not themselves expr:", Err: err})
			}
			if _, err := tx.Exec(ctx, "ROLLBACK TO SAVEPOINT expr"); err != nil {
				return fmt.Errorf("check expressions: %w", err)
			}
		}
	}
	return errs.err()
}

// stagingSelect selects the copied columns of the table (as a subquery
// over a table of those columns would).
func (tp *TablePlan) stagingSelect() string {
	cols := make([]string, len(tp.copied))
	for i, c := range tp.copied {
		cols[i] = pgx.Identifier{c.name}.Sanitize()
	}
	if len(cols) == 0 {
		return "SELECT FROM " + pgx.Identifier{tp.Name}.Sanitize()
	}
	return "SELECT " + strings.Join(cols, ", ") + " FROM " + pgx.Identifier{tp.Name}.Sanitize()
}
