package replica_test

import (
	"context"
	"testing"

	"github.com/cqrsbench/cqrsbench/internal/pgtest"
	"github.com/cqrsbench/cqrsbench/reference/replica"
)

// TestWaitReplayedAfterAsynchronousCommits: with synchronous_commit = off
// and a WAL writer that waits 10 s, a commit returns long before its WAL
// is written; WaitReplayed must still return only once the replica shows
// each row committed before the call.
func TestWaitReplayedAfterAsynchronousCommits(t *testing.T) {
	ctx := t.Context()
	primary, pool := pgtest.Own(t, map[string]string{"shared_buffers": "32MB", "synchronous_commit": "off", "wal_writer_delay": "10s"})
	standby, err := primary.StartStandby(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = standby.Close(context.Background()) })
	reads := pgtest.Connect(t, standby.DSN())

	if _, err := pool.Exec(ctx, "CREATE TABLE written (n int)"); err != nil {
		t.Fatal(err)
	}
	for n := range 20 {
		if _, err := pool.Exec(ctx, "INSERT INTO written VALUES ($1)", n); err != nil {
			t.Fatal(err)
		}
		if err := replica.WaitReplayed(ctx, pool, reads); err != nil {
			t.Fatal(err)
		}
		var shown bool
		if err := reads.QueryRow(ctx, "SELECT EXISTS (SELECT FROM written WHERE n = $1)", n).Scan(&shown); err != nil || !shown {
			t.Fatalf("row %d committed before WaitReplayed: on the replica %v, %v; want it there", n, shown, err)
		}
	}
}
