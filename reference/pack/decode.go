package pack

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Load reads the pack in dir: its workload.yaml and the SQL files it names.
// It checks everything that can be checked without a database; Inspect
// checks the rest. Every mistake found is reported, each as an *Error with
// its file and line, in an ErrorList.
func Load(dir string) (*Pack, error) {
	file := filepath.Join(dir, FileName)
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, &Error{File: file, Msg: "cannot read the pack's description; a pack is a directory with a " + FileName + " in it", Err: err}
	}
	d := &decoder{file: file}
	p := &Pack{Dir: dir, File: file}
	d.document(data, p)
	return p, d.errs.err()
}

// decoder walks workload.yaml's node tree, collecting every error.
type decoder struct {
	file string
	dir  string
	errs ErrorList
}

func (d *decoder) errorf(n *yaml.Node, path, format string, args ...any) {
	d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// entry is one key and value of a mapping.
type entry struct {
	key, val *yaml.Node
}

// entries returns the entries of a mapping in order, reporting a node that
// is not a mapping, keys that are not plain words and keys given twice.
func (d *decoder) entries(n *yaml.Node, path, want string) ([]entry, bool) {
	n = alias(n)
	if n.Kind != yaml.MappingNode {
		d.errorf(n, path, "must be %s, got %s", want, describe(n))
		return nil, false
	}
	var out []entry
	seen := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := alias(n.Content[i]), alias(n.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			d.errorf(k, path, "keys must be plain words, got %s", describe(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.errorf(k, join(path, k.Value), "given twice (first on line %d); keep one", first)
			continue
		}
		seen[k.Value] = k.Line
		out = append(out, entry{k, v})
	}
	return out, true
}

// fields is entries for a mapping of fixed field names: unknown names are
// reported with the valid ones.
func (d *decoder) fields(n *yaml.Node, path, want string, valid ...string) (map[string]entry, bool) {
	es, ok := d.entries(n, path, want)
	if !ok {
		return nil, false
	}
	out := make(map[string]entry, len(es))
	for _, e := range es {
		if !slices.Contains(valid, e.key.Value) {
			d.errorf(e.key, path, "unknown field %q; valid fields here: %s", e.key.Value, strings.Join(valid, ", "))
			continue
		}
		out[e.key.Value] = e
	}
	return out, true
}

func (d *decoder) document(data []byte, p *Pack) {
	d.dir = p.Dir
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			d.errs = append(d.errs, &Error{File: d.file, Line: 1, Msg: "the file is empty; give at least name:, schema: and data:"})
			return
		}
		d.errs = append(d.errs, yamlError(d.file, err))
		return
	}
	root := &doc
	if root.Kind == yaml.DocumentNode && len(root.Content) > 0 {
		root = root.Content[0]
	}
	fs, ok := d.fields(root, "", "a mapping with name:, description:, schema: and data:",
		"name", "description", "schema", "data", "parameters", "commands", "screens", "sequences", "read_models")
	if !ok {
		return
	}
	for _, req := range []string{"name", "schema", "data"} {
		if _, ok := fs[req]; !ok {
			d.errorf(root, "", "%s: is missing; every pack gives name:, schema: and data:", req)
		}
	}
	if e, ok := fs["name"]; ok {
		p.PackName, _ = d.str(e.val, "name")
		if p.PackName != "" && !validName(p.PackName) {
			d.errorf(e.val, "name", "%q: use lower-case letters, digits, - and _, starting with a letter", p.PackName)
		}
	}
	if e, ok := fs["description"]; ok {
		p.Description, _ = d.str(e.val, "description")
	}
	if e, ok := fs["schema"]; ok {
		p.Schema = d.sql(e.val, "schema")
	}
	if e, ok := fs["data"]; ok {
		p.Data = d.data(e.key, e.val)
	}
	d.ops(fs, p)
}

// ValidName reports whether s can name a pack: lower-case letters, digits,
// - and _, starting with a letter.
func ValidName(s string) bool { return validName(s) }

// validName reports whether s can name a workload.
func validName(s string) bool {
	for i, r := range s {
		ok := (r >= 'a' && r <= 'z') || (i > 0 && (r >= '0' && r <= '9' || r == '-' || r == '_'))
		if !ok {
			return false
		}
	}
	return s != ""
}

