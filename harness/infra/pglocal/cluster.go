package pglocal

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cqrsbench/cqrsbench/harness/infra/childproc"
)

// Options configures a throwaway cluster. The zero value is ready to use.
type Options struct {
	// BinDir holds initdb and postgres. Default: found by FindBinDir.
	BinDir string
	// User is the database superuser to create. Default "cqrsbench".
	User string
	// Database is created after start-up. Default "cqrsbench".
	Database string
	// Settings override or extend DefaultSettings (name → value).
	Settings map[string]string
	// RunAs is the OS user the server runs as when this process is root.
	// Default "nobody". Ignored when not root.
	RunAs string
	// StartTimeout bounds each wait for the server to accept connections.
	// Default 60s.
	StartTimeout time.Duration
	// Progress receives one-line status messages; nil is silent.
	Progress io.Writer
}

// DefaultSettings are the server settings applied to every cluster: tuned for
// a benchmark on a developer machine, and otherwise what teams run in
// production: durable commits (fsync on), and WAL for replicas and logical
// decoding (wal_level=logical, WAL senders and replication slots), which a
// streaming replica and a WAL-reading outbox relay need. It costs the
// dataset's bulk load its WAL, which wal_level=minimal would skip.
func DefaultSettings() map[string]string {
	return map[string]string{
		"shared_buffers":        "1GB",
		"effective_cache_size":  "4GB",
		"maintenance_work_mem":  "512MB",
		"work_mem":              "16MB",
		"max_connections":       "200",
		"max_wal_size":          "8GB",
		"checkpoint_timeout":    "30min",
		"wal_level":             "logical",
		"max_wal_senders":       "10",
		"max_replication_slots": "10",
		// A replication slot keeps WAL for as long as its reader is
		// down: bounded, so a WAL relay down too long cannot fill the
		// disk. Past it the slot is lost, which the results report.
		"max_slot_wal_keep_size": "2GB",
		"random_page_cost":       "1.1",
		"jit":                    "off",
		"fsync":                  "on",
		"synchronous_commit":     "on",
		"log_min_messages":       "warning",
		// Per-statement cost for the results (calls, execution time,
		// blocks); it adds a hash lookup per statement.
		"shared_preload_libraries": "pg_stat_statements",
	}
}

// Cluster is a running throwaway PostgreSQL cluster.
type Cluster struct {
	opts     Options
	binDir   string
	dir      string
	port     int
	settings map[string]string
	cred     *syscall.Credential
	version  string
	// primary and slot are a standby's primary and the physical
	// replication slot it streams from (StartStandby); nil and "" for a
	// primary.
	primary *Cluster
	slot    string

	mu      sync.Mutex
	proc    *exec.Cmd
	exited  chan struct{} // closed when proc has been reaped
	waitErr error
	closed  bool
}

// dirPrefix is the prefix of every cluster directory in os.TempDir().
const dirPrefix = "cqrsbench-pg-"

// Start creates and starts a cluster and waits until it accepts connections.
// On error nothing is left behind.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	opts = withDefaults(opts)
	binDir, err := FindBinDir(opts.BinDir)
	if err != nil {
		return nil, err
	}
	cred, err := serverCredential(opts.RunAs)
	if err != nil {
		return nil, err
	}
	SweepStale()
	dir, err := os.MkdirTemp("", dirPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("create cluster directory: %w", err)
	}
	c := &Cluster{opts: opts, binDir: binDir, dir: dir, cred: cred, settings: DefaultSettings()}
	if _, err := os.Stat(filepath.Join(binDir, "..", "lib", "pg_stat_kcache.so")); err == nil {
		// Installed beside the server: the statements' CPU time too.
		c.settings["shared_preload_libraries"] += ",pg_stat_kcache"
	}
	maps.Copy(c.settings, opts.Settings)
	if err := c.start(ctx, c.initdb); err != nil {
		_ = c.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return c, nil
}

func withDefaults(o Options) Options {
	if o.User == "" {
		o.User = "cqrsbench"
	}
	if o.Database == "" {
		o.Database = "cqrsbench"
	}
	if o.RunAs == "" {
		o.RunAs = "nobody"
	}
	if o.StartTimeout <= 0 {
		o.StartTimeout = 60 * time.Second
	}
	return o
}

