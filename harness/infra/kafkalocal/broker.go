package kafkalocal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/harness/infra/childproc"
)

// Options configures a broker. The zero value is ready to use.
type Options struct {
	// Home is the Kafka distribution directory. Default: found by
	// FindDistribution ($KAFKA_HOME, then CacheDir()).
	Home string
	// Java is the java executable. Default: $JAVA_HOME/bin/java, then java
	// on PATH.
	Java string
	// HeapMB is the JVM heap in MiB (-Xms and -Xmx). Default DefaultHeapMB.
	HeapMB int
	// Properties override or extend DefaultProperties (name → value).
	// Listeners, quorum, node id and log directory are always Start's.
	Properties map[string]string
	// Secure, when set, adds a client listener that requires TLS and SASL,
	// as managed Kafka services do (SecureBrokers); the plaintext listener
	// stays for the broker itself and for Start's readiness checks.
	Secure *SecureListener
	// StartTimeout bounds each wait for the broker to answer (Start,
	// Restart), within the context's deadline. Default 2 minutes.
	StartTimeout time.Duration
	// Progress receives one-line status messages; nil is silent.
	Progress io.Writer
}

// Broker is a running single-node Kafka broker (KRaft, broker and
// controller in one JVM) on loopback.
type Broker struct {
	opts           Options
	java           string
	home           string
	version        string
	dir            string
	props          map[string]string // tuning: DefaultProperties + opts.Properties
	brokerPort     int
	controllerPort int
	securePort     int // 0 without Options.Secure

	mu      sync.Mutex
	proc    *exec.Cmd
	exited  chan struct{} // closed when proc has been reaped
	waitErr error
	closed  bool
}

const (
	// dirPrefix is the prefix of every broker directory in os.TempDir().
	dirPrefix = "cqrsbench-kafka-"
	// brokerPIDFile holds the pid of the broker's JVM.
	brokerPIDFile = "broker.pid"
	// stopTimeout is how long Stop waits after SIGTERM before SIGKILL.
	stopTimeout = 30 * time.Second
	// logTailLines is how much of the broker's log an error shows.
	logTailLines = 30
)

// Start formats a new log directory in a fresh temporary directory, starts
// the broker on free loopback ports and waits until a client gets it in a
// metadata response. It fails with ErrNoDistribution or ErrNoJava when
// those are missing; on any error nothing is left behind, and a broker that
// did not come up is reported with the tail of its log.
func Start(ctx context.Context, opts Options) (*Broker, error) {
	home, err := FindDistribution(opts.Home)
	if err != nil {
		return nil, err
	}
	version, err := distributionVersion(home)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoDistribution, err)
	}
	java, err := findJava(opts.Java)
	if err != nil {
		return nil, err
	}
	if opts.HeapMB <= 0 {
		opts.HeapMB = DefaultHeapMB
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 2 * time.Minute
	}
	SweepStale()
	dir, err := os.MkdirTemp("", dirPrefix+"*")
	if err != nil {
		return nil, fmt.Errorf("create broker directory: %w", err)
	}
	b := &Broker{opts: opts, java: java, home: home, version: version, dir: dir, props: DefaultProperties()}
	maps.Copy(b.props, opts.Properties)
	if err := b.start(ctx); err != nil {
		_ = b.Close(context.WithoutCancel(ctx))
		return nil, err
	}
	return b, nil
}

func (b *Broker) start(ctx context.Context) error {
	if err := childproc.WriteOwner(b.dir); err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(b.dir, "tmp"), 0o755); err != nil {
		return fmt.Errorf("create broker directory: %w", err)
	}
	if err := writeFile(b.log4jPath(), log4jProperties(b.LogPath())); err != nil {
		return err
	}
	const attempts = 3
	var err error
	for i := range attempts {
		var ports []int
		if ports, err = childproc.FreePorts(3); err != nil {
			return err
		}
		b.brokerPort, b.controllerPort = ports[0], ports[1]
		props := serverConfig(b.props, b.brokerPort, b.controllerPort, b.dataDir())
		if b.opts.Secure != nil {
			b.securePort = ports[2]
			b.opts.Secure.configure(props, b.SecureBrokers()[0])
		}
		if err = writeFile(b.propertiesPath(), renderProperties(props)); err != nil {
			return err
		}
		if i == 0 {
			if err = b.format(ctx); err != nil {
				return err
			}
		}
		if err = b.launch(ctx); !errors.Is(err, errPortTaken) {
			return err
		}
		b.progress("%v; retrying with other ports", err)
	}
	return err
}

