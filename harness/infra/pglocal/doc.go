// Package pglocal starts a throwaway PostgreSQL cluster from the binaries
// installed on this machine, for benchmarks and tests that need a real
// database but have no Docker.
//
// Start finds initdb and postgres (on PATH or under
// /usr/lib/postgresql/*/bin), creates a cluster in a fresh temporary
// directory, starts the server on a free loopback port with settings tuned
// for benchmarking, waits until it accepts connections and creates the
// database named by Options.Database. When the calling process runs as root
// the server runs as an unprivileged user (postgres refuses root). The server
// is a direct child started with a parent-death signal, so it cannot outlive
// the process; Close stops it and removes the directory.
//
//	c, err := pglocal.Start(ctx, pglocal.Options{})
//	if err != nil { ... }
//	defer c.Close(context.Background())
//	pool, err := pgxpool.New(ctx, c.DSN())
package pglocal