// serverCredential returns the credential to run postgres with: nil when not
// root, the RunAs user otherwise.
func serverCredential(runAs string) (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup(runAs)
	if err != nil {
		return nil, fmt.Errorf("running as root, postgres needs an unprivileged user to run as: look up %q: %w (create the user or set another)", runAs, err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("uid of %q: %w", runAs, err)
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("gid of %q: %w", runAs, err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// start fills the data directory with fill (initdb, or a base backup for a
// standby), launches the server on a free port and prepares it.
func (c *Cluster) start(ctx context.Context, fill func(context.Context) error) error {
	if err := childproc.WriteOwner(c.dir); err != nil {
		return fmt.Errorf("write owner file: %w", err)
	}
	if c.cred != nil {
		if err := os.Chown(c.dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			return fmt.Errorf("hand cluster directory to the server user: %w", err)
		}
	}
	if err := fill(ctx); err != nil {
		return err
	}
	const attempts = 3
	var err error
	for range attempts {
		c.port, err = freePort()
		if err != nil {
			return err
		}
		if err = c.launch(ctx); err == nil {
			break
		}
		if !errors.Is(err, errPortTaken) {
			return err
		}
	}
	if err != nil {
		return err
	}
	return c.prepare(ctx)
}

func (c *Cluster) initdb(ctx context.Context) error {
	c.progress("initdb (%s)", c.binDir)
	pwfile := filepath.Join(c.dir, "initdb.log")
	cmd := exec.CommandContext(ctx, filepath.Join(c.binDir, "initdb"),
		"-D", c.dataDir(), "-U", c.opts.User, "--auth=trust", "--encoding=UTF8",
		"--locale=C", "--no-sync", "--no-instructions")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = childproc.Attr(c.cred, syscall.SIGKILL)
	cmd.Dir = c.dir
	if err := cmd.Run(); err != nil {
		_ = os.WriteFile(pwfile, out.Bytes(), 0o644)
		hint := ""
		if c.cred != nil {
			hint = fmt.Sprintf(" (the server runs as %q: it must be able to reach %s; set TMPDIR to a directory it can traverse)", c.opts.RunAs, c.dir)
		}
		return fmt.Errorf("initdb failed: %w%s\n%s", err, hint, childproc.Tail(out.String(), 20))
	}
	return nil
}

var errPortTaken = errors.New("port taken")

// launch starts the postmaster on c.port and waits until it accepts
// connections.
func (c *Cluster) launch(ctx context.Context) error {
	logPath := filepath.Join(c.dir, "postgres.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open server log: %w", err)
	}
	defer logFile.Close()
	args := []string{"-D", c.dataDir(), "-p", strconv.Itoa(c.port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories=" + c.dir}
	for _, k := range slices.Sorted(maps.Keys(c.settings)) {
		args = append(args, "-c", k+"="+c.settings[k])
	}
	// Not CommandContext: the server's lifetime is the cluster's, not ctx's.
	cmd := exec.Command(filepath.Join(c.binDir, "postgres"), args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.Dir = c.dir
	// Own process group: a Ctrl-C on the terminal reaches us, and we stop
	// the server in order. Pdeathsig: the server cannot outlive us.
	cmd.SysProcAttr = childproc.Attr(c.cred, syscall.SIGQUIT)
	c.progress("starting postgres on 127.0.0.1:%d", c.port)
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	exited := make(chan struct{})
	c.mu.Lock()
	c.proc, c.exited, c.waitErr = cmd, exited, nil
	c.mu.Unlock()
	go func() {
		err := cmd.Wait()
		c.mu.Lock()
		c.waitErr = err
		c.mu.Unlock()
		close(exited)
	}()
	if err := c.awaitReady(ctx, exited); err != nil {
		c.kill()
		log, _ := os.ReadFile(logPath)
		if bytes.Contains(log, []byte("could not bind")) || bytes.Contains(log, []byte("Address already in use")) {
			return fmt.Errorf("%w: %d", errPortTaken, c.port)
		}
		return fmt.Errorf("postgres did not become ready: %w\nserver log (%s):\n%s", err, logPath, childproc.Tail(string(log), 20))
	}
	return nil
}

// awaitReady polls with real connections until the server answers, the
// process exits, or the timeout or ctx ends.
func (c *Cluster) awaitReady(ctx context.Context, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, c.opts.StartTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(attempt, c.dsn("postgres"))
		cancelAttempt()
		if err == nil {
			return conn.Close(ctx)
		}
		lastErr = err
		select {
		case <-exited:
			return fmt.Errorf("server exited during start-up: %w", c.exitErr())
		case <-ctx.Done():
			return fmt.Errorf("%w (last connection error: %v)", ctx.Err(), lastErr)
		case <-tick.C:
		}
	}
}

// prepare creates the database (a primary's first start only; a standby
// has its primary's) and reads the version.
func (c *Cluster) prepare(ctx context.Context) error {
	conn, err := pgx.Connect(ctx, c.dsn("postgres"))
	if err != nil {
		return fmt.Errorf("connect to new cluster: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if c.version == "" && c.primary == nil {
		if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{c.opts.Database}.Sanitize()); err != nil {
			return fmt.Errorf("create database %q: %w", c.opts.Database, err)
		}
	}
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&c.version); err != nil {
		return fmt.Errorf("read server version: %w", err)
	}
	return nil
}

func (c *Cluster) exitErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.waitErr == nil {
		return errors.New("exit status 0")
	}
	return c.waitErr
}

// kill stops the server immediately and waits until it is reaped.
func (c *Cluster) kill() {
	c.mu.Lock()
	proc, exited := c.proc, c.exited
	c.mu.Unlock()
	if proc == nil {
		return
	}
	_ = proc.Process.Signal(syscall.SIGKILL)
	<-exited
}

// Stop shuts the server down (fast shutdown, then immediate, then SIGKILL if
// it does not exit in time) and keeps the data directory: Restart brings it
// back on the same port. Used for fault injection.
func (c *Cluster) Stop(ctx context.Context) error {
	if !c.running() {
		return nil
	}
	c.mu.Lock()
	proc, exited := c.proc, c.exited
	c.mu.Unlock()
	for _, step := range []struct {
		sig  syscall.Signal
		wait time.Duration
	}{{syscall.SIGINT, 20 * time.Second}, {syscall.SIGQUIT, 5 * time.Second}, {syscall.SIGKILL, time.Minute}} {
		_ = proc.Process.Signal(step.sig)
		timer := time.NewTimer(step.wait)
		select {
		case <-exited:
			timer.Stop()
			return nil
		case <-ctx.Done():
			timer.Stop()
			_ = proc.Process.Signal(syscall.SIGKILL)
			<-exited
			return fmt.Errorf("stop postgres: %w", ctx.Err())
		case <-timer.C:
		}
	}
	return fmt.Errorf("postgres (pid %d) did not exit after SIGKILL", proc.Process.Pid)
}

// Restart stops the server if it runs and starts it again on the same port
// and data directory, waiting until it accepts connections.
func (c *Cluster) Restart(ctx context.Context) error {
	if err := c.Stop(ctx); err != nil {
		return err
	}
	if err := c.launch(ctx); err != nil {
		return fmt.Errorf("restart postgres: %w", err)
	}
	return nil
}

// Close stops the server and removes the cluster directory. It is safe to
// call more than once.
func (c *Cluster) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	c.mu.Unlock()
	stopErr := errors.Join(c.Stop(ctx), c.dropSlot(ctx))
	if err := os.RemoveAll(c.dir); err != nil {
		return errors.Join(stopErr, fmt.Errorf("remove cluster directory: %w", err))
	}
	return stopErr
}

// DSN returns the connection string of the cluster's database.
func (c *Cluster) DSN() string { return c.dsn(c.opts.Database) }

func (c *Cluster) dsn(db string) string {
	return fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", c.opts.User, c.port, db)
}

// Addr returns host:port of the server.
func (c *Cluster) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(c.port)) }

