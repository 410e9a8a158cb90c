package dockerenv

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/containerd/errdefs"
	"github.com/jackc/pgx/v5"
	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"github.com/testcontainers/testcontainers-go/network"
)

// The streaming replica (Options.Replica) is a second container of the
// PostgreSQL image. Both join a network of their own, where the primary is
// known by primaryAlias whatever address a restart gives it. On its first
// start the replica's entrypoint takes a base backup of the primary
// (pg_basebackup -R: it then streams from there, through a physical slot
// of its own, so the primary keeps the WAL it has not replayed) and hands
// over to the image's entrypoint, which finds the data directory filled
// and starts the server as a hot standby. A restart finds it filled too.

// roleReplica is the LabelRole value of the replica container.
const roleReplica = "postgres-replica"

// primaryAlias is the primary's host name on the environment's network.
const primaryAlias = "postgres"

// replicaSlot is the physical replication slot the replica streams from.
const replicaSlot = "cqrsbench_replica"

// allowReplication is an init script for the primary's entrypoint: the
// images allow replication connections from loopback only.
const allowReplication = `#!/bin/sh
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
`

// replicaEntrypoint fills an empty data directory from the primary, as
// root (the image's entrypoint then gives the directory to the postgres
// user and starts the server as that user), and execs the entrypoint with
// the container's command.
var replicaEntrypoint = []string{"sh", "-c", `set -e
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  mkdir -p "$PGDATA"
  pg_basebackup -d "$PRIMARY" -D "$PGDATA" -R -X stream -c fast -C -S ` + replicaSlot + `
  chown -R postgres:postgres "$PGDATA"
  chmod 700 "$PGDATA"
fi
exec docker-entrypoint.sh "$@"`, "replica-entrypoint"}

// primaryConninfo is how the replica reaches the primary on the network.
func primaryConninfo() string {
	return fmt.Sprintf("host=%s port=5432 user=%s password=%s dbname=%s application_name=cqrsbench_replica",
		primaryAlias, PostgresUser, PostgresPassword, PostgresDatabase)
}

// primaryReplicaOptions are what the primary container needs when a
// replica will follow it: the network, under primaryAlias, and
// replication connections allowed from it.
func (e *Env) primaryReplicaOptions() []testcontainers.ContainerCustomizer {
	if e.net == nil {
		return nil
	}
	return []testcontainers.ContainerCustomizer{
		network.WithNetwork([]string{primaryAlias}, e.net),
		testcontainers.WithFiles(testcontainers.ContainerFile{
			Reader:            strings.NewReader(allowReplication),
			ContainerFilePath: "/docker-entrypoint-initdb.d/cqrsbench-allow-replication.sh",
			FileMode:          0o755,
		}),
	}
}

// createNetwork creates the network the primary and its replica share.
func (e *Env) createNetwork(ctx context.Context) error {
	nw, err := network.New(ctx, network.WithLabels(labels(rolePostgres)))
	if err != nil {
		return fmt.Errorf("create the network for PostgreSQL and its replica: %w", err)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.net = nw
	return nil
}

// startReplica runs the replica container once the primary is up and
// waits until it accepts connections in recovery.
func (e *Env) startReplica(ctx context.Context) error {
	e.progress.printf("dockerenv: starting a streaming replica of PostgreSQL (pg_basebackup from the primary)")
	c, port, err := e.runWithFreePort(ctx, roleReplica, e.pgImage, func(ctx context.Context, hostPort int) (testcontainers.Container, error) {
		c, err := testcontainers.Run(ctx, e.pgImage,
			testcontainers.WithLogger(tclog.NewNoopLogger()),
			testcontainers.WithExposedPorts(postgresPort),
			testcontainers.WithEntrypoint(replicaEntrypoint...),
			testcontainers.WithCmd(postgresCommand(e.pgSettings)...),
			testcontainers.WithEnv(map[string]string{"PRIMARY": primaryConninfo()}),
			testcontainers.WithLabels(labels(roleReplica)),
			network.WithNetwork([]string{roleReplica}, e.net),
			testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
				e.addr.publish(postgresPort, hostPort)(hc)
				hc.ShmSize = postgresShmSize
			}),
		)
		return published(ctx, c, err, postgresPort, hostPort)
	})
	if err != nil {
		return fmt.Errorf("postgres replica: %w", err)
	}
	e.replicaPort = port
	e.progress.printf("dockerenv: PostgreSQL replica container up on %s; waiting for connections", e.addr.addr(port))
	return e.awaitReplica(ctx, c)
}

// awaitReplica waits until the replica accepts connections and is in
// recovery: a hot standby, not a server that started on its own.
func (e *Env) awaitReplica(ctx context.Context, c testcontainers.Container) error {
	dsn := e.ReplicaDSN()
	return awaitReady(ctx, c, "PostgreSQL replica at "+e.addr.addr(e.replicaPort), func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(context.WithoutCancel(ctx))
		var inRecovery bool
		if err := conn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery); err != nil {
			return err
		}
		if !inRecovery {
			return errors.New("the replica is not in recovery")
		}
		return nil
	})
}

// ReplicaDSN returns the replica's URL on its host-published port (the
// primary's database, read-only); empty without Options.Replica.
func (e *Env) ReplicaDSN() string {
	if e.replicaPort == 0 {
		return ""
	}
	return postgresDSN(e.addr.addr(e.replicaPort))
}

// ReplicaHostPID returns the host's process ID of the replica container's
// main process; 0 without one, or while it is stopped.
func (e *Env) ReplicaHostPID(ctx context.Context) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return hostPID(ctx, e.replica)
}

// StopReplica stops the replica container (fast shutdown), keeping its
// data and address: StartReplica brings it back, and it resumes streaming
// where it stopped.
func (e *Env) StopReplica(ctx context.Context) error {
	return e.stop(ctx, e.replica, "PostgreSQL replica")
}

// StartReplica starts the stopped replica container and waits until it
// accepts connections in recovery.
func (e *Env) StartReplica(ctx context.Context) error {
	return e.start(ctx, e.replica, e.replicaPort, "PostgreSQL replica", func(ctx context.Context) error {
		return e.awaitReplica(ctx, e.replica)
	})
}

// removeNetwork removes the network once its containers are gone; one
// already gone counts as removed.
func removeNetwork(ctx context.Context, nw *testcontainers.DockerNetwork) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), CloseTimeout)
	defer cancel()
	if err := nw.Remove(ctx); err != nil && !errdefs.IsNotFound(err) {
		return fmt.Errorf("remove network %s: %w (remove it by hand: docker network rm %s)", nw.Name, err, nw.Name)
	}
	return nil
}
