package dockerenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"

	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
)

// Images started when Options leaves them empty. Tags are pinned to a release
// so that results from different machines measure the same server software.
const (
	// DefaultPostgresImage is the PostgreSQL image.
	DefaultPostgresImage = "postgres:17.7-alpine"
	// DefaultKafkaImage is the Apache Kafka image (KRaft, no ZooKeeper).
	DefaultKafkaImage = "apache/kafka:4.1.1"
)

// Credentials of the PostgreSQL container; PostgresDSN carries them.
const (
	// PostgresUser is the superuser the container creates.
	PostgresUser = "cqrsbench"
	// PostgresPassword is PostgresUser's password. The port is published on
	// 127.0.0.1 only when the engine is local.
	PostgresPassword = "cqrsbench"
	// PostgresDatabase is the database the container creates.
	PostgresDatabase = "cqrsbench"
)

// Labels on every container this package starts.
const (
	// LabelRole's value is "postgres", "kafka" or "rabbitmq".
	LabelRole = "org.cqrsbench.role"
	// LabelOwner's value is host:pid of the process that started the
	// container, which says whose a leftover was.
	LabelOwner = "org.cqrsbench.owner"
)

// labels returns the labels of a container in role started by this process.
func labels(role string) map[string]string {
	return map[string]string{LabelRole: role, LabelOwner: owner()}
}

// owner is the LabelOwner value of this process's containers.
func owner() string {
	host, _ := os.Hostname()
	return host + ":" + strconv.Itoa(os.Getpid())
}

// Timeouts.
const (
	// ReadyTimeout bounds each wait for a service to answer a real client,
	// after Start and after each restart. Pulling an image is not included.
	ReadyTimeout = 2 * time.Minute
	// RestartStopTimeout is how long RestartKafka and RestartPostgres let a
	// server shut down cleanly before Docker kills it.
	RestartStopTimeout = 20 * time.Second
	// CloseTimeout bounds Close, which goes on even when its ctx is already
	// cancelled: leaving containers behind is worse than a late exit.
	CloseTimeout = time.Minute
)

// closeStopTimeout is how long Close lets a server stop before Docker kills
// it; the data is thrown away, so a clean shutdown buys nothing.
const closeStopTimeout = time.Second

// maxPortAttempts bounds how often Start picks new host ports after Docker
// reports the picked one taken.
const maxPortAttempts = 3

// ErrClosed is returned by RestartKafka and RestartPostgres after Close.
var ErrClosed = errors.New("dockerenv: environment is closed")

// Options configures Start. The zero value is ready to use.
type Options struct {
	// PostgresImage is the PostgreSQL image. Default DefaultPostgresImage.
	PostgresImage string
	// KafkaImage is an Apache Kafka 4.x image with the apache/kafka
	// entrypoint (apache/kafka or apache/kafka-native). Default
	// DefaultKafkaImage.
	KafkaImage string
	// PostgresSettings override or extend DefaultPostgresSettings
	// (name → value, passed as `postgres -c name=value`).
	PostgresSettings map[string]string
	// Replica also starts a streaming replica of PostgreSQL, a hot standby
	// in a second container (ReplicaDSN).
	Replica bool
	// Progress receives one-line status messages; nil is silent.
	Progress io.Writer
}

// Validate checks the options without touching Docker.
func (o Options) Validate() error {
	var errs []error
	for _, img := range []string{o.PostgresImage, o.KafkaImage} {
		errs = append(errs, validImage(img))
	}
	for name, value := range o.PostgresSettings {
		if !isSettingName(name) {
			errs = append(errs, fmt.Errorf("PostgreSQL setting %q: not a parameter name (example: shared_buffers)", name))
		}
		if value == "" || strings.ContainsAny(value, "\x00\n") {
			errs = append(errs, fmt.Errorf("PostgreSQL setting %s=%q: value must be non-empty and on one line", name, value))
		}
	}
	return errors.Join(errs...)
}

// validImage checks an image reference without touching Docker; "" (the
// default) is valid.
func validImage(img string) error {
	if strings.ContainsAny(img, " \t\n") {
		return fmt.Errorf("image %q: contains white space", img)
	}
	return nil
}

