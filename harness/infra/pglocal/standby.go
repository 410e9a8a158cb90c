package pglocal

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"

	"github.com/jackc/pgx/v5"

	"github.com/cqrsbench/cqrsbench/harness/infra/childproc"
)

// StartStandby starts a hot standby of c: a base backup of c taken with
// pg_basebackup (-R: it streams from c, through a physical replication
// slot of its own on c, so c keeps the WAL it has not replayed), started
// on a free loopback port of its own, as c's server user, and awaited by a
// connection. Its DSN names c's database; it serves reads only. Close stops
// it, drops its slot on c and removes its directory; it does not outlive
// this process either. c must run with wal_level replica or logical and
// free WAL senders and slots (DefaultSettings has them).
func (c *Cluster) StartStandby(ctx context.Context) (*Cluster, error) {
	dir, err := os.MkdirTemp("", dirPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("create standby directory: %w", err)
	}
	s := &Cluster{opts: c.opts, binDir: c.binDir, dir: dir, cred: c.cred, settings: maps.Clone(c.settings),
		primary: c, slot: "cqrsbench_standby_" + strconv.Itoa(os.Getpid()) + "_" + filepath.Base(dir)[len(dirPrefix):]}
	if err := s.start(ctx, s.baseBackup); err != nil {
		_ = s.Close(context.WithoutCancel(ctx))
		return nil, fmt.Errorf("start a standby of %s: %w", c.Addr(), err)
	}
	return s, nil
}

// baseBackup fills s's data directory from its primary and configures it
// to stream from there (standby.signal, primary_conninfo, primary_slot_name).
func (s *Cluster) baseBackup(ctx context.Context) error {
	s.progress("pg_basebackup from %s", s.primary.Addr())
	cmd := exec.CommandContext(ctx, filepath.Join(s.binDir, "pg_basebackup"),
		"-d", s.primary.dsn("postgres"), "-D", s.dataDir(),
		"-R", "-X", "stream", "-c", "fast", "-C", "-S", s.slot, "--no-sync")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = childproc.Attr(s.cred, syscall.SIGKILL)
	cmd.Dir = s.dir
	// -R writes a passfile of $HOME into primary_conninfo when one would
	// be read: HOME is the standby's own directory, which holds none.
	cmd.Env = append(os.Environ(), "HOME="+s.dir, "PGPASSFILE="+filepath.Join(s.dir, "no.pgpass"))
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("pg_basebackup failed: %w\n%s", err, childproc.Tail(out.String(), 20))
	}
	return nil
}

// dropSlot drops a standby's replication slot on its primary once the
// standby is stopped (else the primary would keep WAL for it for ever);
// nothing for a primary, or when the primary is gone.
func (s *Cluster) dropSlot(ctx context.Context) error {
	if s.primary == nil || !s.primary.running() {
		return nil
	}
	conn, err := pgx.Connect(ctx, s.primary.dsn("postgres"))
	if err != nil {
		return fmt.Errorf("drop the standby's slot %s: %w", s.slot, err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", s.slot); err != nil {
		return fmt.Errorf("drop the standby's slot %s: %w", s.slot, err)
	}
	return nil
}
