package draft

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/pack"
)

// Thresholds of the generators' choice.
const (
	// choiceMax is the most distinct values written out as a choice:.
	choiceMax = 100
	// numberChoiceMax is the most distinct numbers kept as a choice of the
	// source's own values (codes, levels): beyond, a range.
	numberChoiceMax = 20
	// skewRatio: a column is skewed when its most common value is this many
	// times more frequent than the average value.
	skewRatio = 3.0
	// coverFraction: a foreign key whose values reach this fraction of the
	// parent's rows makes its table a fanout of the parent.
	coverFraction = 0.95
)

// Plan is the draft's data: per table, its row count or fanout and the
// generator of each column.
type Plan struct {
	// Main is the table the dataset size sets: the largest with rows:.
	Main   string
	Tables []*TablePlan
}

// TablePlan is the data of one table.
type TablePlan struct {
	Name string
	// Rows is the row count of a rows: table, 0 for a fanout.
	Rows int64
	// Per is the parent of a fanout; Count its count: in YAML.
	Per, Count string
	// Columns are the generators, in table order.
	Columns []ColumnPlan
	// Notes are comments on the table.
	Notes []string
}

// ColumnPlan is the generator of one column: YAML (a flow mapping) and a
// comment saying what it was fitted to, or a TODO.
type ColumnPlan struct {
	Name, YAML, Comment string
}

// MakePlan fits generators to the source's statistics (see package doc).
func MakePlan(src *Source) *Plan {
	pl := &Plan{}
	for _, t := range src.Schema.Tables {
		tp := planTable(src, t)
		pl.Tables = append(pl.Tables, tp)
		if tp.Per == "" && (pl.Main == "" || tp.Rows > src.Rows[pl.Main]) {
			pl.Main = t.Name
		}
	}
	return pl
}

// planTable plans one table.
func planTable(src *Source, t *pack.Table) *TablePlan {
	n := src.Rows[t.Name]
	tp := &TablePlan{Name: t.Name, Rows: n}
	stats := src.Stats[t.Name]
	if n > 0 && stats == nil {
		tp.Notes = append(tp.Notes, "TODO: the source has no statistics of this table (ANALYZE it there, then run init again); its columns get the defaults")
	}
	fanoutFK := fanout(src, t)
	if fanoutFK != nil {
		p := float64(src.Rows[fanoutFK.RefTable])
		mean := float64(n) / p
		tp.Per = fanoutFK.RefTable
		switch {
		case covers(src, t, fanoutFK) && mean < 1.5:
			tp.Count = "1"
		case covers(src, t, fanoutFK):
			// At least one each, the source's mean.
			tp.Count = fmt.Sprintf("{dist: uniform, min: 1, max: %d}", int64(math.Round(2*mean-1)))
		default:
			// Some parents without children: a zipf from 0 when most have
			// none, else a uniform count as likely 0 as in the source.
			none := 0.0
			if st := stats[fanoutFK.Columns[0]]; st != nil {
				none = 1 - st.Distinct(n)/p
			}
			if s, m, ok := zipfCountFit(none, mean); ok {
				tp.Count = fmt.Sprintf("{dist: zipf, min: 0, max: %d, s: %s}", m, num(s, 3))
			} else {
				tp.Count = fmt.Sprintf("{dist: uniform, min: 0, max: %d}", max(1, int64(math.Round(1/max(none, 0.05)-1))))
			}
		}
		tp.Notes = append(tp.Notes, fmt.Sprintf("a fanout of %s: %.2f rows per %s row in the source", fanoutFK.RefTable, mean, fanoutFK.RefTable))
	}
	for _, c := range t.Columns {
		if c.Generated {
			continue
		}
		if fanoutFK != nil && c.Name == fanoutFK.Columns[0] {
			continue // the loader fills it with the parent row's key
		}
		cp := planColumn(src, t, c, n, stats[c.Name], fanoutFK != nil)
		if cp.YAML != "" || cp.Comment != "" {
			cp.Name = c.Name
			tp.Columns = append(tp.Columns, cp)
		}
	}
	return tp
}

// fanout returns the foreign key that makes t a fanout of its parent: the
// first column of a composite primary key (a junction table), or a key
// column whose values cover nearly all the parent's rows; nil when none.
func fanout(src *Source, t *pack.Table) *pack.ForeignKey {
	for i, fk := range t.ForeignKeys {
		if len(fk.Columns) != 1 || fk.RefTable == t.Name || src.Rows[fk.RefTable] == 0 || !parentKeyed(src, fk) {
			continue
		}
		junction := len(t.PrimaryKey) > 1 && t.PrimaryKey[0] == fk.Columns[0]
		if junction || covers(src, t, &t.ForeignKeys[i]) {
			return &t.ForeignKeys[i]
		}
	}
	return nil
}

