package derived_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/rabbitlocal"
	"github.com/cqrsbench/cqrsbench/reference/pack"
	"github.com/cqrsbench/cqrsbench/reference/pack/derived"
)

// urlEnv names a RabbitMQ broker for the tests; unset, they start a
// throwaway local node.
const urlEnv = "CQRSBENCH_AMQP_URL"

var queues atomic.Int64

// rabbitConfig returns a config on queues of the test's own, on the broker
// of urlEnv or a throwaway local node; it skips (fails when services are
// required) when neither can be had.
func rabbitConfig(t *testing.T) derived.RabbitMQConfig {
	t.Helper()
	url := os.Getenv(urlEnv)
	if url == "" {
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
		url = n.URL()
	}
	var cfg derived.RabbitMQConfig
	cfg.AMQP.URL = url
	cfg.AMQP.Queue = fmt.Sprintf("test.derived.%d.%d", time.Now().UnixNano(), queues.Add(1))
	cfg.AMQP.DeadLetterExchange, cfg.AMQP.DeadLetterQueue = cfg.AMQP.Queue+".dlx", cfg.AMQP.Queue+".dead"
	cfg.OnError = func(err error) { t.Logf("recovered: %v", err) }
	return cfg
}

// rabbitMQ is cqrs-rabbitmq on its own queues: four workers taking
// batches of up to eight, so they interleave.
var rabbitMQ = transport{name: "cqrs-rabbitmq", schema: "cqrs_rabbitmq",
	build: func(t *testing.T, pool *pgxpool.Pool, p *pack.Pack, o archOpts) (outboxArch, error) {
		cfg := rabbitConfig(t)
		cfg.AMQP.Workers, cfg.AMQP.Prefetch = 4, 8
		cfg.Relay.PollInterval = 50 * time.Millisecond
		cfg.Observer, cfg.NoVersionGuard, cfg.Hooks = o.observer, o.noGuard, o.hooks
		return derived.NewRabbitMQ(t.Context(), "cqrs-rabbitmq", pool, "cqrs_rabbitmq", p, cfg)
	}}

func TestRabbitMQCommandsCatchUp(t *testing.T) { testCommandsCatchUp(t, rabbitMQ) }
func TestRabbitMQVersionGuard(t *testing.T)    { testVersionGuard(t, rabbitMQ) }
func TestRabbitMQPauseAndPoison(t *testing.T)  { testPauseAndPoison(t, rabbitMQ) }
func TestRabbitMQCrashes(t *testing.T)         { testCrashes(t, rabbitMQ) }
