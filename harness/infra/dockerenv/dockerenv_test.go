package dockerenv_test

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/jackc/pgx/v5"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/harness/infra/childproc"
	"github.com/cqrsbench/cqrsbench/harness/infra/dockerenv"
	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
)

// requireEngine skips the test unless a Docker engine answers; with
// CQRSBENCH_REQUIRE_SERVICES=1 (CI) a missing engine fails it.
func requireEngine(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts containers; skipped with -short")
	}
	if err := dockerenv.Healthy(t.Context()); err != nil {
		infratest.Missing(t, "Docker engine not available (`make docker-images` starts one and builds local images): %v", err)
	}
}

// Variables naming the images tests run instead of the defaults, for
// machines that reach no registry (`make docker-images` prints them).
const (
	pgImageEnv       = "CQRSBENCH_PG_IMAGE"
	kafkaImageEnv    = "CQRSBENCH_KAFKA_IMAGE"
	rabbitMQImageEnv = "CQRSBENCH_RABBITMQ_IMAGE"
)

// testOptions are Options with the images the environment names.
func testOptions(t *testing.T) dockerenv.Options {
	return dockerenv.Options{
		PostgresImage: os.Getenv(pgImageEnv),
		KafkaImage:    os.Getenv(kafkaImageEnv),
		Progress:      testWriter{t},
	}
}

// imageTag returns the tag of image, or of def when image is empty.
func imageTag(image, def string) string {
	img := cmp.Or(image, def)
	return img[strings.LastIndexByte(img, ':')+1:]
}

func TestHealthyFailsFastWithoutEngine(t *testing.T) {
	t.Parallel()
	start := time.Now()
	err := dockerenv.Healthy(context.Background())
	elapsed := time.Since(start)
	if err == nil {
		t.Skip("a Docker engine is running; this test is for machines without one")
	}
	t.Logf("Healthy after %s: %v", elapsed.Round(time.Millisecond), err)
	if elapsed > 10*time.Second {
		t.Errorf("Healthy took %s to report a missing engine, want under 10s", elapsed)
	}
	if !errors.Is(err, dockerenv.ErrEngineUnavailable) {
		t.Errorf("Healthy error %v does not wrap ErrEngineUnavailable", err)
	}
	if !strings.Contains(err.Error(), "docker") && !strings.Contains(err.Error(), "Docker") {
		t.Errorf("Healthy error %q does not say what to do about Docker", err)
	}
}

func TestHealthyHonoursCancelledContext(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	start := time.Now()
	err := dockerenv.Healthy(ctx)
	if elapsed := time.Since(start); elapsed > time.Second {
		t.Errorf("Healthy with a cancelled context took %s", elapsed)
	}
	if !errors.Is(err, context.Canceled) || !errors.Is(err, dockerenv.ErrEngineUnavailable) {
		t.Errorf("Healthy with a cancelled context = %v, want context.Canceled and ErrEngineUnavailable", err)
	}
}