// sql reads a SQL value: a file name relative to the pack's directory
// (ending in .sql), or the SQL itself (usually a `|` block).
func (d *decoder) sql(n *yaml.Node, path string) SQL {
	s, ok := d.str(n, path)
	if !ok {
		return SQL{}
	}
	if strings.TrimSpace(s) == "" {
		d.errorf(n, path, "is empty; name a .sql file of the pack (schema.sql) or write the SQL inline after |")
		return SQL{}
	}
	if !strings.ContainsAny(s, "\n;") && strings.HasSuffix(strings.TrimSpace(s), ".sql") {
		return d.sqlFile(n, path, strings.TrimSpace(s))
	}
	line := n.Line
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		line++ // a block's text starts on the line after its indicator
	}
	return SQL{File: d.file, Line: line, Text: s}
}

// sqlFile reads the SQL file name of the pack, named at n.
func (d *decoder) sqlFile(n *yaml.Node, path, name string) SQL {
	if filepath.IsAbs(name) || strings.HasPrefix(filepath.Clean(name), "..") {
		d.errorf(n, path, "%q: name a file inside the pack's directory, relative to it", name)
		return SQL{}
	}
	file := filepath.Join(d.dir, name)
	text, err := os.ReadFile(file)
	if err != nil {
		d.errs = append(d.errs, &Error{File: d.file, Line: n.Line, Path: path, Msg: fmt.Sprintf("cannot read %s; create it or fix the name", name), Err: err})
		return SQL{}
	}
	return SQL{File: file, Line: 1, Text: string(text)}
}

func (d *decoder) data(key, n *yaml.Node) Data {
	out := Data{Line: key.Line}
	fs, ok := d.fields(n, "data", "a mapping with tables: (and main:), or from:", "main", "tables", "from")
	if !ok {
		return out
	}
	if e, ok := fs["from"]; ok {
		d.from(e, &out)
		for _, other := range []string{"tables", "main"} {
			if o, ok := fs[other]; ok {
				d.errorf(o.key, "data."+other, "from: copies every table of the source; remove %s: (or from: to generate the data)", other)
			}
		}
		return out
	}
	if e, ok := fs["main"]; ok {
		out.Main, _ = d.str(e.val, "data.main")
		out.MainLine = e.key.Line
	}
	e, ok := fs["tables"]
	if !ok {
		d.errorf(key, "data", "tables: is missing; give each table's rows: (or per: and count:) under data.tables")
		return out
	}
	tables, _ := d.entries(e.val, "data.tables", "a mapping of table name to its rows and columns")
	for _, t := range tables {
		out.Tables = append(out.Tables, d.table(t))
	}
	if out.Main != "" {
		if t := out.table(out.Main); t == nil {
			d.errs = append(d.errs, &Error{File: d.file, Line: out.MainLine, Path: "data.main", Msg: fmt.Sprintf("%q is not a table under data.tables; name one of them", out.Main)})
		} else if t.Rows < 0 {
			d.errs = append(d.errs, &Error{File: d.file, Line: out.MainLine, Path: "data.main", Msg: fmt.Sprintf("%q is a fanout (per:); the main table must have rows:", out.Main)})
		}
	}
	return out
}

// from reads `from: DSN` or `from: {dsn: DSN, schema: NAME}`.
func (d *decoder) from(e entry, out *Data) {
	out.FromLine, out.FromSchema = e.key.Line, "public"
	if e.val.Kind == yaml.ScalarNode {
		out.From, _ = d.str(e.val, "data.from")
	} else if fs, ok := d.fields(e.val, "data.from", "a DSN, or a mapping {dsn: DSN, schema: NAME}", "dsn", "schema"); ok {
		if f, ok := fs["dsn"]; ok {
			out.From, _ = d.str(f.val, "data.from.dsn")
		}
		if f, ok := fs["schema"]; ok {
			out.FromSchema, _ = d.str(f.val, "data.from.schema")
		}
	}
	if strings.TrimSpace(out.From) == "" {
		d.errorf(e.key, "data.from", "give the source's DSN, like postgres://me@db.internal:5432/app (${VAR} is read from the environment)")
	}
}

