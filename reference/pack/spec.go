package pack

import (
	"strings"
	"time"
)

// FileName is the name of a pack's description inside its directory.
const FileName = "workload.yaml"

// Pack is a parsed workload pack. Load returns it; its fields are what the
// file said, with the lines they were said on.
type Pack struct {
	// Dir is the pack's directory.
	Dir string
	// File is the path of its workload.yaml.
	File string
	// PackName is the pack's name (`name:`), which names the workload.
	PackName string
	// Description says what the application is (`description:`).
	Description string
	// Schema is the write model's DDL (`schema:`).
	Schema SQL
	// Data describes the generated rows (`data:`).
	Data Data
	// Parameters are the named value sources of `parameters:`, in file
	// order.
	Parameters []*Param
	// Commands, Screens and ReadModels are the pack's operations and
	// read models (`commands:`, `screens:`, `read_models:`), in file
	// order.
	Commands   []*Command
	Screens    []*Screen
	ReadModels []*ReadModel
	// Sequences are reads right after one's own write (`sequences:`), in
	// file order.
	Sequences []*Sequence
}

// Name returns the pack's name: the workload's name in scenarios and
// results.
func (p *Pack) Name() string { return p.PackName }

// SQL is SQL text and where it came from, to name the line of an error.
type SQL struct {
	// File is the file holding the text: a .sql file of the pack, or
	// workload.yaml when the SQL is written inline.
	File string
	// Line is the line of File the text's first line is on.
	Line int
	// Text is the SQL.
	Text string
}

// lineOf returns the line of File that byte offset off of Text is on.
func (s SQL) lineOf(off int) int {
	off = min(max(off, 0), len(s.Text))
	return s.Line + strings.Count(s.Text[:off], "\n")
}

// Data is the `data:` section: how many rows each table gets and how each
// column is filled.
type Data struct {
	// Main names the table Dataset.Rows sizes; "" means the first table
	// with `rows:`.
	Main     string
	MainLine int
	// Tables lists the tables given, in file order.
	Tables []*TableData
	// From is the DSN of a database whose tables are copied instead of
	// generated (`from:`), as written: ${VAR} is expanded when it is used.
	// FromSchema is the schema holding them there (default "public");
	// FromLine the line of `from:`.
	From, FromSchema string
	FromLine         int
	// Line is the line of `data:`.
	Line int
}

// table returns the data of the named table, nil if it is not given.
func (d Data) table(name string) *TableData {
	for _, t := range d.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

// TableData is how one table is filled: `rows: N`, or `per: parent` and
// `count:` rows for each row of parent; and generators for its columns.
type TableData struct {
	Name string
	Line int
	// Rows is the row count (before scaling); -1 when the table is a
	// fanout.
	Rows int64
	// Per names the parent table of a fanout; Count is how many rows each
	// parent row gets.
	Per     string
	PerLine int
	Count   Dist
	// Columns lists the generators given, in file order.
	Columns []*Column
}

// column returns the generator of the named column, nil if none is given.
func (t *TableData) column(name string) *Column {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// Generator kinds of a Column.
const (
	KindDefault   = ""          // no generator given: the type's default (and `null:`)
	KindSequence  = "sequence"  // start, start+step, ...
	KindDist      = "dist"      // numbers drawn from a distribution
	KindChoice    = "choice"    // one of a list of values, by weight
	KindTimestamp = "timestamp" // a time uniformly in a range
	KindWords     = "words"     // a few words
	KindText      = "text"      // text of a length
	KindRef       = "ref"       // the key of a row of a parent table
	KindExpr      = "expr"      // a SQL expression over the row
)

// Column is the generator of one column.
type Column struct {
	Name string
	Line int
	Kind string

	// Start and Step: sequence. PerParent restarts it at Start for each
	// parent row of a fanout (line numbers 1, 2, … within an order).
	Start, Step int64
	PerParent   bool
	// Prefix, with HasPrefix, makes a sequence or a dist fill a text
	// column: each value is Prefix followed by the whole number drawn
	// ("v17"), so a text column gets as many distinct values, as skewed,
	// as a number column would.
	Prefix    string
	HasPrefix bool
	// Dist: dist (the numbers), ref (which parent rows: uniform or zipf).
	Dist Dist
	// Choices and Weights: choice.
	Choices []string
	Weights []float64
	// From and To bound timestamp; zero means the default range.
	From, To time.Time
	// MinLen and MaxLen: words (a count of words) and text (characters).
	MinLen, MaxLen int
	// Ref names the parent table; Distinct draws each parent at most once
	// among the rows of one fanout group.
	Ref      string
	Distinct bool
	// Expr is the SQL expression.
	Expr string
	// Null is the fraction of rows whose value is NULL.
	Null float64
}

// Distribution kinds of a Dist.
const (
	DistConstant = "constant"
	DistUniform  = "uniform"
	DistNormal   = "normal"
	DistZipf     = "zipf"
)

// Dist is a distribution of numbers.
type Dist struct {
	Kind string
	// Min and Max bound the values (uniform, zipf; normal clamps to them
	// when HasMin/HasMax). A constant is Min.
	Min, Max       float64
	HasMin, HasMax bool
	// Mean and Stddev: normal.
	Mean, Stddev float64
	// S is zipf's exponent (> 1): value min+k-1 has probability ∝ k^-S.
	S float64
	// Decimals is the number of decimals of the values; -1 means the
	// column type's default (0 for integers, 2 otherwise).
	Decimals int
	Line     int
}
