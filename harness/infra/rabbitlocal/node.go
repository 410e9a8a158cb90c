package rabbitlocal

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/cqrsbench/cqrsbench/harness/infra/childproc"
)

// Options configures a node. The zero value is ready to use.
type Options struct {
	// Server is the rabbitmq-server start script of an installation.
	// Default: found by FindBinaries.
	Server string
	// Config adds or overrides rabbitmq.conf entries (key → value). The
	// listener, the log and the default user are always Start's.
	Config map[string]string
	// StartTimeout bounds each wait for the node to answer (Start,
	// Restart), within the context's deadline. Default 2 minutes.
	StartTimeout time.Duration
	// StopTimeout is how long Stop and Close wait after SIGTERM before
	// SIGKILL. Default 30 seconds.
	StopTimeout time.Duration
	// Progress receives one-line status messages; nil is silent.
	Progress io.Writer
}

// Node is a running single RabbitMQ node on loopback: beam.smp, started by
// the installation's rabbitmq-server script, and an epmd of its own.
type Node struct {
	opts     Options
	bin      Binaries
	dir      string
	name     string // NAME@localhost
	password string
	amqpPort int
	distPort int
	epmdPort int
	version  string // from the AMQP handshake
	erlang   string

	mu     sync.Mutex
	beam   *child
	epmd   *child
	closed bool
}

const (
	// dirPrefix is the prefix of every node directory in os.TempDir().
	dirPrefix = "cqrsbench-rabbit-"
	// beamPIDFile and epmdPIDFile hold the pids of the node's processes.
	beamPIDFile = "beam.pid"
	epmdPIDFile = "epmd.pid"
	// logTailLines is how much of a log an error shows.
	logTailLines = 30
)

// errPortTaken means a process could not bind one of its ports.
var errPortTaken = errors.New("a port was taken before the node bound it")