func (d *decoder) table(e entry) *TableData {
	path := "data.tables." + e.key.Value
	t := &TableData{Name: e.key.Value, Line: e.key.Line, Rows: -1}
	fs, ok := d.fields(e.val, path, "a mapping with rows: (or per: and count:) and columns:", "rows", "per", "count", "columns")
	if !ok {
		return t
	}
	rows, hasRows := fs["rows"]
	per, hasPer := fs["per"]
	count, hasCount := fs["count"]
	switch {
	case hasRows && (hasPer || hasCount):
		d.errorf(e.key, path, "give either rows: N or per: parent with count:, not both")
	case hasRows:
		if n, ok := d.int(rows.val, path+".rows"); ok {
			if n < 0 {
				d.errorf(rows.val, path+".rows", "must be >= 0, got %d", n)
			} else {
				t.Rows = n
			}
		}
	case hasPer != hasCount:
		d.errorf(e.key, path, "a fanout gives both per: parent_table and count: (rows per parent row), like {per: customers, count: 10}")
	case hasPer:
		t.Per, _ = d.str(per.val, path+".per")
		t.PerLine = per.key.Line
		t.Count = d.countDist(count.val, path+".count")
	default:
		d.errorf(e.key, path, "give rows: N, or per: parent_table and count: (rows per parent row)")
	}
	if c, ok := fs["columns"]; ok {
		cols, _ := d.entries(c.val, path+".columns", "a mapping of column name to its generator")
		for _, ce := range cols {
			t.Columns = append(t.Columns, d.column(ce, path+".columns."+ce.key.Value))
		}
	}
	return t
}

// countDist reads a fanout's count: a number or a distribution.
func (d *decoder) countDist(n *yaml.Node, path string) Dist {
	if n.Kind == yaml.ScalarNode {
		v, ok := d.int(n, path)
		if ok && v < 0 {
			d.errorf(n, path, "must be >= 0, got %d", v)
		}
		return Dist{Kind: DistConstant, Min: float64(v), Max: float64(v), Line: n.Line}
	}
	fs, ok := d.fields(n, path, "a number or a distribution like {dist: zipf, min: 0, max: 500, s: 1.5}", distFields...)
	if !ok {
		return Dist{}
	}
	dist := d.dist(n, path, fs)
	if dist.HasMin && dist.Min < 0 {
		d.errorf(n, path, "min must be >= 0 for a count, got %v", dist.Min)
	}
	return dist
}

// distFields are the fields of a distribution.
var distFields = []string{"dist", "min", "max", "mean", "stddev", "s", "decimals"}

// dist reads a distribution from a mapping's fields and checks it.
func (d *decoder) dist(n *yaml.Node, path string, fs map[string]entry) Dist {
	out := Dist{Decimals: -1, Line: n.Line}
	e, ok := fs["dist"]
	if !ok {
		d.errorf(n, path, "dist: is missing; write dist: uniform (min, max), normal (mean, stddev) or zipf (max, s)")
		return out
	}
	out.Kind, _ = d.str(e.val, path+".dist")
	num := func(name string) (float64, bool) {
		f, ok := fs[name]
		if !ok {
			return 0, false
		}
		v, ok := d.num(f.val, path+"."+name)
		return v, ok
	}
	out.Min, out.HasMin = num("min")
	out.Max, out.HasMax = num("max")
	mean, hasMean := num("mean")
	stddev, hasStddev := num("stddev")
	s, hasS := num("s")
	out.Mean, out.Stddev, out.S = mean, stddev, s
	if f, ok := fs["decimals"]; ok {
		if v, ok := d.int(f.val, path+".decimals"); ok {
			if v < 0 || v > 12 {
				d.errorf(f.val, path+".decimals", "must be 0 to 12, got %d", v)
			}
			out.Decimals = int(v)
		}
	}
	not := func(names ...string) {
		for _, name := range names {
			if f, ok := fs[name]; ok {
				d.errorf(f.key, path, "%s: does not apply to dist: %s; remove it", name, out.Kind)
			}
		}
	}
	switch out.Kind {
	case DistUniform:
		not("mean", "stddev", "s")
		if !out.HasMin || !out.HasMax {
			d.errorf(e.key, path, "dist: uniform needs min: and max:")
		}
	case DistNormal:
		not("s")
		if !hasMean || !hasStddev {
			d.errorf(e.key, path, "dist: normal needs mean: and stddev:")
		} else if stddev < 0 {
			d.errorf(e.key, path, "stddev must be >= 0, got %v", stddev)
		}
	case DistZipf:
		not("mean", "stddev")
		if !out.HasMin {
			out.Min = 1
		}
		if !out.HasMax || !hasS {
			d.errorf(e.key, path, "dist: zipf needs max: and s: (the exponent, > 1; min: defaults to 1)")
		} else if s <= 1 || math.IsNaN(s) {
			d.errorf(e.key, path, "s must be > 1 (larger is more skewed; 1.1 is mild, 2 strong), got %v", s)
		}
	default:
		d.errorf(e.val, path+".dist", "unknown distribution %s; use uniform, normal or zipf", describe(e.val))
		return out
	}
	if out.HasMin && out.HasMax && out.Min > out.Max {
		d.errorf(e.key, path, "min (%v) is greater than max (%v)", out.Min, out.Max)
	}
	return out
}

