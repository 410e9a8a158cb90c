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
	// keys, in the read model's key order.
	Affects map[string][]string
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
}
