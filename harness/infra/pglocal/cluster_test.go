package pglocal_test

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
)

// startCluster starts a cluster for one test and closes it at cleanup.
func startCluster(t *testing.T) *pglocal.Cluster {
	t.Helper()
	infratest.SkipShort(t)
	if _, err := pglocal.FindBinDir(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	ctx := t.Context()
	c, err := pglocal.Start(ctx, pglocal.Options{Settings: map[string]string{"shared_buffers": "128MB"}})
	if err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

func TestClusterServesQueriesAndCloseRemovesEverything(t *testing.T) {
	c := startCluster(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, c.DSN())
	if err != nil {
		t.Fatalf("connect %s: %v", c.DSN(), err)
	}
	var db, sb string
	if err := conn.QueryRow(ctx, "SELECT current_database(), current_setting('shared_buffers')").Scan(&db, &sb); err != nil {
		t.Fatalf("query: %v", err)
	}
	if db != "cqrsbench" || sb != "128MB" {
		t.Errorf("database %q shared_buffers %q, want cqrsbench and 128MB", db, sb)
	}
	// Production-like WAL: a logical replication slot can be made (a WAL
	// relay decodes from one; a replica streams through a WAL sender).
	var lsn string
	if err := conn.QueryRow(ctx, "SELECT lsn::text FROM pg_create_logical_replication_slot('cqrsbench_test', 'pgoutput')").Scan(&lsn); err != nil {
		t.Errorf("create a logical replication slot: %v", err)
	} else if _, err := conn.Exec(ctx, "SELECT pg_drop_replication_slot('cqrsbench_test')"); err != nil {
		t.Errorf("drop the slot: %v", err)
	}
	conn.Close(ctx)
	if !strings.HasPrefix(c.Version(), "1") {
		t.Errorf("Version() = %q, want a server version", c.Version())
	}
	pid, dir := c.PID(), c.Dir()
	if err := c.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if !infratest.Gone(pid) {
		t.Errorf("postgres pid %d still running after Close", pid)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("cluster dir %s still exists after Close (stat err %v)", dir, err)
	}
	if err := c.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestRestartKeepsDataAndAddress(t *testing.T) {
	c := startCluster(t)
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, c.DSN())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, "CREATE TABLE kept(v int); INSERT INTO kept VALUES (42)"); err != nil {
		t.Fatal(err)
	}
	conn.Close(ctx)
	before := c.PID()
	if err := c.Restart(ctx); err != nil {
		t.Fatalf("Restart: %v", err)
	}
	if c.PID() == before || !infratest.Gone(before) {
		t.Errorf("restart kept the old postmaster %d", before)
	}
	conn, err = pgx.Connect(ctx, c.DSN())
	if err != nil {
		t.Fatalf("connect after restart: %v", err)
	}
	defer conn.Close(ctx)
	var v int
	if err := conn.QueryRow(ctx, "SELECT v FROM kept").Scan(&v); err != nil || v != 42 {
		t.Fatalf("data after restart: v=%d err=%v", v, err)
	}
}

func TestRunsUnprivilegedWhenRoot(t *testing.T) {
	c := startCluster(t)
	st, err := os.Stat("/proc/" + strconv.Itoa(c.PID()))
	if err != nil {
		t.Fatal(err)
	}
	uid := st.Sys().(*syscall.Stat_t).Uid
	if os.Geteuid() == 0 && uid == 0 {
		t.Errorf("postgres runs as root")
	}
	if os.Geteuid() != 0 && int(uid) != os.Geteuid() {
		t.Errorf("postgres runs as uid %d, want ours %d", uid, os.Geteuid())
	}
}

func TestBadBinDirSaysWhatToInstall(t *testing.T) {
	t.Parallel()
	_, err := pglocal.Start(t.Context(), pglocal.Options{BinDir: t.TempDir()})
	if !errors.Is(err, pglocal.ErrNoBinaries) || !strings.Contains(err.Error(), "install") {
		t.Fatalf("err = %v, want ErrNoBinaries with an install hint", err)
	}
}

// childEnv makes the test binary act as a process that starts a cluster,
// prints its pid and dir, and waits to be killed.
const childEnv = "PGLOCAL_TEST_CHILD"

func TestMain(m *testing.M) {
	infratest.ServeAsOwner(childEnv, func() ([]any, error) {
		c, err := pglocal.Start(context.Background(), pglocal.Options{Settings: map[string]string{"shared_buffers": "32MB"}})
		if err != nil {
			return nil, err
		}
		return []any{c.PID(), c.Dir()}, nil
	})
	os.Exit(m.Run())
}

func TestServerDiesWithKilledOwnerAndIsSwept(t *testing.T) {
	infratest.SkipShort(t)
	if _, err := pglocal.FindBinDir(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	var pid int
	var dir string
	infratest.KillOwner(t, childEnv, &pid, &dir)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	infratest.AwaitGone(t, pid, 30*time.Second)
	pglocal.SweepStale()
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale dir %s survived SweepStale", dir)
	}
}

// TestStandbyStreamsFromItsPrimary starts a hot standby of a cluster: a
// row committed on the primary becomes visible on the standby, which is in
// recovery and refuses writes; closing the standby stops it, removes its
// directory and drops its replication slot on the primary.
func TestStandbyStreamsFromItsPrimary(t *testing.T) {
	primary := startCluster(t)
	ctx := t.Context()
	standby, err := primary.StartStandby(ctx)
	if err != nil {
		t.Fatalf("StartStandby: %v", err)
	}
	t.Cleanup(func() { _ = standby.Close(context.Background()) })
	if standby.Addr() == primary.Addr() {
		t.Fatalf("standby on the primary's address %s", standby.Addr())
	}
	pconn, err := pgx.Connect(ctx, primary.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer pconn.Close(ctx)
	sconn, err := pgx.Connect(ctx, standby.DSN())
	if err != nil {
		t.Fatal(err)
	}
	var inRecovery bool
	if err := sconn.QueryRow(ctx, "SELECT pg_is_in_recovery()").Scan(&inRecovery); err != nil || !inRecovery {
		t.Errorf("standby: pg_is_in_recovery() = %v, %v; want true", inRecovery, err)
	}
	if _, err := pconn.Exec(ctx, "CREATE TABLE replicated (v text); INSERT INTO replicated VALUES ('from the primary')"); err != nil {
		t.Fatal(err)
	}
	var v string
	for deadline := time.Now().Add(10 * time.Second); ; {
		err := sconn.QueryRow(ctx, "SELECT v FROM replicated").Scan(&v)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the primary's row not on the standby after 10 s: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := sconn.Exec(ctx, "INSERT INTO replicated VALUES ('on the standby')"); err == nil {
		t.Error("the standby accepted a write")
	}
	sconn.Close(ctx)

	pid, dir := standby.PID(), standby.Dir()
	if err := standby.Close(ctx); err != nil {
		t.Fatalf("Close the standby: %v", err)
	}
	if !infratest.Gone(pid) {
		t.Errorf("standby postgres pid %d still running after Close", pid)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("standby dir %s still exists after Close", dir)
	}
	var slots int
	if err := pconn.QueryRow(ctx, "SELECT count(*) FROM pg_replication_slots").Scan(&slots); err != nil || slots != 0 {
		t.Errorf("replication slots left on the primary after the standby's Close: %d (%v)", slots, err)
	}
}