// kinds are the keys that choose a column's generator.
var kinds = []string{KindSequence, KindDist, KindChoice, KindTimestamp, KindWords, KindText, KindRef, KindExpr}

// kindFields are the fields each kind takes beside its key (and null).
var kindFields = map[string][]string{
	KindDefault:   nil,
	KindSequence:  {"step", "per_parent", "prefix"},
	KindDist:      append(slices.Clone(distFields[1:]), "prefix"),
	KindChoice:    nil,
	KindTimestamp: nil,
	KindWords:     nil,
	KindText:      nil,
	KindRef:       {"dist", "s", "distinct"},
	KindExpr:      nil,
}

func (d *decoder) column(e entry, path string) *Column {
	c := &Column{Name: e.key.Value, Line: e.key.Line}
	es, ok := d.entries(e.val, path, "a mapping naming a generator, like {dist: uniform, min: 1, max: 5}")
	if !ok {
		return c
	}
	fs := map[string]entry{}
	var kindKeys []*yaml.Node
	_, isRef := fs[KindRef]
	for _, f := range es {
		fs[f.key.Value] = f
		if f.key.Value == KindRef {
			isRef = true
		}
	}
	for _, f := range es {
		// With ref:, dist: says how parents are picked.
		if slices.Contains(kinds, f.key.Value) && !(isRef && f.key.Value == KindDist) {
			kindKeys = append(kindKeys, f.key)
		}
	}
	if len(kindKeys) > 1 {
		d.errorf(kindKeys[1], path, "%s: and %s: are two generators; give one", kindKeys[0].Value, kindKeys[1].Value)
		return c
	}
	if len(kindKeys) == 1 {
		c.Kind = kindKeys[0].Value
	}
	valid := append([]string{"null"}, kindFields[c.Kind]...)
	for _, f := range es {
		if f.key.Value == c.Kind || slices.Contains(valid, f.key.Value) {
			continue
		}
		if c.Kind == KindDefault {
			d.errorf(f.key, path, "unknown field %q; name a generator: %s (and null:)", f.key.Value, strings.Join(kinds, ", "))
		} else {
			d.errorf(f.key, path, "unknown field %q for a %s generator; valid fields: %s", f.key.Value, c.Kind, strings.Join(append([]string{c.Kind}, valid...), ", "))
		}
	}
	if f, ok := fs["null"]; ok {
		if v, ok := d.num(f.val, path+".null"); ok {
			if v < 0 || v > 1 {
				d.errorf(f.val, path+".null", "is the fraction of NULLs, 0 to 1; got %v", v)
			}
			c.Null = v
		}
	}
	if f, ok := fs["prefix"]; ok {
		c.Prefix, _ = d.str(f.val, path+".prefix")
		c.HasPrefix = true
	}
	var kv entry
	if c.Kind != KindDefault {
		kv = fs[c.Kind]
	}
	kp := path + "." + c.Kind
	switch c.Kind {
	case KindSequence:
		c.Start, c.Step = 1, 1
		if kv.val.Kind != yaml.ScalarNode || kv.val.Tag != "!!null" {
			c.Start, _ = d.int(kv.val, kp)
		}
		if f, ok := fs["step"]; ok {
			if c.Step, ok = d.int(f.val, path+".step"); ok && c.Step == 0 {
				d.errorf(f.val, path+".step", "must not be 0")
			}
		}
		if f, ok := fs["per_parent"]; ok {
			c.PerParent, _ = d.bool(f.val, path+".per_parent")
		}
	case KindDist:
		c.Dist = d.dist(e.val, path, fs)
	case KindChoice:
		d.choice(kv.val, kp, c)
	case KindTimestamp:
		d.timestamp(kv.val, kp, c)
	case KindWords, KindText:
		c.MinLen, c.MaxLen = d.lengths(kv.val, kp)
	case KindRef:
		c.Ref, _ = d.str(kv.val, kp)
		c.Dist = Dist{Kind: DistUniform, Line: kv.key.Line}
		if f, ok := fs["dist"]; ok {
			switch k, _ := d.str(f.val, path+".dist"); k {
			case DistUniform:
				c.Dist.Kind = k
			case DistZipf:
				c.Dist.Kind = k
				s, ok := fs["s"]
				if !ok {
					d.errorf(f.key, path, "dist: zipf needs s: (the exponent, > 1): the first parent rows are picked most")
					break
				}
				if c.Dist.S, ok = d.num(s.val, path+".s"); ok && c.Dist.S <= 1 {
					d.errorf(s.val, path+".s", "must be > 1 (larger is more skewed), got %v", c.Dist.S)
				}
			default:
				d.errorf(f.val, path+".dist", "a ref picks parent rows by dist: uniform or zipf, got %s", describe(f.val))
			}
		}
		if f, ok := fs["s"]; ok && c.Dist.Kind != DistZipf {
			d.errorf(f.key, path, "s: applies to dist: zipf only; remove it or add dist: zipf")
		}
		if f, ok := fs["distinct"]; ok {
			c.Distinct, _ = d.bool(f.val, path+".distinct")
		}
	case KindExpr:
		c.Expr, _ = d.str(kv.val, kp)
		if strings.TrimSpace(c.Expr) == "" {
			d.errorf(kv.val, kp, "is empty; write a SQL expression over the row's other columns, like quantity * unit_price")
		}
	}
	return c
}