// format writes a new cluster's metadata into the log directory.
func (b *Broker) format(ctx context.Context) error {
	id, err := newClusterID()
	if err != nil {
		return err
	}
	b.progress("formatting storage (Apache Kafka %s from %s)", b.version, b.home)
	// A short-lived tool: a small heap, and the quick JIT tier only.
	args := append(b.commonJVMArgs(), "-Xmx256m", "-XX:TieredStopAtLevel=1", "-cp", b.classPath(),
		"kafka.tools.StorageTool", "format", "--cluster-id="+id, "-c", b.propertiesPath())
	if b.opts.Secure != nil {
		args = append(args, b.opts.Secure.scramArgs()...)
	}
	cmd := exec.CommandContext(ctx, b.java, args...)
	cmd.Dir = b.dir
	cmd.SysProcAttr = childproc.Attr(nil, syscall.SIGKILL)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("format Kafka storage (kafka.tools.StorageTool): %w\n%s%s", err,
			childproc.Labelled("output", childproc.Tail(string(out), logTailLines)), b.logTail(0))
	}
	return nil
}

// errPortTaken means the broker could not bind one of its ports.
var errPortTaken = errors.New("a port was taken before the broker bound it")

// launch starts the broker JVM and waits until it answers.
func (b *Broker) launch(ctx context.Context) error {
	logStart := childproc.FileSize(b.LogPath())
	console, err := os.OpenFile(b.consolePath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open broker console log: %w", err)
	}
	defer console.Close()
	consoleStart := childproc.FileSize(b.consolePath())
	heap := strconv.Itoa(b.opts.HeapMB) + "m"
	args := append(b.commonJVMArgs(), "-Xms"+heap, "-Xmx"+heap)
	args = append(args, jvmOptions()...)
	args = append(args, "-cp", b.classPath(), "kafka.Kafka", b.propertiesPath())
	// Not CommandContext: the broker lives as long as the Broker, not ctx.
	cmd := exec.Command(b.java, args...)
	cmd.Stdout, cmd.Stderr = console, console
	cmd.Dir = b.dir
	cmd.SysProcAttr = childproc.Attr(nil, syscall.SIGKILL)
	b.progress("starting Apache Kafka %s on %s (heap %s)", b.version, b.addr(), heap)
	began := time.Now()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start java: %w", err)
	}
	exited := make(chan struct{})
	b.mu.Lock()
	b.proc, b.exited, b.waitErr = cmd, exited, nil
	b.mu.Unlock()
	go func() {
		err := cmd.Wait()
		b.mu.Lock()
		b.waitErr = err
		b.mu.Unlock()
		close(exited)
	}()
	_ = writeFile(filepath.Join(b.dir, brokerPIDFile), strconv.Itoa(cmd.Process.Pid))
	if err := b.awaitReady(ctx, exited); err != nil {
		b.kill()
		logs := b.logTail(logStart) + childproc.ReadFrom(b.consolePath(), consoleStart)
		if strings.Contains(logs, "Address already in use") || strings.Contains(logs, "BindException") {
			return fmt.Errorf("%w (%s or controller port %d)", errPortTaken, b.addr(), b.controllerPort)
		}
		return fmt.Errorf("broker did not become ready: %w\n%s%s", err,
			b.logTail(logStart), childproc.Labelled("console output", childproc.Tail(childproc.ReadFrom(b.consolePath(), consoleStart), logTailLines)))
	}
	b.progress("broker ready on %s after %v", b.addr(), time.Since(began).Round(100*time.Millisecond))
	return nil
}