// Version returns the server version (SHOW server_version).
func (c *Cluster) Version() string { return c.version }

// Settings returns the server settings applied on the command line.
func (c *Cluster) Settings() map[string]string { return maps.Clone(c.settings) }

// Dir returns the cluster directory (removed by Close).
func (c *Cluster) Dir() string { return c.dir }

// PID returns the postmaster's process id, 0 when not running.
func (c *Cluster) PID() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc == nil || c.proc.Process == nil {
		return 0
	}
	return c.proc.Process.Pid
}

// running reports whether the server process is up (started and not yet
// exited).
func (c *Cluster) running() bool {
	c.mu.Lock()
	exited := c.exited
	c.mu.Unlock()
	if exited == nil {
		return false
	}
	select {
	case <-exited:
		return false
	default:
		return true
	}
}

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "data") }

func (c *Cluster) progress(format string, args ...any) {
	if c.opts.Progress != nil {
		fmt.Fprintf(c.opts.Progress, "pglocal: "+format+"\n", args...)
	}
}

// freePort asks the kernel for a free loopback TCP port.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// SweepStale removes cluster directories left in os.TempDir() by processes
// that died without cleaning up (SIGKILL, power loss), once both the owner
// and its postmaster are gone. Best effort; Start calls it.
func SweepStale() { childproc.Sweep(dirPrefix, filepath.Join("data", "postmaster.pid")) }