func (d *decoder) choice(n *yaml.Node, path string, c *Column) {
	values, weights := d.weighted(n, path)
	for _, v := range values {
		c.Choices = append(c.Choices, v.Value)
	}
	c.Weights = weights
}

// weighted reads a list of values [a, b] (equal weights) or a mapping of
// value to weight {open: 60, closed: 40}, and checks that some weight is
// positive.
func (d *decoder) weighted(n *yaml.Node, path string) (values []*yaml.Node, weights []float64) {
	switch n.Kind {
	case yaml.SequenceNode:
		for _, item := range n.Content {
			item = alias(item)
			if _, ok := d.str(item, path); ok {
				values = append(values, item)
				weights = append(weights, 1)
			}
		}
	case yaml.MappingNode:
		es, _ := d.entries(n, path, "a mapping")
		for _, e := range es {
			w, ok := d.num(e.val, path+"."+e.key.Value)
			if ok && w < 0 {
				d.errorf(e.val, path+"."+e.key.Value, "a weight must be >= 0, got %v", w)
				continue
			}
			values = append(values, e.key)
			weights = append(weights, w)
		}
	default:
		d.errorf(n, path, "must be a list of values [a, b] or a mapping of value to weight {open: 60, closed: 40}, got %s", describe(n))
		return nil, nil
	}
	var sum float64
	for _, w := range weights {
		sum += w
	}
	if sum <= 0 {
		d.errorf(n, path, "needs at least one value with a weight > 0")
	}
	return values, weights
}