// awaitReady asks the broker for metadata with real client requests until it
// lists itself, the JVM exits, or the start timeout or ctx ends.
func (b *Broker) awaitReady(ctx context.Context, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(ctx, b.opts.StartTimeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	lastErr := errors.New("no answer yet")
	for {
		if err := b.ping(ctx); err == nil {
			return nil
		} else if ctx.Err() == nil {
			lastErr = err
		}
		select {
		case <-exited:
			return fmt.Errorf("java exited during start-up: %w", b.exitErr())
		case <-ctx.Done():
			return fmt.Errorf("%w (last client error: %v)", ctx.Err(), lastErr)
		case <-tick.C:
		}
	}
}

// ping asks the broker for cluster metadata and checks it lists itself.
func (b *Broker) ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.addr()), kgo.DialTimeout(time.Second), kgo.RequestRetries(1))
	if err != nil {
		return err
	}
	defer cl.Close()
	brokers, err := kadm.NewClient(cl).ListBrokers(ctx)
	if err != nil {
		return err
	}
	if len(brokers) == 0 {
		return errors.New("metadata lists no brokers yet")
	}
	return nil
}

func (b *Broker) exitErr() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.waitErr == nil {
		return errors.New("exit status 0")
	}
	return b.waitErr
}

// Stop shuts the broker down (SIGTERM: a controlled shutdown, then SIGKILL
// if it has not exited after 30 s or when ctx ends) and keeps its data and
// ports: Restart brings it back. Used for broker-outage fault injection.
func (b *Broker) Stop(ctx context.Context) error {
	b.mu.Lock()
	proc, exited := b.proc, b.exited
	b.mu.Unlock()
	if proc == nil {
		return nil
	}
	select {
	case <-exited:
		return nil
	default:
	}
	_ = proc.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-exited:
		return nil
	case <-ctx.Done():
		b.kill()
		return fmt.Errorf("stop Kafka broker: %w (killed it)", ctx.Err())
	case <-timer.C:
		b.kill()
		return nil
	}
}

