// Package pack reads a workload pack — a directory holding workload.yaml
// and the SQL files it names — and loads its data into PostgreSQL.
//
// Load parses and checks the file on its own; (*Pack).Inspect runs the
// schema's DDL in a transaction it rolls back, reads the tables, keys
// and constraints back from the catalog and prepares every SQL statement
// of the operations (commands, screens, read models' projections, picks)
// against them; (*Pack).Load creates the tables in a schema and fills
// them with deterministic generated rows (COPY on several connections,
// then indexes, keys, foreign keys and ANALYZE), or with the rows of an
// existing database when the data says from: (read in one read-only
// snapshot of it). (*Pack).OpenParams
// samples the loaded data for the parameters a session draws, and
// (*Pack).CheckProjections checks the read models' projections on it.
// Every mistake in a pack is an *Error naming the file and line and saying
// what to write instead; its ExitCode is 2. The format is documented for
// users in workloads/README.md.
package pack
