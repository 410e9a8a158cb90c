package rabbitmq_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/rabbitlocal"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/rabbitmq"
)

// Environment variables that give the integration tests a broker.
const (
	// urlEnv names the broker, e.g. amqp://guest:guest@127.0.0.1:5672/.
	urlEnv = "CQRSBENCH_AMQP_URL"
	// restartEnv is a shell command that stops the broker of urlEnv and
	// starts it again, returning once it accepts connections; without it
	// the broker-restart test skips.
	restartEnv = "CQRSBENCH_AMQP_RESTART_CMD"
)

var (
	seq        atomic.Int64
	runStarted = time.Now().UnixNano()
)

// node is the throwaway RabbitMQ node the tests share when urlEnv names
// no broker.
var node infratest.Shared[*rabbitlocal.Node]

func TestMain(m *testing.M) { os.Exit(node.Run(m)) }

// brokerURL returns the broker of urlEnv or, when it is unset, of a
// throwaway local node started on first use; it skips (fails when services
// are required) when neither can be had.
func brokerURL(t testing.TB) string {
	t.Helper()
	if u := os.Getenv(urlEnv); u != "" {
		return u
	}
	infratest.SkipShort(t)
	n, err := node.Get(func() (*rabbitlocal.Node, error) {
		return rabbitlocal.Start(context.Background(), rabbitlocal.Options{})
	})
	if errors.Is(err, rabbitlocal.ErrNotInstalled) {
		infratest.Missing(t, "no RabbitMQ broker: %v; or set %s (e.g. amqp://guest:guest@127.0.0.1:5672/)", err, urlEnv)
	}
	if err != nil {
		t.Fatalf("start a RabbitMQ node: %v", err)
	}
	return n.URL()
}

// testConfig returns a Config with queues of its own for t, declared, and
// deleted at cleanup.
func testConfig(t testing.TB) rabbitmq.Config {
	t.Helper()
	prefix := fmt.Sprintf("test.%x.%d", runStarted, seq.Add(1))
	cfg := rabbitmq.Config{
		URL:                brokerURL(t),
		Queue:              prefix + ".events",
		DeadLetterExchange: prefix + ".dlx",
		DeadLetterQueue:    prefix + ".dead",
		MaxReconnectDelay:  500 * time.Millisecond,
		OnError:            func(err error) { t.Logf("OnError: %v", err) },
	}
	topo := openTopology(t, cfg)
	if err := topo.Declare(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := topo.Delete(context.Background()); err != nil {
			t.Errorf("delete topology: %v", err)
		}
	})
	return cfg
}

// openTopology opens a Topology closed at cleanup.
func openTopology(t testing.TB, cfg rabbitmq.Config) *rabbitmq.Topology {
	t.Helper()
	return open(t, func(ctx context.Context) (*rabbitmq.Topology, error) { return rabbitmq.OpenTopology(ctx, cfg) })
}

// newPublisher returns a Publisher closed at cleanup.
func newPublisher(t testing.TB, cfg rabbitmq.Config) *rabbitmq.Publisher {
	t.Helper()
	return open(t, func(ctx context.Context) (*rabbitmq.Publisher, error) { return rabbitmq.NewPublisher(ctx, cfg) })
}

// open returns what f opens within 30 s, closed at cleanup.
func open[T interface{ Close() error }](t testing.TB, f func(context.Context) (T, error)) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	x, err := f(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x
}

// lookupRestart returns the command of restartEnv.
func lookupRestart() (string, bool) {
	cmd := os.Getenv(restartEnv)
	return cmd, cmd != ""
}

// canRestart reports whether the tests can restart their broker: the
// local node they started, or the command of restartEnv.
func canRestart() bool {
	_, ok := lookupRestart()
	return ok || os.Getenv(urlEnv) == ""
}

// restartBroker restarts the broker: the local node, or by the command of
// restartEnv; it skips when neither is available.
func restartBroker(t testing.TB) {
	t.Helper()
	cmd, ok := lookupRestart()
	if !ok && os.Getenv(urlEnv) == "" {
		n, err := node.Get(func() (*rabbitlocal.Node, error) { return nil, errors.New("no node started") })
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := n.Restart(ctx); err != nil {
			t.Fatalf("restart the local node: %v", err)
		}
		return
	}
	if !ok {
		t.Skipf("set %s to a command that restarts the broker of %s", restartEnv, urlEnv)
	}
	out, err := exec.Command("sh", "-c", cmd).CombinedOutput()
	if err != nil {
		t.Fatalf("restart the broker (%s): %v\n%s", cmd, err, out)
	}
}