// timestamp reads {from: T, to: T} or {days: N} (the N days up to the end
// of Dataset.Today).
func (d *decoder) timestamp(n *yaml.Node, path string, c *Column) {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	fs, ok := d.fields(n, path, "a mapping {from: 2024-01-01, to: 2025-01-01} or {days: 90}", "from", "to", "days")
	if !ok {
		return
	}
	at := func(name string) time.Time {
		f, ok := fs[name]
		if !ok {
			return time.Time{}
		}
		s, _ := d.str(f.val, path+"."+name)
		for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02"} {
			if t, err := time.Parse(layout, s); err == nil {
				return t.UTC()
			}
		}
		d.errorf(f.val, path+"."+name, "%q is not a time; write 2024-01-31 or 2024-01-31T12:00:00Z", s)
		return time.Time{}
	}
	if f, ok := fs["days"]; ok {
		if len(fs) > 1 {
			d.errorf(f.key, path, "give either days: or from: and to:")
			return
		}
		if days, ok := d.int(f.val, path+".days"); ok {
			if days <= 0 {
				d.errorf(f.val, path+".days", "must be > 0, got %d", days)
			}
			c.MinLen = int(days)
		}
		return
	}
	c.From, c.To = at("from"), at("to")
	if c.From.IsZero() != c.To.IsZero() {
		d.errorf(n, path, "give both from: and to: (or days:)")
	} else if !c.From.IsZero() && !c.From.Before(c.To) {
		d.errorf(n, path, "from: must be before to:")
	}
}

// lengths reads N or {min: A, max: B}.
func (d *decoder) lengths(n *yaml.Node, path string) (int, int) {
	if n.Kind == yaml.ScalarNode {
		v, ok := d.int(n, path)
		if ok && v < 1 {
			d.errorf(n, path, "must be >= 1, got %d", v)
		}
		return int(v), int(v)
	}
	fs, ok := d.fields(n, path, "a length N or {min: A, max: B}", "min", "max")
	if !ok {
		return 1, 1
	}
	lo, hi := int64(1), int64(1)
	if f, ok := fs["min"]; ok {
		lo, _ = d.int(f.val, path+".min")
	}
	if f, ok := fs["max"]; ok {
		hi, _ = d.int(f.val, path+".max")
	} else {
		d.errorf(n, path, "max: is missing")
	}
	if lo < 1 || lo > hi {
		d.errorf(n, path, "needs 1 <= min <= max, got min %d, max %d", lo, hi)
	}
	return int(lo), int(hi)
}

func (d *decoder) str(n *yaml.Node, path string) (string, bool) {
	n = alias(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		d.errorf(n, path, "must be a single value, got %s", describe(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) int(n *yaml.Node, path string) (int64, bool) {
	n = alias(n)
	var v int64
	if n.Kind != yaml.ScalarNode || n.Tag == "!!str" || n.Decode(&v) != nil {
		f, ok := d.num(n, path)
		if ok && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
			return int64(f), true
		}
		if ok {
			d.errorf(n, path, "must be a whole number, got %s", describe(n))
		}
		return 0, false
	}
	return v, true
}

func (d *decoder) num(n *yaml.Node, path string) (float64, bool) {
	n = alias(n)
	var v float64
	if n.Kind != yaml.ScalarNode || n.Tag == "!!str" || n.Decode(&v) != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		d.errorf(n, path, "must be a number, got %s", describe(n))
		return 0, false
	}
	return v, true
}

func (d *decoder) bool(n *yaml.Node, path string) (bool, bool) {
	n = alias(n)
	var v bool
	if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" || n.Decode(&v) != nil {
		d.errorf(n, path, "must be true or false, got %s", describe(n))
		return false, false
	}
	return v, true
}

// yamlSyntax matches yaml.v3's syntax errors: "yaml: line 3: message".
var yamlSyntax = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlError converts a yaml.v3 syntax error to an *Error at its line.
func yamlError(file string, err error) *Error {
	e := &Error{File: file, Msg: "invalid YAML: " + strings.TrimPrefix(err.Error(), "yaml: "), Err: err}
	if m := yamlSyntax.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = "invalid YAML: " + m[2]
	}
	return e
}

// alias follows *alias nodes to what they name.
func alias(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return alias(n.Alias)
	}
	return n
}

// describe names what a node holds, for "got …" in messages.
func describe(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Tag == "!!null":
		return "nothing"
	case n.Tag == "!!str":
		return strconv.Quote(n.Value)
	default:
		return n.Value
	}
}

// join appends a field name to a path.
func join(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}
