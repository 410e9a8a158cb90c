package derived_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/kafkalocal"
	"github.com/cqrsbench/cqrsbench/reference/pack"
	"github.com/cqrsbench/cqrsbench/reference/pack/derived"
)

// brokersEnv names Kafka brokers for the tests (host:port, comma
// separated); unset, they start a throwaway local broker.
const brokersEnv = "CQRSBENCH_TEST_KAFKA_BROKERS"

// kafkaConfig returns a config on a topic and group of the test's own, on
// the brokers of brokersEnv or a throwaway local broker; it skips (fails
// when services are required) when neither can be had.
func kafkaConfig(t *testing.T) derived.KafkaConfig {
	t.Helper()
	var cfg derived.KafkaConfig
	if b := os.Getenv(brokersEnv); b != "" {
		cfg.Kafka.Brokers = strings.Split(b, ",")
	} else {
		infratest.SkipShort(t)
		b, err := broker.Get(func() (*kafkalocal.Broker, error) {
			return kafkalocal.Start(context.Background(), kafkalocal.Options{HeapMB: 512})
		})
		switch {
		case errors.Is(err, kafkalocal.ErrNoJava):
			infratest.Missing(t, "install a Java runtime (apt-get install default-jre-headless) or set %s: %v", brokersEnv, err)
		case errors.Is(err, kafkalocal.ErrNoDistribution):
			infratest.Missing(t, "run `make kafka` (needs java and mvn) or set %s: %v", brokersEnv, err)
		case err != nil:
			t.Fatalf("start a Kafka broker: %v", err)
		}
		cfg.Kafka.Brokers = b.Brokers()
	}
	name := fmt.Sprintf("test.derived.%d.%d", time.Now().UnixNano(), queues.Add(1))
	cfg.Kafka.Topic, cfg.Kafka.Group, cfg.Kafka.Partitions = name, name, 3
	cfg.Kafka.Relay.PollInterval = 50 * time.Millisecond
	cfg.OnError = func(err error) { t.Logf("recovered: %v", err) }
	return cfg
}

// kafka is cqrs-kafka on a topic of three partitions of its own.
var kafka = transport{name: "cqrs-kafka", schema: "cqrs_kafka",
	build: func(t *testing.T, pool *pgxpool.Pool, p *pack.Pack, o archOpts) (outboxArch, error) {
		cfg := kafkaConfig(t)
		cfg.Observer, cfg.NoVersionGuard, cfg.Hooks = o.observer, o.noGuard, o.hooks
		return derived.NewKafka(t.Context(), "cqrs-kafka", pool, "cqrs_kafka", p, cfg)
	}}

func TestKafkaCommandsCatchUp(t *testing.T) { testCommandsCatchUp(t, kafka) }
func TestKafkaVersionGuard(t *testing.T)    { testVersionGuard(t, kafka) }
func TestKafkaPauseAndPoison(t *testing.T)  { testPauseAndPoison(t, kafka) }
func TestKafkaCrashes(t *testing.T)         { testCrashes(t, kafka) }