// covers reports whether fk's column is never NULL and reaches nearly all
// the parent's rows, with at least as many child rows as parents.
func covers(src *Source, t *pack.Table, fk *pack.ForeignKey) bool {
	st := src.Stats[t.Name][fk.Columns[0]]
	n, p := src.Rows[t.Name], src.Rows[fk.RefTable]
	return st != nil && st.NullFrac == 0 && n >= p && st.Distinct(n) >= coverFraction*float64(p)
}

// parentKeyed reports whether fk points at its parent's single-column
// integer primary key, which the draft fills with a sequence.
func parentKeyed(src *Source, fk pack.ForeignKey) bool {
	pt := src.Schema.Table(fk.RefTable)
	if pt == nil || len(pt.PrimaryKey) != 1 || len(fk.RefColumns) != 1 || fk.RefColumns[0] != pt.PrimaryKey[0] {
		return false
	}
	for _, c := range pt.Columns {
		if c.Name == pt.PrimaryKey[0] {
			return isInt(c)
		}
	}
	return false
}

func isInt(c *pack.TableColumn) bool {
	return slices.Contains([]string{"int2", "int4", "int8"}, c.Base)
}

func isText(c *pack.TableColumn) bool {
	return slices.Contains([]string{"text", "varchar", "bpchar", "citext"}, c.Base) && !c.Array
}

func isNumber(c *pack.TableColumn) bool {
	return isInt(c) || slices.Contains([]string{"numeric", "float4", "float8"}, c.Base)
}

// isUnique reports whether column is alone a primary key or unique
// constraint of t.
func isUnique(src *Source, t *pack.Table, column string) bool {
	if len(t.PrimaryKey) == 1 && t.PrimaryKey[0] == column {
		return true
	}
	for _, con := range src.Schema.Constraints {
		if con.Table == t.Name && con.Type == 'u' && (con.Def == "UNIQUE ("+src.Quoted[column]+")") {
			return true
		}
	}
	return false
}

// planColumn fits one column's generator.
func planColumn(src *Source, t *pack.Table, c *pack.TableColumn, rows int64, st *ColumnStats, isFanout bool) ColumnPlan {
	null := ""
	if st != nil && st.NullFrac > 0 && !c.NotNull {
		null = fmt.Sprintf(", null: %s", num(st.NullFrac, 4))
	}
	// Keys first: they must stay unique and parents' keys sequences.
	if isUnique(src, t, c.Name) && len(t.PrimaryKey) == 1 && t.PrimaryKey[0] == c.Name {
		switch {
		case isInt(c):
			return ColumnPlan{YAML: "{sequence: 1}"}
		case isText(c):
			return ColumnPlan{YAML: "{sequence: 1, prefix: k}"}
		}
		return ColumnPlan{Comment: "TODO: a primary key of type " + c.Type + ": give it a generator of unique values (expr:), or leave the type's default if it is random (uuid)"}
	}
	if fk := singleFK(t, c.Name); fk != nil {
		return planRef(src, t, c, *fk, rows, st, null, isFanout)
	}
	if inCompositeFK(t, c.Name) {
		return ColumnPlan{Comment: "TODO: part of a multi-column foreign key: give each of its columns a generator (expr: can compute them from a ref:)"}
	}
	if st == nil || rows == 0 {
		return ColumnPlan{}
	}
	nn := float64(rows) * (1 - st.NullFrac)
	d := st.Distinct(rows)
	from := fmt.Sprintf("source: %s distinct, %s NULL", num(d, 0), num(st.NullFrac, 3))
	unique := isUnique(src, t, c.Name) || st.NDistinct == -1
	switch {
	case c.Base == "bool" || len(c.Labels) > 0:
		values := c.Labels
		if c.Base == "bool" {
			values = []string{"true", "false"}
		}
		return ColumnPlan{YAML: "{choice: " + weightsOf(values, st, func(v string) string {
			if c.Base == "bool" {
				return map[string]string{"t": "true", "f": "false"}[v]
			}
			return v
		}) + null + "}", Comment: from}
	case isText(c) && unique:
		return ColumnPlan{YAML: "{sequence: 1, prefix: v" + null + "}", Comment: from + "; unique labels"}
	case isText(c) && d <= choiceMax && len(st.MCVs) > 0:
		labels := make([]string, int(math.Round(d)))
		for i := range labels {
			labels[i] = "v" + strconv.Itoa(i+1)
		}
		return ColumnPlan{YAML: "{choice: " + synthWeights(labels, st) + null + "}", Comment: from + "; labels in place of the source's text, with its weights"}
	case isText(c):
		return ColumnPlan{YAML: "{" + fitDist(st, d, nn, 1) + ", prefix: v" + null + "}", Comment: from + "; labels in place of the source's text"}
	case isNumber(c) && unique && isInt(c):
		lo, _, ok := numberBounds(st)
		if !ok { // no common values and no histogram: one row, or all NULL
			lo = 1
		}
		return ColumnPlan{YAML: fmt.Sprintf("{sequence: %d%s}", int64(lo), null), Comment: from + "; unique"}
	case isNumber(c) && d <= numberChoiceMax && len(st.MCVs) >= int(math.Round(d)) && len(st.MCVs) > 0:
		return ColumnPlan{YAML: "{choice: " + weightsOf(st.MCVs, st, func(v string) string { return v }) + null + "}", Comment: from + "; the source's codes, with their weights"}
	case isInt(c):
		lo, _, ok := numberBounds(st)
		if !ok {
			return ColumnPlan{}
		}
		return ColumnPlan{YAML: "{" + fitDist(st, d, nn, int64(lo)) + null + "}", Comment: from}
	case isNumber(c):
		lo, hi, ok := numberBounds(st)
		if !ok {
			return ColumnPlan{}
		}
		return ColumnPlan{YAML: fmt.Sprintf("{dist: uniform, min: %s, max: %s%s}", num(lo, 6), num(hi, 6), null), Comment: from + "; the source's range"}
	case slices.Contains([]string{"timestamptz", "timestamp", "date"}, c.Base):
		lo, hi, ok := timeBounds(st)
		if !ok {
			return ColumnPlan{}
		}
		return ColumnPlan{YAML: fmt.Sprintf("{timestamp: {from: %q, to: %q}%s}", lo.Format(time.RFC3339Nano), hi.Format(time.RFC3339Nano), null), Comment: from + "; the source's range"}
	}
	if null != "" {
		return ColumnPlan{YAML: "{" + strings.TrimPrefix(null, ", ") + "}", Comment: from + "; the type's default values"}
	}
	return ColumnPlan{}
}

