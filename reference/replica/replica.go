// Package replica knows how far a PostgreSQL streaming replica is behind
// its primary: the positions in the primary's WAL each has reached, and
// waiting until the replica has replayed what the primary has written.
package replica

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Querier is what the functions need of a connection: *pgxpool.Pool and
// *pgx.Conn satisfy it.
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// flushAsyncCommits is a transaction that writes WAL (a logical decoding
// message, which needs no privilege and changes no table) and commits
// synchronously: its commit flushes the WAL before it, asynchronous
// commits' included. (A transaction that writes no WAL commits without a
// flush whatever synchronous_commit says.)
const flushAsyncCommits = "BEGIN; SET LOCAL synchronous_commit = on; SELECT pg_logical_emit_message(true, 'cqrsbench', 'flush'); COMMIT"

// PollInterval is how often WaitReplayed asks the replica how far it has
// replayed: a replica on loopback replays a commit in well under a
// millisecond, so a coarser poll would be most of what it measures.
const PollInterval = time.Millisecond

// WrittenLSN returns the primary's current WAL write position: every
// transaction that committed before the call ends at or before it. With
// synchronous_commit = off a commit returns before its WAL is written (the
// WAL writer writes it up to 3 × wal_writer_delay later), so WrittenLSN
// first commits a transaction of its own synchronously, which writes and
// flushes everything before it.
func WrittenLSN(ctx context.Context, primary Querier) (string, error) {
	var sync, lsn string
	if err := primary.QueryRow(ctx, "SELECT current_setting('synchronous_commit'), pg_current_wal_lsn()::text").Scan(&sync, &lsn); err != nil {
		return "", fmt.Errorf("read the primary's WAL position: %w", err)
	}
	if sync != "off" {
		return lsn, nil
	}
	if _, err := primary.Exec(ctx, flushAsyncCommits); err != nil {
		_, _ = primary.Exec(context.WithoutCancel(ctx), "ROLLBACK") // a connection of its own must not stay in the failed transaction
		return "", fmt.Errorf("flush the primary's asynchronous commits: %w", err)
	}
	if err := primary.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&lsn); err != nil {
		return "", fmt.Errorf("read the primary's WAL position: %w", err)
	}
	return lsn, nil
}

// Replayed reports whether the replica has replayed the primary's WAL up
// to lsn, so its reads see every transaction committed before lsn.
func Replayed(ctx context.Context, replica Querier, lsn string) (bool, error) {
	var done *bool // NULL when the server is not a replica
	if err := replica.QueryRow(ctx, "SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn", lsn).Scan(&done); err != nil {
		return false, fmt.Errorf("read the replica's replay position: %w", err)
	}
	if done == nil {
		return false, fmt.Errorf("the replica's replay position is NULL: the server is not in recovery (a primary, not a replica)")
	}
	return *done, nil
}

// WaitIfReplica is WaitReplayed for an architecture whose screens read
// reads, which is either primary's pool itself (nothing to wait for:
// ctx's error) or a pool on a streaming replica of it.
func WaitIfReplica(ctx context.Context, primary, reads *pgxpool.Pool) error {
	if reads == primary {
		return ctx.Err()
	}
	return WaitReplayed(ctx, primary, reads)
}

// WaitReplayed returns once replica has replayed everything primary
// committed before the call, polling every PollInterval, or ctx's error.
func WaitReplayed(ctx context.Context, primary, replica Querier) error {
	lsn, err := WrittenLSN(ctx, primary)
	if err != nil {
		return err
	}
	tick := time.NewTicker(PollInterval)
	defer tick.Stop()
	for {
		done, err := Replayed(ctx, replica, lsn)
		if err != nil || done {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait until the replica replays %s: %w", lsn, ctx.Err())
		case <-tick.C:
		}
	}
}