// Start creates a node in a fresh temporary directory, starts epmd and the
// node on free loopback ports and waits until an AMQP handshake succeeds.
// It fails with ErrNotInstalled when RabbitMQ or Erlang is missing; on any
// error nothing is left behind, and a node that did not come up is
// reported with the tail of its log.
func Start(ctx context.Context, opts Options) (*Node, error) {
	bin, err := FindBinaries(opts.Server)
	if err != nil {
		return nil, err
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 2 * time.Minute
	}
	if opts.StopTimeout <= 0 {
		opts.StopTimeout = 30 * time.Second
	}
	SweepStale()
	dir, err := os.MkdirTemp("", dirPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("create node directory: %w", err)
	}
	n := &Node{
		opts:     opts,
		bin:      bin,
		dir:      dir,
		name:     "cqrsbench-" + strings.TrimPrefix(filepath.Base(dir), dirPrefix) + "@localhost",
		password: randomString(24, "abcdefghijklmnopqrstuvwxyz0123456789"),
	}
	if err := n.start(ctx); err != nil {
		_ = n.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return n, nil
}

func (n *Node) start(ctx context.Context) error {
	if err := childproc.WriteOwner(n.dir); err != nil {
		return fmt.Errorf("write owner file: %w", err)
	}
	if err := n.writeFiles(); err != nil {
		return err
	}
	const attempts = 3
	var err error
	for range attempts {
		var ports []int
		if ports, err = childproc.FreePorts(3); err != nil {
			return err
		}
		n.amqpPort, n.distPort, n.epmdPort = ports[0], ports[1], ports[2]
		if err = n.writeConf(); err != nil {
			return err
		}
		if err = n.launchEpmd(ctx); err == nil {
			if err = n.launch(ctx); err == nil {
				return nil
			}
			_ = n.stopEpmd(ctx)
		}
		if !errors.Is(err, errPortTaken) {
			return err
		}
		n.progress("%v; retrying with other ports", err)
	}
	return err
}

// launchEpmd starts the node's epmd and waits until it answers.
func (n *Node) launchEpmd(ctx context.Context) error {
	logFile, logStart, err := openLog(n.path("epmd.log"))
	if err != nil {
		return err
	}
	defer logFile.Close()
	// Not -daemon: epmd stays our child, with the parent-death signal.
	cmd := exec.Command(n.bin.Epmd, "-port", strconv.Itoa(n.epmdPort), "-address", "127.0.0.1")
	c, err := n.spawn("epmd", cmd, logFile, epmdPIDFile)
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.epmd = c
	n.mu.Unlock()
	if err := n.awaitEpmd(ctx, c); err != nil {
		c.kill()
		log := childproc.ReadFrom(n.path("epmd.log"), logStart)
		if strings.Contains(log, "ddress already in use") {
			return fmt.Errorf("%w (epmd port %d)", errPortTaken, n.epmdPort)
		}
		return fmt.Errorf("epmd did not start: %w\n%s", err, childproc.Labelled("epmd output", childproc.Tail(log, logTailLines)))
	}
	return nil
}

// spawn starts cmd in the node's directory with its output to out, in a
// process group of its own and killed if we die (the pid is recorded in
// pidFile for SweepStale).
func (n *Node) spawn(what string, cmd *exec.Cmd, out *os.File, pidFile string) (*child, error) {
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Dir = n.dir
	cmd.SysProcAttr = childproc.Attr(nil, syscall.SIGKILL)
	c, err := startChild(what, cmd)
	if err != nil {
		return nil, err
	}
	_ = os.WriteFile(n.path(pidFile), []byte(strconv.Itoa(c.pid())), 0o644)
	return c, nil
}

// openLog opens a process's output file for appending and returns its size:
// where this run's output starts.
func openLog(path string) (*os.File, int64, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, 0, fmt.Errorf("open process output file: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("open process output file: %w", err)
	}
	return f, st.Size(), nil
}

// awaitEpmd asks epmd for its registered names (NAMES_REQ) until it
// answers with its own port, it exits, or the start timeout or ctx ends.
func (n *Node) awaitEpmd(ctx context.Context, c *child) error {
	return poll(ctx, n.opts.StartTimeout, c, func(ctx context.Context) error {
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", n.epmdAddr())
		if err != nil {
			return err
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(time.Second))
		if _, err := conn.Write([]byte{0, 1, 'n'}); err != nil {
			return err
		}
		var port uint32
		if err := binary.Read(conn, binary.BigEndian, &port); err != nil {
			return fmt.Errorf("read epmd's answer: %w", err)
		}
		if int(port) != n.epmdPort {
			return fmt.Errorf("epmd answers with port %d, want %d", port, n.epmdPort)
		}
		return nil
	})
}

// launch starts the node (beam.smp) and waits until an AMQP handshake
// succeeds.
func (n *Node) launch(ctx context.Context) error {
	console, consoleStart, err := openLog(n.consolePath())
	if err != nil {
		return err
	}
	defer console.Close()
	logStart := childproc.FileSize(n.LogPath())
	// Not CommandContext: the node lives as long as the Node, not ctx.
	cmd := exec.Command(n.bin.Server)
	cmd.Env = n.env()
	n.progress("starting RabbitMQ node %s on %s (%s)", n.name, n.Addr(), n.bin.Server)
	began := time.Now()
	c, err := n.spawn("RabbitMQ node", cmd, console, beamPIDFile)
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.beam = c
	n.mu.Unlock()
	var version, erlang string
	err = poll(ctx, n.opts.StartTimeout, c, func(ctx context.Context) (err error) {
		version, erlang, err = n.handshake(ctx)
		return err
	})
	if err != nil {
		c.kill()
		logs := childproc.ReadFrom(n.LogPath(), logStart) + childproc.ReadFrom(n.consolePath(), consoleStart)
		if strings.Contains(logs, "eaddrinuse") {
			return fmt.Errorf("%w (AMQP port %d or distribution port %d)", errPortTaken, n.amqpPort, n.distPort)
		}
		return fmt.Errorf("RabbitMQ node did not become ready: %w\n%s%s", err,
			childproc.Labelled("node log (last lines of "+n.LogPath()+")", childproc.Tail(childproc.ReadFrom(n.LogPath(), logStart), logTailLines)),
			childproc.Labelled("console output (crash reports left out)", childproc.Tail(withoutCrashReports(childproc.ReadFrom(n.consolePath(), consoleStart)), logTailLines)))
	}
	n.mu.Lock()
	n.version, n.erlang = version, erlang
	n.mu.Unlock()
	n.progress("RabbitMQ %s ready on %s after %v", version, n.Addr(), time.Since(began).Round(100*time.Millisecond))
	return nil
}

// crashReportLine matches a log line without a message, or one of the
// indented body of an Erlang crash report: dozens of lines that push the
// cause out of a log's tail.
var crashReportLine = regexp.MustCompile(`^\S+ \S+ \[\w+\] <[\d.]+> ?( {2}.*)?$`)

// withoutCrashReports returns the lines of a node's output but the bodies
// of crash reports.
func withoutCrashReports(s string) string {
	var keep []string
	for _, line := range strings.Split(s, "\n") {
		if !crashReportLine.MatchString(line) {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

// handshake opens and closes an AMQP connection and returns the versions
// of RabbitMQ and Erlang the server announces.
func (n *Node) handshake(ctx context.Context) (version, erlang string, err error) {
	conn, err := amqp.DialConfig(n.URL(), amqp.Config{Dial: func(network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
		}
		return c, err
	}})
	if err != nil {
		return "", "", err
	}
	defer conn.Close()
	version, _ = conn.Properties["version"].(string)
	erlang, _ = conn.Properties["platform"].(string)
	return version, erlang, nil
}

// poll calls try every 100 ms until it succeeds, c exits, or timeout or ctx
// ends.
func poll(ctx context.Context, timeout time.Duration, c *child, try func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	lastErr := errors.New("no answer yet")
	for {
		attempt, cancelAttempt := context.WithTimeout(ctx, 2*time.Second)
		err := try(attempt)
		cancelAttempt()
		if err == nil {
			return nil
		}
		if ctx.Err() == nil {
			lastErr = err
		}
		select {
		case <-c.exited:
			return fmt.Errorf("%s exited during start-up: %w", c.what, c.exitErr())
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), lastErr)
		case <-tick.C:
		}
	}
}

// Stop shuts the node down (SIGTERM: a clean shutdown, then SIGKILL if it
// has not exited after Options.StopTimeout or when ctx ends) and keeps its
// data, ports and epmd: Restart brings it back with its queues and their
// messages. Used for broker-outage fault injection.
func (n *Node) Stop(ctx context.Context) error {
	n.mu.Lock()
	beam := n.beam
	n.mu.Unlock()
	if beam == nil {
		return nil
	}
	return beam.stop(ctx, n.opts.StopTimeout)
}

// Kill ends the node at once with SIGKILL, like a crash, and keeps its
// data, ports and epmd: Restart brings it back (with recovery). Used for
// fault injection. It waits until the node and its helpers are gone, or
// until ctx ends.
func (n *Node) Kill(ctx context.Context) error {
	n.mu.Lock()
	beam := n.beam
	n.mu.Unlock()
	if beam == nil {
		return nil
	}
	done := make(chan struct{})
	go func() { beam.kill(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("kill RabbitMQ node (pid %d): %w, and it has not exited yet", beam.pid(), ctx.Err())
	}
}

// Restart stops the node if it runs and starts it again with the same
// name, ports and data, waiting until an AMQP handshake succeeds. Clients
// keep their URL.
func (n *Node) Restart(ctx context.Context) error {
	n.mu.Lock()
	closed, epmd := n.closed, n.epmd
	n.mu.Unlock()
	if closed {
		return errors.New("restart RabbitMQ node: it is closed")
	}
	if err := n.Stop(ctx); err != nil {
		return err
	}
	if epmd == nil || !epmd.running() {
		if err := n.launchEpmd(ctx); err != nil {
			return fmt.Errorf("restart RabbitMQ node's epmd: %w", err)
		}
	}
	if err := n.launch(ctx); err != nil {
		if errors.Is(err, errPortTaken) {
			return fmt.Errorf("restart RabbitMQ node: %w: another process took the port while the node was down; stop it or start a new node", err)
		}
		return fmt.Errorf("restart RabbitMQ node: %w", err)
	}
	return nil
}

// stopEpmd stops the node's epmd.
func (n *Node) stopEpmd(ctx context.Context) error {
	n.mu.Lock()
	epmd := n.epmd
	n.mu.Unlock()
	if epmd == nil {
		return nil
	}
	return epmd.stop(ctx, 5*time.Second)
}

// Close stops the node (SIGTERM, then SIGKILL after Options.StopTimeout or
// when ctx ends) and its epmd, and removes its directory. It is safe to
// call more than once; later calls return nil.
func (n *Node) Close(ctx context.Context) error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	n.mu.Unlock()
	err := errors.Join(n.Stop(ctx), n.stopEpmd(ctx))
	if rmErr := os.RemoveAll(n.dir); rmErr != nil {
		err = errors.Join(err, fmt.Errorf("remove RabbitMQ node directory: %w", rmErr))
	}
	return err
}

// URL returns the AMQP URL of the node's default virtual host, with the
// credentials of DefaultUser.
func (n *Node) URL() string {
	u := url.URL{Scheme: "amqp", User: url.UserPassword(DefaultUser, n.password), Host: n.Addr(), Path: "/"}
	return u.String()
}

// Addr returns the AMQP listener's address, 127.0.0.1:PORT.
func (n *Node) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.amqpPort)) }

