// Package rabbitlocal runs a real, single RabbitMQ node from the RabbitMQ
// installed on this machine (Debian/Ubuntu: apt-get install
// rabbitmq-server), for benchmarks and tests that need a real broker but
// have no Docker.
//
// Start finds the installation's own start script (FindBinaries: not
// Debian's /usr/sbin wrapper, which switches to the rabbitmq user and its
// fixed directories), writes a node of its own in a fresh temporary
// directory — configuration, Erlang cookie, database (mnesia) and logs —
// starts an epmd of its own and the node on free loopback ports (AMQP,
// Erlang distribution, epmd, all bound to 127.0.0.1), and returns once an
// AMQP handshake succeeds with the node's user (DefaultUser and a random
// password, in URL). It runs as whoever calls it, root included. Several
// nodes can run at once: each has its own name, cookie, epmd and ports.
//
// beam.smp and epmd are direct children in their own process groups with a
// parent-death signal, so they cannot outlive the process; Close stops
// both (SIGTERM, then SIGKILL) and removes the directory, and a directory
// left by a process killed with SIGKILL is removed by the next Start.
// Stop, Kill and Restart keep the data, name and ports, so durable queues —
// quorum queues included — and their messages survive: broker-outage fault
// injection.
//
//	n, err := rabbitlocal.Start(ctx, rabbitlocal.Options{Progress: os.Stderr})
//	if errors.Is(err, rabbitlocal.ErrNotInstalled) {
//		// say what to install, and skip
//	}
//	defer n.Close(context.Background())
//	conn, err := amqp091.Dial(n.URL())
package rabbitlocal