// TestStartUseRestartClose starts the environment once and checks, in order:
// both services answer real clients (including a Kafka transaction, which
// needs the internal BROKER listener), restarts keep data and addresses, and
// Close removes the containers.
func TestStartUseRestartClose(t *testing.T) {
	requireEngine(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Minute)
	defer cancel()

	before := ours(ctx, t)
	began := time.Now()
	env, err := dockerenv.Start(ctx, testOptions(t))
	t.Logf("Start took %s", time.Since(began).Round(100*time.Millisecond))
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := env.Close(context.Background()); err != nil {
			t.Errorf("Close in cleanup: %v", err)
		}
	})
	ids := env.ContainerIDs()
	dsn, brokers := env.PostgresDSN(), env.KafkaBrokers()
	t.Logf("PostgreSQL %s at %s; Kafka %s at %v; containers %v",
		env.PostgresVersion(), dsn, env.KafkaVersion(), brokers, ids)
	if len(ids) != 2 {
		t.Errorf("ContainerIDs = %v, want two", ids)
	}
	if !strings.Contains(dsn, "sslmode=disable") {
		t.Errorf("PostgresDSN %q lacks sslmode=disable", dsn)
	}
	if env.PostgresVersion() == "" {
		t.Error("PostgresVersion is empty")
	}
	if got := ours(ctx, t); len(got) != len(before)+2 || !containsAll(got, ids) {
		t.Errorf("this process's containers: %v before Start, %v after, want those plus %v", before, got, ids)
	}
	if got, want := env.KafkaVersion(), imageTag(os.Getenv(kafkaImageEnv), dockerenv.DefaultKafkaImage); got != want {
		t.Errorf("KafkaVersion = %q, want %q", got, want)
	}

	t.Run("postgres", func(t *testing.T) {
		conn := connect(ctx, t, dsn)
		var one int
		if err := conn.QueryRow(ctx, "SELECT 1").Scan(&one); err != nil || one != 1 {
			t.Fatalf("SELECT 1 = %d, %v", one, err)
		}
		for name, want := range env.PostgresSettings() {
			var got string
			if err := conn.QueryRow(ctx, "SELECT current_setting($1)", name).Scan(&got); err != nil {
				t.Errorf("current_setting(%s): %v", name, err)
			} else if !sameSetting(got, want) {
				t.Errorf("setting %s = %q, want %q", name, got, want)
			}
		}
		if _, err := conn.Exec(ctx, "CREATE TABLE survives (v text); INSERT INTO survives VALUES ('before restart')"); err != nil {
			t.Fatalf("create table: %v", err)
		}
	})

	t.Run("kafka", func(t *testing.T) {
		roundTrip(ctx, t, brokers, "dockerenv-before-restart")
	})

	pgPID, kafkaPID := env.HostPIDs(ctx)
	t.Run("host processes", func(t *testing.T) {
		if !treeRuns(pgPID, "postgres") {
			t.Errorf("PostgreSQL container's host PID %d: no postgres process in its tree", pgPID)
		}
		if !treeRuns(kafkaPID, "java") {
			t.Errorf("Kafka container's host PID %d: no java process in its tree", kafkaPID)
		}
	})

	t.Run("restart kafka", func(t *testing.T) {
		if err := env.RestartKafka(ctx); err != nil {
			t.Fatalf("RestartKafka: %v", err)
		}
		if got := env.KafkaBrokers(); !slices.Equal(got, brokers) {
			t.Errorf("KafkaBrokers after restart = %v, want %v", got, brokers)
		}
		// The data survives, and clients on the same address work again.
		if got := consume(ctx, t, brokers, "dockerenv-before-restart", 2); !slices.Equal(got, []string{"plain", "txn"}) {
			t.Errorf("records after restart = %q", got)
		}
		roundTrip(ctx, t, brokers, "dockerenv-after-restart")
	})

	t.Run("restart postgres", func(t *testing.T) {
		if err := env.RestartPostgres(ctx); err != nil {
			t.Fatalf("RestartPostgres: %v", err)
		}
		if got := env.PostgresDSN(); got != dsn {
			t.Errorf("PostgresDSN after restart = %q, want %q", got, dsn)
		}
		var v string
		if err := connect(ctx, t, dsn).QueryRow(ctx, "SELECT v FROM survives").Scan(&v); err != nil {
			t.Fatalf("row written before the restart: %v", err)
		}
		if pid, _ := env.HostPIDs(ctx); pid == pgPID || !treeRuns(pid, "postgres") {
			t.Errorf("PostgreSQL's host PID after the restart: %d (before: %d), want a new one running postgres", pid, pgPID)
		}
	})

	if err := env.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := env.Close(ctx); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if err := env.RestartKafka(ctx); !errors.Is(err, dockerenv.ErrClosed) {
		t.Errorf("RestartKafka after Close = %v, want ErrClosed", err)
	}
	assertGone(ctx, t, ids)
	if got := ours(ctx, t); !slices.Equal(got, before) {
		t.Errorf("this process's containers after Close: %v, want %v as before Start", got, before)
	}
}

