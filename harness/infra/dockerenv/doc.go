// Package dockerenv is cqrsbench's docker infrastructure provider: it starts a
// PostgreSQL container (testcontainers-go postgres module) and a single-node
// Apache Kafka 4.x broker in KRaft mode (a generic container of the official
// apache/kafka image), waits until real clients get answers from both, and
// removes them again. StartRabbitMQ does the same for a RabbitMQ broker.
//
//	if err := dockerenv.Healthy(ctx); err != nil {
//		// no usable Docker engine: err says why and what to do
//	}
//	env, err := dockerenv.Start(ctx, dockerenv.Options{Progress: os.Stderr})
//	if err != nil { ... }
//	defer env.Close(context.Background())
//	pool, err := pgxpool.New(ctx, env.PostgresDSN())
//	cl, err := kgo.NewClient(kgo.SeedBrokers(env.KafkaBrokers()...))
//
// # Addresses
//
// Both containers publish their port on a host port chosen before the
// container is created (a free port, bound on 127.0.0.1 when the engine is
// local) instead of a port Docker assigns at start. This solves two problems
// at once:
//
//   - Kafka's advertised listener. A Kafka client connects to the seed broker
//     and then to whatever address the broker advertises, so the broker must
//     advertise the address the host can reach: PLAINTEXT://<host>:<host
//     port>. With a Docker-assigned port that address is only known after
//     the container starts, which is why testcontainers' kafka and redpanda
//     modules start a shell that waits for a starter script copied in by a
//     PostStarts hook. With the host port fixed up front the address is
//     known at creation and goes straight into KAFKA_ADVERTISED_LISTENERS;
//     the image's own entrypoint runs unchanged.
//   - Restarts. Docker assigns a new ephemeral host port every time a
//     container starts, so after RestartKafka or RestartPostgres clients
//     configured with the old address could never reconnect, and a
//     starter script copied in at first start would advertise a stale port.
//     A fixed binding survives stop and start: PostgresDSN and KafkaBrokers
//     never change, which is what broker-outage and database-restart faults
//     need.
//
// The price is a small race: a port picked free can be taken by someone else
// before Docker binds it. Start then picks new ports and tries again; a
// restart that loses its port fails with an error that says so.
//
// Kafka gets a second and third listener inside the container: BROKER
// (localhost:29092) for the broker's requests to itself, such as transaction
// markers, which cannot go to the host address from inside the container,
// and CONTROLLER (localhost:29093) for the KRaft quorum.
//
// # A streaming replica
//
// With Options.Replica, Start also runs a hot standby of PostgreSQL in a
// second container of the same image (ReplicaDSN). The two join a network
// of their own, where the primary is known as "postgres" whatever address
// a restart gives it; the replica's first start takes a base backup from
// there (pg_basebackup -R, through a replication slot of its own) and then
// streams. StopReplica and StartReplica take it down and bring it back.
//
// # Cleanup
//
// Close terminates the containers, their anonymous volumes and the network whether or not
// testcontainers' reaper (Ryuk) runs; the reaper is only a safety net for a
// process that dies without calling Close. If Ryuk cannot start on a machine,
// set TESTCONTAINERS_RYUK_DISABLED=true.
//
// The containers carry the labels LabelRole and LabelOwner (host:pid of the
// process that started them), so leftovers can be found with
// docker ps --filter label=org.cqrsbench.role, and a process's own with
// Containers.
//
// # Images
//
// Options and RabbitMQOptions name the images; the defaults are the official
// ones, pulled on first use. Any image that behaves like them will do: on a
// machine without a registry, `make docker-images` builds look-alikes from
// Debian packages (cqrsbench/postgres:15, cqrsbench/kafka:4.1.1,
// cqrsbench/rabbitmq:3.10).
package dockerenv
