package cqrskafka_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/kafkalocal"
	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
	"github.com/cqrsbench/cqrsbench/reference/domain"
)

// Environment variables that point the integration tests at existing
// services instead of the throwaway ones TestMain starts.
const (
	dsnEnv     = "CQRSBENCH_TEST_PG_DSN"
	brokersEnv = "CQRSBENCH_TEST_KAFKA_BROKERS"
)

// services are the PostgreSQL and Kafka the package's tests share, started
// on first use and stopped by TestMain.
var services struct {
	pgOnce, kafkaOnce sync.Once
	cluster           *pglocal.Cluster
	broker            *kafkalocal.Broker
	dsn               string
	brokers           []string
	pgErr, kafkaErr   error
}

var (
	seq        atomic.Int64
	runStarted = time.Now().UnixNano()
)

func TestMain(m *testing.M) {
	code := m.Run()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if services.broker != nil {
		if err := services.broker.Close(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "close test broker:", err)
		}
	}
	if services.cluster != nil {
		if err := services.cluster.Close(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "close test cluster:", err)
		}
	}
	os.Exit(code)
}

// testPool returns a pool on the shared PostgreSQL, skipping the test
// (failing it in CI) when there is none.
func testPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL and Kafka; skipped with -short")
	}
	services.pgOnce.Do(func() {
		if dsn := os.Getenv(dsnEnv); dsn != "" {
			services.dsn = dsn
			return
		}
		if _, err := pglocal.FindBinDir(""); err != nil {
			services.pgErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		services.cluster, services.pgErr = pglocal.Start(ctx, pglocal.Options{Settings: map[string]string{"shared_buffers": "256MB"}})
		if services.pgErr == nil {
			services.dsn = services.cluster.DSN()
		}
	})
	if services.pgErr != nil {
		infratest.Missing(t, "set %s or install the PostgreSQL server (apt-get install postgresql): %v", dsnEnv, services.pgErr)
	}
	cfg, err := pgxpool.ParseConfig(services.dsn)
	if err != nil {
		t.Fatalf("parse %s: %v", services.dsn, err)
	}
	cfg.MaxConns = 16
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatalf("connect to %s: %v", services.dsn, err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// testBrokers returns the shared Kafka broker's addresses, skipping the
// test (failing it in CI) when there is none.
func testBrokers(t testing.TB) []string {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL and Kafka; skipped with -short")
	}
	services.kafkaOnce.Do(func() {
		if b := os.Getenv(brokersEnv); b != "" {
			services.brokers = strings.Split(b, ",")
			return
		}
		if _, err := kafkalocal.FindDistribution(""); err != nil {
			services.kafkaErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		services.broker, services.kafkaErr = kafkalocal.Start(ctx, kafkalocal.Options{HeapMB: 512})
		if services.kafkaErr == nil {
			services.brokers = services.broker.Brokers()
		}
	})
	if err := services.kafkaErr; err != nil {
		hint := "run `make kafka` (needs java and mvn) or set " + brokersEnv
		if errors.Is(err, kafkalocal.ErrNoJava) {
			hint = "install a Java runtime (apt-get install default-jre-headless) or set " + brokersEnv
		}
		infratest.Missing(t, "%s: %v", hint, err)
	}
	return services.brokers
}

// uniqueName returns a name unique to this test run, lower-case.
func uniqueName(prefix string) string {
	return strings.ToLower(fmt.Sprintf("%s_%x_%d", prefix, runStarted&0xffffff, seq.Add(1)))
}

// dropSchemaAtEnd drops schema when the test ends.
func dropSchemaAtEnd(t testing.TB, pool *pgxpool.Pool, schema string) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := domain.DropWriteModel(ctx, pool, schema); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
}
