package infra

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// CheckReplica checks that the server at replicaDSN is a streaming
// replica of the one at primaryDSN: in recovery (a primary would serve
// its own writes, with no lag to measure) and of the same cluster (the
// same system identifier: a replica of another cluster would serve other
// data). What is wrong is a ConfigError naming field (exit 2); a server
// that cannot be reached is unavailable (exit 3).
func CheckReplica(ctx context.Context, primaryDSN, replicaDSN, field string) error {
	primaryID, _, err := clusterIdentity(ctx, primaryDSN)
	if err != nil {
		return Unavailable("PostgreSQL (primary)", "check the primary's DSN and that it is up", err)
	}
	replicaID, inRecovery, err := clusterIdentity(ctx, replicaDSN)
	if err != nil {
		return Unavailable("PostgreSQL (read replica)", "check "+field+" and that the replica is up", err)
	}
	switch {
	case !inRecovery:
		return &ConfigError{field, "the server is a primary (pg_is_in_recovery() is false), not a replica: " +
			"point it at a streaming replica of the primary (a hot standby)"}
	case replicaID != primaryID:
		return &ConfigError{field, fmt.Sprintf("the server is a replica of another cluster (system identifier %d; the primary's is %d): "+
			"point it at a streaming replica of the primary", replicaID, primaryID)}
	}
	return nil
}

// clusterIdentity returns the system identifier of the server at dsn (the
// same on a primary and its physical replicas) and whether it is in
// recovery.
func clusterIdentity(ctx context.Context, dsn string) (id uint64, inRecovery bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return 0, false, err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var signed int64 // bigint: the identifier's bits, read back unsigned
	if err := conn.QueryRow(ctx, "SELECT system_identifier, pg_is_in_recovery() FROM pg_control_system()").Scan(&signed, &inRecovery); err != nil {
		return 0, false, fmt.Errorf("read the system identifier: %w", err)
	}
	return uint64(signed), inRecovery, nil
}