// isSettingName reports whether name looks like a PostgreSQL configuration
// parameter, including custom ones such as auto_explain.log_min_duration.
func isSettingName(name string) bool {
	parts := strings.Split(name, ".")
	if len(parts) > 2 {
		return false
	}
	for _, part := range parts {
		if part == "" || (part[0] >= '0' && part[0] <= '9') {
			return false
		}
		for _, r := range part {
			if r != '_' && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
				return false
			}
		}
	}
	return true
}

// withDefaults fills empty fields.
func (o Options) withDefaults() Options {
	if o.PostgresImage == "" {
		o.PostgresImage = DefaultPostgresImage
	}
	if o.KafkaImage == "" {
		o.KafkaImage = DefaultKafkaImage
	}
	settings := DefaultPostgresSettings()
	maps.Copy(settings, o.PostgresSettings)
	o.PostgresSettings = settings
	return o
}

// DefaultPostgresSettings are the server settings applied to the PostgreSQL
// container: the same as the local provider's, so results from either
// provider are comparable.
func DefaultPostgresSettings() map[string]string { return pglocal.DefaultSettings() }

// Env is a running PostgreSQL container and a running Kafka container. Its
// addresses never change, not even across restarts. Close removes both.
// The methods are safe for concurrent use; restarts and Close run one at a
// time.
type Env struct {
	progress   *progress
	addr       addressing
	pgImage    string
	kafkaImage string
	pgSettings map[string]string
	clusterID  string // Kafka's, fixed for the life of the container

	// Set once by Start and read-only afterwards.
	pgPort, kafkaPort int
	replicaPort       int // 0 without Options.Replica
	pgVersion         string
	kafkaVersion      string

	mu        sync.Mutex // serialises restarts and Close; guards the fields below
	closed    bool
	pg        testcontainers.Container      // nil once removed
	kafka     testcontainers.Container      // nil once removed
	replica   testcontainers.Container      // nil without Options.Replica, or once removed
	net       *testcontainers.DockerNetwork // the primary's and the replica's; nil without one, or once removed
	pgID      string
	kafkaID   string
	replicaID string
}

// Start starts PostgreSQL and Kafka (in parallel), waits until a pgx
// connection and a Kafka client get answers, and returns the environment.
// Images are pulled on first use, which ctx bounds too. On any failure it
// removes whatever it started and returns an error that says what to do.
func Start(ctx context.Context, opts Options) (*Env, error) {
	opts = opts.withDefaults()
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("dockerenv options: %w", err)
	}
	if err := Healthy(ctx); err != nil {
		return nil, err
	}
	clusterID, err := newClusterID()
	if err != nil {
		return nil, err
	}
	e := &Env{
		progress:   newProgress(opts.Progress),
		pgImage:    opts.PostgresImage,
		kafkaImage: opts.KafkaImage,
		pgSettings: opts.PostgresSettings,
		clusterID:  clusterID,
	}
	if e.addr, err = resolveAddressing(ctx); err != nil {
		return nil, err
	}

	e.progress.printf("dockerenv: starting %s and %s (images are pulled on first use)", e.pgImage, e.kafkaImage)
	began := time.Now()
	var pgErr, kafkaErr error
	if opts.Replica {
		pgErr = e.createNetwork(ctx)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		if pgErr == nil {
			pgErr = e.startPostgres(ctx)
		}
		if pgErr == nil && opts.Replica {
			pgErr = e.startReplica(ctx)
		}
	})
	wg.Go(func() { kafkaErr = e.startKafka(ctx) })
	wg.Wait()
	if err := errors.Join(pgErr, kafkaErr); err != nil {
		if cerr := e.Close(ctx); cerr != nil {
			err = errors.Join(err, fmt.Errorf("clean up after failed start: %w", cerr))
		}
		return nil, err
	}
	e.progress.printf("dockerenv: ready in %s: PostgreSQL %s at %s, Kafka %s at %s",
		time.Since(began).Round(100*time.Millisecond), e.pgVersion, e.addr.addr(e.pgPort),
		e.kafkaVersion, e.addr.addr(e.kafkaPort))
	return e, nil
}

