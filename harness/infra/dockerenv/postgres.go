package dockerenv

import (
	"context"
	"fmt"
	"maps"
	"net/url"
	"slices"

	"github.com/jackc/pgx/v5"
	"github.com/moby/moby/api/types/container"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	tcpostgres "github.com/testcontainers/testcontainers-go/modules/postgres"
)

// postgresPort is the server's port inside the container.
const postgresPort = "5432/tcp"

// postgresShmSize is the container's /dev/shm. Docker's default of 64 MB is
// too small for parallel query's dynamic shared memory ("could not resize
// shared memory segment") once work_mem is raised.
const postgresShmSize = 256 << 20

// startPostgres runs the PostgreSQL container and waits until it accepts
// connections.
func (e *Env) startPostgres(ctx context.Context) error {
	c, port, err := e.runWithFreePort(ctx, rolePostgres, e.pgImage, func(ctx context.Context, hostPort int) (testcontainers.Container, error) {
		c, err := tcpostgres.Run(ctx, e.pgImage, append([]testcontainers.ContainerCustomizer{
			testcontainers.WithLogger(tclog.NewNoopLogger()),
			tcpostgres.WithUsername(PostgresUser),
			tcpostgres.WithPassword(PostgresPassword),
			tcpostgres.WithDatabase(PostgresDatabase),
			// Replaces the module's default command (postgres -c fsync=off).
			testcontainers.WithCmd(postgresCommand(e.pgSettings)...),
			testcontainers.WithLabels(labels(rolePostgres)),
			testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
				e.addr.publish(postgresPort, hostPort)(hc)
				hc.ShmSize = postgresShmSize
			}),
			// No wait strategy: awaitPostgres below connects for real. The
			// module's log-based strategy would also never fire, because
			// log_min_messages=warning hides "ready to accept connections",
			// and after a restart it would match the first start's lines.
		}, e.primaryReplicaOptions()...)...)
		return published(ctx, c, err, postgresPort, hostPort)
	})
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	e.pgPort = port
	e.progress.printf("dockerenv: PostgreSQL container up on %s; waiting for connections", e.addr.addr(port))
	e.pgVersion, err = e.awaitPostgres(ctx, c)
	return err
}

// postgresCommand is the container command: the server with one -c per
// setting, sorted so the command is the same on every run.
func postgresCommand(settings map[string]string) []string {
	cmd := []string{"postgres"}
	for _, k := range slices.Sorted(maps.Keys(settings)) {
		cmd = append(cmd, "-c", k+"="+settings[k])
	}
	return cmd
}

// postgresDSN is the URL for the container's database at hostPort.
func postgresDSN(hostPort string) string {
	u := url.URL{
		Scheme:   "postgres",
		User:     url.UserPassword(PostgresUser, PostgresPassword),
		Host:     hostPort,
		Path:     "/" + PostgresDatabase,
		RawQuery: "sslmode=disable",
	}
	return u.String()
}

// awaitPostgres waits up to ReadyTimeout until a pgx connection to the
// published port succeeds and returns the server version. The image's
// entrypoint first runs a temporary server that listens on a Unix socket
// only, so a TCP connection succeeds only once the real server is up.
func (e *Env) awaitPostgres(ctx context.Context, c testcontainers.Container) (string, error) {
	dsn := e.PostgresDSN()
	var version string
	err := awaitReady(ctx, c, "PostgreSQL at "+e.addr.addr(e.pgPort), func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(context.WithoutCancel(ctx))
		return conn.QueryRow(ctx, "SHOW server_version").Scan(&version)
	})
	return version, err
}