// Name returns the Erlang node name, NAME@localhost.
func (n *Node) Name() string { return n.name }

// Version returns the RabbitMQ version the node reported in the AMQP
// handshake.
func (n *Node) Version() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.version
}

// Erlang returns the runtime the node reported in the AMQP handshake, e.g.
// "Erlang/OTP 25.2.3".
func (n *Node) Erlang() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.erlang
}

// Settings returns the node's rabbitmq.conf entries, for the results
// record, without the default user's password, and under "erlang" the
// runtime (Erlang).
func (n *Node) Settings() map[string]string {
	s := maps.Clone(n.conf())
	delete(s, "default_pass")
	s["erlang"] = n.Erlang()
	return s
}

// Dir returns the node's temporary directory (removed by Close).
func (n *Node) Dir() string { return n.dir }

// LogPath returns the node's log file.
func (n *Node) LogPath() string { return n.path("log", n.name+".log") }

// PID returns the process id of the node's beam.smp, 0 before it started.
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.beam == nil {
		return 0
	}
	return n.beam.pid()
}

// EpmdPID returns the process id of the node's epmd, 0 before it started.
func (n *Node) EpmdPID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.epmd == nil {
		return 0
	}
	return n.epmd.pid()
}

func (n *Node) path(elem ...string) string {
	return filepath.Join(append([]string{n.dir}, elem...)...)
}
func (n *Node) homeDir() string     { return n.path("home") }
func (n *Node) consolePath() string { return n.path("console.log") }
func (n *Node) epmdAddr() string    { return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.epmdPort)) }

func (n *Node) progress(format string, args ...any) {
	if n.opts.Progress != nil {
		fmt.Fprintf(n.opts.Progress, "rabbitlocal: "+format+"\n", args...)
	}
}

// SweepStale removes node directories left in os.TempDir() by processes
// that died without cleaning up (SIGKILL, power loss), once the owner, the
// node and its epmd are all gone. Best effort; Start calls it.
func SweepStale() { childproc.Sweep(dirPrefix, beamPIDFile, epmdPIDFile) }
