package cqrsrabbitmq_test

import (
	"context"
	"errors"
	"github.com/cqrsbench/cqrsbench/reference/cqrsrabbitmq"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
	"github.com/cqrsbench/cqrsbench/harness/infra/rabbitlocal"
	"github.com/cqrsbench/cqrsbench/internal/pgtest"
	"github.com/cqrsbench/cqrsbench/reference/datagen"
)

// The PostgreSQL and the RabbitMQ node the package's tests share.
var (
	db   = pgtest.NewShared(pglocal.Options{Settings: map[string]string{"shared_buffers": "256MB"}})
	node infratest.Shared[*rabbitlocal.Node]
)

func TestMain(m *testing.M) {
	code := node.Run(m)
	db.Close()
	os.Exit(code)
}

// fixture is one System on a fresh schema with a loaded write model, set
// up and started, closed at the end of the test.
type fixture struct {
	pool   *pgxpool.Pool
	schema string
	sys    *cqrsrabbitmq.System
}

// newFixture loads orders into a fresh schema and builds, sets up and
// starts a System on it; configure may change its Config first.
func newFixture(t testing.TB, orders int, configure func(*cqrsrabbitmq.Config)) *fixture {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL and RabbitMQ")
	}
	n, err := node.Get(func() (*rabbitlocal.Node, error) {
		return rabbitlocal.Start(context.Background(), rabbitlocal.Options{})
	})
	if errors.Is(err, rabbitlocal.ErrNotInstalled) {
		infratest.Missing(t, "%v", err)
	}
	if err != nil {
		t.Fatalf("start rabbitmq: %v", err)
	}
	pool := db.Pool(t)
	schema := db.FreshSchema(t, pool, "rmq")
	ctx := t.Context()
	if _, err := datagen.Load(ctx, pool, schema, datagen.Config{Orders: orders, Seed: 3, Today: time.Now().UTC()}, nil); err != nil {
		t.Fatal(err)
	}
	cfg := cqrsrabbitmq.Config{Schema: schema}
	cfg.AMQP.URL, cfg.AMQP.Queue = n.URL(), "test."+schema
	cfg.AMQP.DeadLetterExchange, cfg.AMQP.DeadLetterQueue = cfg.AMQP.Queue+".dlx", cfg.AMQP.Queue+".dead"
	if configure != nil {
		configure(&cfg)
	}
	sys, err := cqrsrabbitmq.New(pool, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := sys.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if err := sys.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	if err := sys.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return &fixture{pool: pool, schema: schema, sys: sys}
}