// treeRuns reports whether pid or a process below it is named name.
func treeRuns(pid int, name string) bool {
	if pid <= 0 {
		return false
	}
	for _, p := range append([]int{pid}, childproc.Descendants(pid)...) {
		if childproc.ProcessName(p) == name {
			return true
		}
	}
	return false
}

// ours lists the containers this process started (dockerenv.Containers).
func ours(ctx context.Context, t *testing.T) []string {
	t.Helper()
	ids, err := dockerenv.Containers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return ids
}

func containsAll(set, items []string) bool {
	for _, it := range items {
		if !slices.Contains(set, it) {
			return false
		}
	}
	return true
}

// sameSetting compares a setting as current_setting reports it with the
// value it was given; the defaults are written in PostgreSQL's own units, so
// only letter case may differ.
func sameSetting(got, want string) bool {
	return strings.EqualFold(got, want)
}

func connect(ctx context.Context, t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("connect to %s: %v", dsn, err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// roundTrip creates topic, writes one plain and one transactional record and
// reads both back with read_committed, which only returns the second once
// the broker has written its transaction marker to itself.
func roundTrip(ctx context.Context, t *testing.T, brokers []string, topic string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()

	cl := newClient(t, kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic))
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, topic); err != nil {
		t.Fatalf("create topic %s: %v", topic, err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("plain")}).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}

	txn := newClient(t, kgo.SeedBrokers(brokers...), kgo.DefaultProduceTopic(topic), kgo.TransactionalID(topic+"-txn"))
	if err := txn.BeginTransaction(); err != nil {
		t.Fatalf("begin transaction: %v", err)
	}
	if err := txn.ProduceSync(ctx, &kgo.Record{Value: []byte("txn")}).FirstErr(); err != nil {
		t.Fatalf("produce in transaction: %v", err)
	}
	if err := txn.EndTransaction(ctx, kgo.TryCommit); err != nil {
		t.Fatalf("commit transaction: %v", err)
	}

	if got := consume(ctx, t, brokers, topic, 2); !slices.Equal(got, []string{"plain", "txn"}) {
		t.Errorf("consumed %q, want [plain txn]", got)
	}
}

// consume reads n records of topic from the start, read_committed.
func consume(ctx context.Context, t *testing.T, brokers []string, topic string, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cl := newClient(t, kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchIsolationLevel(kgo.ReadCommitted()))
	var got []string
	for len(got) < n {
		fs := cl.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatalf("consume %s after %q: %v", topic, got, err)
		}
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return got
}

func newClient(t *testing.T, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatalf("kafka client: %v", err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// assertGone checks with the Docker API that no container in ids exists.
func assertGone(ctx context.Context, t *testing.T, ids []string) {
	t.Helper()
	p, err := testcontainers.NewDockerProvider()
	if err != nil {
		t.Fatalf("docker provider: %v", err)
	}
	defer p.Close()
	for _, id := range ids {
		_, err := p.Client().ContainerInspect(ctx, id, client.ContainerInspectOptions{})
		switch {
		case err == nil:
			t.Errorf("container %s still exists after Close", id)
		case !errdefs.IsNotFound(err):
			t.Errorf("inspect container %s: %v", id, err)
		}
	}
}

// testWriter sends progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// Example_start shows the usual life cycle.
func Example_start() {
	ctx := context.Background()
	if err := dockerenv.Healthy(ctx); err != nil {
		fmt.Println("no Docker:", errors.Is(err, dockerenv.ErrEngineUnavailable))
		return
	}
	env, err := dockerenv.Start(ctx, dockerenv.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer env.Close(ctx)
	fmt.Println(env.PostgresDSN() != "", len(env.KafkaBrokers()))
}
