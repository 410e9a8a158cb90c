package results

// Operation is one operation of the workload a run drove.
type Operation struct {
	// Name is the operation's name, as in Architecture.Ops.
	Name string `json:"name"`
	// Query is true for a read, false for a command.
	Query bool `json:"query,omitempty"`
}