// planRef fits a foreign key column's ref:.
func planRef(src *Source, t *pack.Table, c *pack.TableColumn, fk pack.ForeignKey, rows int64, st *ColumnStats, null string, isFanout bool) ColumnPlan {
	if !parentKeyed(src, fk) {
		return ColumnPlan{Comment: fmt.Sprintf("TODO: references %s, whose key is not a single integer column the draft fills with a sequence: give it a generator of values %s holds", fk.RefTable, fk.RefTable)}
	}
	p := src.Rows[fk.RefTable]
	if p == 0 {
		if !c.NotNull {
			return ColumnPlan{YAML: "{null: 1}", Comment: fk.RefTable + " has no rows in the source"}
		}
		return ColumnPlan{Comment: "TODO: references " + fk.RefTable + ", which has no rows in the source: give it rows"}
	}
	distinct := ""
	if isFanout && len(t.PrimaryKey) > 1 && slices.Contains(t.PrimaryKey, c.Name) {
		distinct = ", distinct: true"
	}
	if st == nil {
		return ColumnPlan{YAML: "{ref: " + yamlKey(fk.RefTable) + distinct + null + "}"}
	}
	nn := float64(rows) * (1 - st.NullFrac)
	d := st.Distinct(rows)
	from := fmt.Sprintf("source: %s distinct of %d %s rows, %s NULL", num(d, 0), p, fk.RefTable, num(st.NullFrac, 3))
	if top := float64(rows) * firstFreq(st); d < 0.9*uniformDistinct(float64(p), nn) || skewed(top, nn/d) {
		if s, ok := zipfRefFit(d, p, nn); ok {
			return ColumnPlan{YAML: fmt.Sprintf("{ref: %s, dist: zipf, s: %s%s%s}", yamlKey(fk.RefTable), num(s, 3), distinct, null), Comment: from}
		}
	}
	return ColumnPlan{YAML: "{ref: " + yamlKey(fk.RefTable) + distinct + null + "}", Comment: from}
}

