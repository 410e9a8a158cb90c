package pack

// The operations of a pack: its commands and screens, the read models the
// screens are served from, and the SQL statements they run. Parsing fills
// these types (decode_ops.go); the derived architectures execute them.

// Statement is one parameterized SQL statement, compiled: `:name`
// parameters replaced by $1, $2, … in order of first use.
type Statement struct {
	// Source is the statement as written, with its file and line.
	Source SQL
	// Text is the SQL with $n placeholders.
	Text string
	// Params names the parameter of each placeholder: $i takes
	// Params[i-1].
	Params []string
	// Columns names the statement's result columns (a command
	// statement's RETURNING list, a query's select list), as PostgreSQL
	// described them; Inspect fills it, nil before.
	Columns []string

	// uses are the parameters in Source, in order, for errors.
	uses []paramUse
}

// Command is one command of the pack: a transaction of statements.
type Command struct {
	Name string
	Line int
	// Weight is its weight in the pack's default mix.
	Weight float64
	// Statements run in order in one transaction.
	Statements []CommandStatement
	// Affects maps each read model the command changes to the columns,
	// among its statements' RETURNING columns, that give the changed
	// keys, in the read model's key order. The changed keys are read from
	// every statement that returns all these columns, one key per
	// returned row: a statement reading a row's old key (SELECT … FOR
	// UPDATE) and one returning its new key both count. An empty map
	// (`affects: {}`) says the command changes no read model.
	Affects map[string][]string

	// affectsLines holds the line of each read model under affects:.
	affectsLines map[string]int
}

// CommandStatement is one statement of a command.
type CommandStatement struct {
	Statement
	// Name names it in errors.
	Name string
	// RejectIfEmpty, when not "", says that the statement changing no row
	// is the application refusing the command, of this kind (like
	// "invalid_transition"): the transaction is rolled back and the
	// command counted as rejected, not failed.
	RejectIfEmpty string
	// Learn maps a parameter (a `pick` of one column) to a column of
	// this statement's result: after the command commits, each returned
	// value of the column joins the parameter's pool (Params.Learn), so
	// later commands can pick the rows this one created.
	Learn map[string]string

	// line is the line of the statement's entry; learnLines the line of
	// each Learn entry.
	line       int
	learnLines map[string]int
}

// Screen is one screen (a query) of the pack.
type Screen struct {
	Name string
	Line int
	// Weight is its weight in the pack's default mix.
	Weight float64
	// Owner names the parameter whose value says whose screen it is (the
	// customer of "my tickets"); "" when the screen is no one's.
	Owner string
	// CRUD is the query on the write model (crud runs it).
	CRUD Statement
	// ReadModel names the read model that serves the screen in the CQRS
	// architectures; Flat is the query on it.
	ReadModel string
	Flat      Statement

	// ownerLine and readModelLine are the lines of owner: and
	// read_model:.
	ownerLine, readModelLine int
}

// Sequence is a read right after one's own write: a command, then at
// once a screen of the owner whose command it was (the screen's owner
// parameter takes the command's value; its other parameters are drawn).
// It is one operation of the mix; its read is the one read-your-writes
// policies are for.
type Sequence struct {
	Name string
	Line int
	// Weight is its weight in the pack's default mix.
	Weight float64
	// Command and Screen are the command and the screen it runs, set once
	// the names given resolve.
	Command *Command
	Screen  *Screen

	// commandName and screenName are the names given, at their lines.
	commandName, screenName string
	commandLine, screenLine int
}

// ReadModel is one read model: rows with a key, defined by a projection
// query over the write model — the one definition every architecture's
// read side is derived from and the checker diffs against.
type ReadModel struct {
	Name string
	Line int
	// Key names the projection's key columns.
	Key []string
	// Projection is a SELECT over the write model giving the read model's
	// rows, one per key.
	Projection SQL
	// Indexes are the read model's secondary indexes, each its columns
	// (`indexes: ["assignee_id, priority"]`): what its screens' flat
	// queries need, as a table's would. The derived read sides create
	// them; the key is indexed anyway.
	Indexes []string
	// Columns names the projection's columns (the read model's); Inspect
	// fills it, nil before.
	Columns []string

	// keyLine is the line of key:; projection the compiled projection,
	// which takes no parameters.
	keyLine    int
	projection Statement
}

// Parameter sources of a Param.
const (
	ParamPick  = "pick"  // a value (or a tuple) of an existing row
	ParamRange = "range" // a number uniform in [min, max]
	ParamList  = "list"  // one of a list of values, by weight
	ParamWords = "words" // a few words
	ParamText  = "text"  // text of a length
	ParamArray = "array" // arrays of values of other parameters, drawn together
)

// BuiltinNow is the parameter every SQL of a pack may use without
// declaring it: the time of the draw (time.Now, UTC).
const BuiltinNow = "now"

// Param is one named value source of `parameters:`. A SQL statement uses
// it as :name; a tuple's columns as :name.column.
type Param struct {
	Name string
	Line int
	// Kind is one of ParamPick, ParamRange, ParamList, ParamWords,
	// ParamText, ParamArray.
	Kind string

	// Table and Columns: pick (one column, or a tuple's). Tuple is true
	// for `pick: {table:, columns: […]}`, whose columns are drawn from
	// one row and named name.column.
	Table   string
	Columns []string
	Tuple   bool
	// Where filters the rows a pick draws from: a SQL condition over the
	// table's columns.
	Where string
	// Zipf draws the picked rows by a zipf law of exponent S (> 1) over
	// their order (the first rows most); otherwise uniformly.
	Zipf bool
	S    float64

	// Min and Max bound a range; Float is true when either bound was
	// written with a fraction (the values are then float64, else int64).
	Min, Max float64
	Float    bool

	// Values and Weights: list. A value is int64, float64, bool or
	// string, as YAML typed it.
	Values  []any
	Weights []float64

	// MinLen and MaxLen: words (a count of words), text (characters) and
	// array (elements).
	MinLen, MaxLen int

	// Elements: array; the parameters each element draws one value of
	// (a tuple's columns from one row). Columns then names the arrays:
	// the element parameters' names, or their columns for tuples.
	Elements []string
}

// Names returns the names SQL uses for p: its name, or name.column for
// each column of a tuple or array.
func (p *Param) Names() []string {
	if !p.Tuple && p.Kind != ParamArray {
		return []string{p.Name}
	}
	out := make([]string, len(p.Columns))
	for i, c := range p.Columns {
		out[i] = p.Name + "." + c
	}
	return out
}