// resolveAddressing asks testcontainers where published ports are reachable.
//
// testcontainers takes a process that runs in a container (/.dockerenv
// exists) and talks to the engine over a Unix socket for one whose socket
// was mounted from the host, and sends it to a gateway address. When the
// engine runs inside the same container (its host name is ours: Docker in
// Docker, or a CI machine that is itself a container), the ports are
// published right here and loopback is the address that works.
// TESTCONTAINERS_HOST_OVERRIDE still wins.
func resolveAddressing(ctx context.Context) (addressing, error) {
	p, err := testcontainers.NewDockerProvider(testcontainers.WithLogger(tclog.NewNoopLogger()))
	if err != nil {
		return addressing{}, fmt.Errorf("connect to Docker: %w", err)
	}
	defer p.Close()
	host, err := p.DaemonHost(ctx)
	if err != nil {
		return addressing{}, fmt.Errorf("find the host that publishes container ports: %w "+
			"(set TESTCONTAINERS_HOST_OVERRIDE to the engine's address)", err)
	}
	if _, override := os.LookupEnv("TESTCONTAINERS_HOST_OVERRIDE"); !override && !isLoopback(host) &&
		engineInThisHost(ctx, p.Client()) {
		host = "localhost"
	}
	return newAddressing(host), nil
}

// engineInThisHost reports whether the engine listens on a Unix socket and
// runs under this machine's host name, that is, in this container or on this
// host rather than on the host of a container it was mounted into.
func engineInThisHost(ctx context.Context, c client.APIClient) bool {
	if !strings.HasPrefix(c.DaemonHost(), "unix://") {
		return false
	}
	info, err := c.Info(ctx, client.InfoOptions{})
	hostname, herr := os.Hostname()
	return err == nil && herr == nil && info.Info.Name != "" && info.Info.Name == hostname
}

// PostgresDSN returns a pgx/libpq URL for the container's database on the
// host-published port, with sslmode=disable.
func (e *Env) PostgresDSN() string {
	return postgresDSN(e.addr.addr(e.pgPort))
}

// KafkaBrokers returns the broker's address as reachable from this host; it
// is also the address the broker advertises.
func (e *Env) KafkaBrokers() []string {
	return []string{e.addr.addr(e.kafkaPort)}
}

// PostgresVersion returns the server's version (SHOW server_version).
func (e *Env) PostgresVersion() string { return e.pgVersion }

// KafkaVersion returns the broker's version: the image tag when it is a
// version number, else the broker's own answer as franz-go guesses it from
// its API versions (e.g. "v4.1").
func (e *Env) KafkaVersion() string { return e.kafkaVersion }

// PostgresImage returns the image the PostgreSQL container runs.
func (e *Env) PostgresImage() string { return e.pgImage }

// KafkaImage returns the image the Kafka container runs.
func (e *Env) KafkaImage() string { return e.kafkaImage }

// PostgresSettings returns the server settings applied on the command line.
func (e *Env) PostgresSettings() map[string]string { return maps.Clone(e.pgSettings) }

// ContainerIDs returns the IDs of the PostgreSQL and Kafka containers, for
// logs and for checking that Close removed them.
func (e *Env) ContainerIDs() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ids []string
	for _, id := range []string{e.pgID, e.kafkaID, e.replicaID} {
		if id != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// HostPIDs returns the host's process IDs of the PostgreSQL and Kafka
// containers' main processes (each container's processes are that one's
// tree), read now since a restart changes them; 0 for one not running. A
// restart in progress is waited for.
func (e *Env) HostPIDs(ctx context.Context) (postgres, kafka int) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return hostPID(ctx, e.pg), hostPID(ctx, e.kafka)
}

// hostPID returns the host's process ID of c's main process, 0 when c is
// nil, not running or cannot be inspected.
func hostPID(ctx context.Context, c testcontainers.Container) int {
	if c == nil {
		return 0
	}
	info, err := c.Inspect(ctx)
	if err != nil || info.State == nil || !info.State.Running {
		return 0
	}
	return info.State.Pid
}

// RestartKafka stops the Kafka container (cleanly, within
// RestartStopTimeout), starts it again and waits until a client gets
// answers. The broker keeps its data and its address. Clients see a broker
// outage for the duration.
func (e *Env) RestartKafka(ctx context.Context) error {
	if err := e.StopKafka(ctx); err != nil {
		return err
	}
	return e.StartKafka(ctx)
}

// StopKafka stops the Kafka container (cleanly, within RestartStopTimeout),
// keeping its data and address: StartKafka brings it back.
func (e *Env) StopKafka(ctx context.Context) error {
	return e.stop(ctx, e.kafka, "Kafka")
}

