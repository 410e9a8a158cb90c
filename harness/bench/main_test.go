package bench_test

import (
	"context"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/infra"
	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/kafkalocal"
	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
)

// shared is the local PostgreSQL and Kafka the package's tests run on,
// started by the first test that needs it and stopped by TestMain.
var shared struct {
	once sync.Once
	env  infra.Infra
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if shared.env != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		if err := shared.env.Close(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "stop the test infrastructure:", err)
			code = 1
		}
		cancel()
	}
	os.Exit(code)
}

// skipShort skips tests that need services under -short.
func skipShort(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL and Kafka")
	}
}

// sharedEnv returns the local infrastructure (real PostgreSQL with a hot
// standby, a real Kafka broker that fault tests may stop and restart, and
// RabbitMQ), or skips (fails in CI) when their binaries are missing.
func sharedEnv(t *testing.T) infra.Infra {
	t.Helper()
	skipShort(t)
	if _, err := pglocal.FindBinDir(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	if _, err := kafkalocal.FindDistribution(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	shared.once.Do(func() {
		shared.env, shared.err = infra.Open(context.Background(), infra.Config{Provider: infra.ProviderLocal, RabbitMQ: true, Replica: true})
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.env
}