// Kill ends the broker at once with SIGKILL, like a crash, and keeps its
// data and ports: Restart brings it back (with log recovery, and about 10 s
// later than after Stop: the controller keeps the dead broker registered
// until broker.session.timeout.ms passes). Used for fault injection. A
// killed process normally goes in milliseconds; Kill waits for that even
// when ctx has ended, up to a few seconds more.
func (b *Broker) Kill(ctx context.Context) error {
	done := make(chan struct{})
	go func() { b.kill(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	grace := time.NewTimer(5 * time.Second)
	defer grace.Stop()
	select {
	case <-done:
		return nil
	case <-grace.C:
		return fmt.Errorf("kill Kafka broker (pid %d): %w, and it has not exited", b.PID(), ctx.Err())
	}
}

// kill sends SIGKILL to the broker and waits until it is reaped.
func (b *Broker) kill() {
	b.mu.Lock()
	proc, exited := b.proc, b.exited
	b.mu.Unlock()
	if proc == nil {
		return
	}
	_ = proc.Process.Signal(syscall.SIGKILL)
	<-exited
}

// Restart stops the broker if it runs and starts it again on the same ports
// and data, waiting until it answers. Clients keep their seed addresses.
func (b *Broker) Restart(ctx context.Context) error {
	b.mu.Lock()
	closed := b.closed
	b.mu.Unlock()
	if closed {
		return errors.New("restart Kafka broker: it is closed")
	}
	if err := b.Stop(ctx); err != nil {
		return err
	}
	if err := b.launch(ctx); err != nil {
		if errors.Is(err, errPortTaken) {
			return fmt.Errorf("restart Kafka broker: %w: another process took the port while the broker was down; stop it or start a new broker", err)
		}
		return fmt.Errorf("restart Kafka broker: %w", err)
	}
	return nil
}

// Close kills the broker (its data is thrown away, so there is nothing to
// shut down gracefully) and removes its directory. It is safe to call more
// than once; later calls return nil.
func (b *Broker) Close(ctx context.Context) error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	killErr := b.Kill(ctx)
	if err := os.RemoveAll(b.dir); err != nil {
		return errors.Join(killErr, fmt.Errorf("remove Kafka broker directory: %w", err))
	}
	return killErr
}

// Brokers returns the seed broker addresses: ["127.0.0.1:PORT"].
func (b *Broker) Brokers() []string { return []string{b.addr()} }

// SecureBrokers returns the TLS + SASL listener's address (Options.Secure);
// nil without one.
func (b *Broker) SecureBrokers() []string {
	if b.securePort == 0 {
		return nil
	}
	return []string{net.JoinHostPort("127.0.0.1", strconv.Itoa(b.securePort))}
}

// Version returns the Kafka version, read from the name of the
// distribution's libs/kafka_2.13-<version>.jar.
func (b *Broker) Version() string { return b.version }

// Settings returns what the broker runs with, for the results record: the
// broker properties (DefaultProperties and Options.Properties), the process
// roles, and the JVM heap and flags.
func (b *Broker) Settings() map[string]string {
	s := maps.Clone(b.props)
	s["process.roles"] = "broker,controller"
	s["jvm.heap"] = strconv.Itoa(b.opts.HeapMB) + "m"
	s["jvm.options"] = strings.Join(jvmOptions(), " ")
	return s
}

// Home returns the distribution directory the broker runs from.
func (b *Broker) Home() string { return b.home }

// Dir returns the broker's temporary directory (removed by Close).
func (b *Broker) Dir() string { return b.dir }

// LogPath returns the broker's log file (server.log in Dir).
func (b *Broker) LogPath() string { return filepath.Join(b.dir, "server.log") }

// PID returns the broker JVM's process id, 0 when it has not been started.
func (b *Broker) PID() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.proc == nil || b.proc.Process == nil {
		return 0
	}
	return b.proc.Process.Pid
}

func (b *Broker) addr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(b.brokerPort))
}

func (b *Broker) dataDir() string        { return filepath.Join(b.dir, "data") }
func (b *Broker) propertiesPath() string { return filepath.Join(b.dir, "server.properties") }
func (b *Broker) log4jPath() string      { return filepath.Join(b.dir, "log4j2.properties") }
func (b *Broker) consolePath() string    { return filepath.Join(b.dir, "console.log") }
func (b *Broker) classPath() string      { return filepath.Join(b.home, "libs", "*") }

// commonJVMArgs are the flags of every JVM we start: logging configuration,
// temporary files (native libraries the compression codecs unpack, crash
// logs) kept in the broker directory, and no hsperfdata file in /tmp (it
// would outlive a killed JVM).
func (b *Broker) commonJVMArgs() []string {
	return []string{
		"-Dlog4j2.configurationFile=" + b.log4jPath(),
		"-Djava.io.tmpdir=" + filepath.Join(b.dir, "tmp"),
		"-XX:ErrorFile=" + filepath.Join(b.dir, "hs_err_pid%p.log"),
		"-XX:-UsePerfData",
	}
}

// logTail returns the last lines of server.log written after offset, with a
// heading, or "" when there are none.
func (b *Broker) logTail(offset int64) string {
	return childproc.Labelled("broker log (last lines of server.log)", childproc.Tail(childproc.ReadFrom(b.LogPath(), offset), logTailLines))
}

func (b *Broker) progress(format string, args ...any) {
	if b.opts.Progress != nil {
		fmt.Fprintf(b.opts.Progress, "kafkalocal: "+format+"\n", args...)
	}
}

// SweepStale removes broker directories left in os.TempDir() by processes
// that died without cleaning up (SIGKILL, power loss), once both the owner
// and its JVM are gone. Best effort; Start calls it.
func SweepStale() { childproc.Sweep(dirPrefix, brokerPIDFile) }