// StartKafka starts the stopped Kafka container and waits until a client
// gets answers.
func (e *Env) StartKafka(ctx context.Context) error {
	return e.start(ctx, e.kafka, e.kafkaPort, "Kafka", func(ctx context.Context) error {
		_, err := e.awaitKafka(ctx, e.kafka)
		return err
	})
}

// RestartPostgres stops the PostgreSQL container (fast shutdown: the image's
// stop signal is SIGINT, so open sessions are disconnected), starts it again
// and waits until it accepts connections. Data and address are kept.
func (e *Env) RestartPostgres(ctx context.Context) error {
	if err := e.StopPostgres(ctx); err != nil {
		return err
	}
	return e.StartPostgres(ctx)
}

// StopPostgres stops the PostgreSQL container (fast shutdown), keeping its
// data and address: StartPostgres brings it back.
func (e *Env) StopPostgres(ctx context.Context) error {
	return e.stop(ctx, e.pg, "PostgreSQL")
}

// StartPostgres starts the stopped PostgreSQL container and waits until it
// accepts connections.
func (e *Env) StartPostgres(ctx context.Context) error {
	return e.start(ctx, e.pg, e.pgPort, "PostgreSQL", func(ctx context.Context) error {
		_, err := e.awaitPostgres(ctx, e.pg)
		return err
	})
}

// stop stops container c (what names it in messages).
func (e *Env) stop(ctx context.Context, c testcontainers.Container, what string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || c == nil {
		return ErrClosed
	}
	return stopContainer(ctx, e.progress, c, what)
}

// start starts the stopped container c and waits with await.
func (e *Env) start(ctx context.Context, c testcontainers.Container, hostPort int, what string, await func(context.Context) error) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed || c == nil {
		return ErrClosed
	}
	return startContainer(ctx, e.progress, c, hostPort, what, await)
}

// stopContainer stops c cleanly, within RestartStopTimeout; what names it in
// messages.
func stopContainer(ctx context.Context, p *progress, c testcontainers.Container, what string) error {
	p.printf("dockerenv: stopping %s", what)
	timeout := RestartStopTimeout
	if err := c.Stop(ctx, &timeout); err != nil {
		return fmt.Errorf("stop %s container: %w", what, err)
	}
	return nil
}

// startContainer starts the stopped container c and waits with await. The
// host port binding is part of the container, so the address stays the
// same, unless another process took the port while the container was
// stopped.
func startContainer(ctx context.Context, p *progress, c testcontainers.Container, hostPort int, what string, await func(context.Context) error) error {
	p.printf("dockerenv: starting %s", what)
	if err := c.Start(ctx); err != nil {
		if isPortConflict(err) {
			return fmt.Errorf("start %s container: host port %d was taken by another process while the container "+
				"was stopped; stop that process or start a new environment: %w", what, hostPort, err)
		}
		return fmt.Errorf("start %s container: %w", what, err)
	}
	if err := await(ctx); err != nil {
		return fmt.Errorf("%s after restart: %w", what, err)
	}
	return nil
}

// Close terminates the containers and removes their volumes, and the
// network of PostgreSQL and its replica. It is
// idempotent: a second call retries what the first could not remove and
// returns nil once both are gone. Close does not stop when ctx is cancelled
// (so it can run in a deferred cleanup after Ctrl-C) but gives up after
// CloseTimeout; it waits for a restart in progress to finish first.
func (e *Env) Close(ctx context.Context) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true

	var pgErr, kafkaErr, replicaErr, netErr error
	var wg sync.WaitGroup
	if e.pg != nil {
		wg.Go(func() { pgErr = terminate(ctx, e.pg, "PostgreSQL") })
	}
	if e.replica != nil {
		wg.Go(func() { replicaErr = terminate(ctx, e.replica, "PostgreSQL replica") })
	}
	if e.kafka != nil {
		wg.Go(func() { kafkaErr = terminate(ctx, e.kafka, "Kafka") })
	}
	wg.Wait()
	if pgErr == nil {
		e.pg = nil
	}
	if kafkaErr == nil {
		e.kafka = nil
	}
	if replicaErr == nil {
		e.replica = nil
	}
	if e.net != nil && e.pg == nil && e.replica == nil {
		if netErr = removeNetwork(ctx, e.net); netErr == nil {
			e.net = nil
		}
	}
	return errors.Join(pgErr, kafkaErr, replicaErr, netErr)
}