// fitDist returns the dist: fields of integers from lo whose nn draws give
// about d distinct values, skewed as the column's most common value says.
func fitDist(st *ColumnStats, d, nn float64, lo int64) string {
	if d < 1 {
		d = 1
	}
	if len(st.MCVFreqs) > 0 && nn > 0 && skewed(st.MCVFreqs[0]*float64(nn)/(1-st.NullFrac), nn/d) {
		top := st.MCVFreqs[0] / (1 - st.NullFrac)
		if s, r, ok := zipfFit(top, d, nn); ok {
			return fmt.Sprintf("dist: zipf, min: %d, max: %d, s: %s", lo, lo+r-1, num(s, 3))
		}
	}
	r, _ := uniformRange(d, nn)
	return fmt.Sprintf("dist: uniform, min: %d, max: %d", lo, lo+r-1)
}

// skewed reports whether the most common value's count top is beyond what
// a uniform draw of mean count mean per value would give by chance.
func skewed(top, mean float64) bool {
	return top > skewRatio*mean && top > mean+4*math.Sqrt(mean)+3
}

// weightsOf writes a choice of values weighted by the source's most common
// values (their text mapped by name to the value written), the values not
// among them sharing what is left.
func weightsOf(values []string, st *ColumnStats, name func(string) string) string {
	w := map[string]float64{}
	var known float64
	for i, v := range st.MCVs {
		w[name(v)] = st.MCVFreqs[i]
		known += st.MCVFreqs[i]
	}
	var rest []string
	for _, v := range values {
		if _, ok := w[v]; !ok {
			rest = append(rest, v)
		}
	}
	left := max(0, 1-st.NullFrac-known)
	parts := make([]string, 0, len(values))
	for _, v := range values {
		wt, ok := w[v]
		if !ok {
			wt = left / float64(len(rest))
		}
		if wt > 0 {
			parts = append(parts, yamlKey(v)+": "+num(wt, 5))
		}
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// synthWeights weights labels: the first ones as the source's most common
// values, in order, the others sharing what is left.
func synthWeights(labels []string, st *ColumnStats) string {
	var known float64
	parts := make([]string, 0, len(labels))
	k := min(len(st.MCVFreqs), len(labels))
	for i := range k {
		known += st.MCVFreqs[i]
	}
	left := max(0, 1-st.NullFrac-known)
	for i, l := range labels {
		wt := 0.0
		if i < k {
			wt = st.MCVFreqs[i]
		} else {
			wt = left / float64(len(labels)-k)
		}
		parts = append(parts, l+": "+num(max(wt, 1e-6), 6))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// firstFreq returns the most common value's fraction of the rows, 0 when
// none is listed.
func firstFreq(st *ColumnStats) float64 {
	if len(st.MCVFreqs) == 0 {
		return 0
	}
	return st.MCVFreqs[0]
}

// numberBounds returns the smallest and largest value the statistics
// show.
func numberBounds(st *ColumnStats) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, v := range slices.Concat(st.MCVs, st.Bounds) {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			continue
		}
		lo, hi = min(lo, f), max(hi, f)
	}
	return lo, hi, lo <= hi
}

// timeLayouts are the ISO forms PostgreSQL prints times in under
// DateStyle ISO and TimeZone UTC.
var timeLayouts = []string{"2006-01-02 15:04:05.999999-07", "2006-01-02 15:04:05.999999", "2006-01-02"}

// timeBounds returns the earliest and latest time the statistics show,
// the latest moved past itself so that the range [lo, hi) holds it.
func timeBounds(st *ColumnStats) (lo, hi time.Time, ok bool) {
	for _, v := range slices.Concat(st.MCVs, st.Bounds) {
		for _, layout := range timeLayouts {
			t, err := time.Parse(layout, v)
			if err != nil {
				continue
			}
			if !ok || t.Before(lo) {
				lo = t
			}
			if !ok || t.After(hi) {
				hi = t
			}
			ok = true
			break
		}
	}
	return lo.UTC(), hi.UTC().Add(time.Second), ok && lo.Before(hi)
}

// singleFK returns the single-column foreign key on column, nil if none.
func singleFK(t *pack.Table, column string) *pack.ForeignKey {
	for i, fk := range t.ForeignKeys {
		if len(fk.Columns) == 1 && fk.Columns[0] == column {
			return &t.ForeignKeys[i]
		}
	}
	return nil
}

// inCompositeFK reports whether column is part of a multi-column foreign
// key.
func inCompositeFK(t *pack.Table, column string) bool {
	for _, fk := range t.ForeignKeys {
		if len(fk.Columns) > 1 && slices.Contains(fk.Columns, column) {
			return true
		}
	}
	return false
}

// num formats f with at most decimals decimals, without trailing zeros.
func num(f float64, decimals int) string {
	s := strconv.FormatFloat(f, 'f', decimals, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}