// terminate stops and removes c with its anonymous volumes. It goes on when
// ctx is cancelled, for up to CloseTimeout. A container that is already gone
// counts as removed.
func terminate(ctx context.Context, c testcontainers.Container, role string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), CloseTimeout)
	defer cancel()
	err := c.Terminate(ctx, testcontainers.StopTimeout(closeStopTimeout))
	if err == nil || errdefs.IsNotFound(err) {
		return nil
	}
	id := c.GetContainerID()
	return fmt.Errorf("remove %s container %s: %w (remove it by hand: docker rm -fv %s)", role, shortID(id), err, id)
}

// setContainer records a created container so that Close removes it, even
// when Start fails later.
func (e *Env) setContainer(role string, c testcontainers.Container) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch role {
	case rolePostgres:
		e.pg, e.pgID = c, c.GetContainerID()
	case roleKafka:
		e.kafka, e.kafkaID = c, c.GetContainerID()
	case roleReplica:
		e.replica, e.replicaID = c, c.GetContainerID()
	}
}

// Values of LabelRole.
const (
	rolePostgres = "postgres"
	roleKafka    = "kafka"
)

// runWithFreePort runs a container with run, which publishes the service on
// the host port it is given, picking a new port when Docker reports the
// picked one taken. A container that was created but failed is removed
// before the next attempt; the one that started is recorded with
// setContainer.
func (e *Env) runWithFreePort(ctx context.Context, role, image string, run func(context.Context, int) (testcontainers.Container, error)) (testcontainers.Container, int, error) {
	c, port, err := runWithFreePort(ctx, e.addr, e.progress, role, image, run)
	if c != nil {
		e.setContainer(role, c)
	}
	return c, port, err
}

// runWithFreePort runs a container with run on a free host port of a,
// trying new ports up to maxPortAttempts times when Docker reports the
// picked one taken. It returns the container and its host port; on error,
// a non-nil container is one that could not be removed, which the caller
// must remove later.
func runWithFreePort(ctx context.Context, a addressing, p *progress, role, image string, run func(context.Context, int) (testcontainers.Container, error)) (testcontainers.Container, int, error) {
	for attempt := 1; ; attempt++ {
		ports, err := a.freePorts(1)
		if err != nil {
			return nil, 0, err
		}
		c, err := run(ctx, ports[0])
		if err == nil {
			return c, ports[0], nil
		}
		if c != nil {
			if terr := terminate(ctx, c, role); terr != nil {
				return c, 0, errors.Join(explainRunError(image, err), terr)
			}
		}
		if !isPortConflict(err) || attempt == maxPortAttempts {
			return nil, 0, explainRunError(image, err)
		}
		p.printf("dockerenv: host port %d was taken; trying another", ports[0])
	}
}

// explainRunError adds what to do to an error from starting a container.
func explainRunError(image string, err error) error {
	msg := strings.ToLower(err.Error())
	var fix string
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("start %s: %w", image, err)
	case strings.Contains(msg, "reaper"):
		fix = "testcontainers' reaper (Ryuk) did not start; set TESTCONTAINERS_RYUK_DISABLED=true " +
			"(cqrsbench removes its containers itself)"
	case strings.Contains(msg, "pull") || strings.Contains(msg, "manifest") ||
		strings.Contains(msg, "no such image") || strings.Contains(msg, "repository does not exist"):
		fix = "the image could not be pulled; check the image name and the network, or `docker pull " + image + "` by hand"
	case isPortConflict(err):
		fix = "host ports kept being taken; try again"
	default:
		fix = "check `docker info` and the container log (docker logs)"
	}
	return fmt.Errorf("start %s: %w; %s", image, err, fix)
}

func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

// progress writes status lines to an optional writer, one line at a time
// (Postgres and Kafka start in parallel).
type progress struct {
	mu sync.Mutex
	w  io.Writer
}

func newProgress(w io.Writer) *progress { return &progress{w: w} }

func (p *progress) printf(format string, args ...any) {
	if p == nil || p.w == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format+"\n", args...)
}
