package bench

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/infra"
	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
	"github.com/cqrsbench/cqrsbench/reference/workload"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// newSystem builds architecture d for the workload on its schema with the
// scenario's options for it; faults' hooks are wired in, obs receives the pipeline's
// stage timestamps and errs the errors its workers recover from. replica
// (nil: none) is a streaming replica of pool's server.
func newSystem(ctx context.Context, d catalog.Descriptor, work workload.Workload, pool, replica *pgxpool.Pool, env infra.Infra, opts scenarios.Options, faults *faultSet, obs event.Observer, errs *errorLog) (reference.System, error) {
	if slices.Contains(d.Needs, catalog.Replica) && replica == nil {
		return nil, infra.Unavailable("a PostgreSQL replica", fmt.Sprintf("%s reads a streaming replica: use --infra local, or --infra external with --pg-read-dsn", d.Name), errors.New("the infrastructure has none"))
	}
	return catalog.Build(ctx, d, catalog.Deps{
		Workload: work,
		Pool:     pool,
		ReadPool: replica,
		Schema:   d.Schema,
		Options:  opts.For(scenarios.Arch(d.Name)),
		Kafka:    catalog.KafkaEndpoint{Brokers: env.KafkaBrokers(), ClientOptions: env.KafkaOptions()},
		AMQP:     catalog.AMQPEndpoint{URL: env.AMQPURL()},
		Observer: obs,
		Hooks:    faults.hooks(),
		OnError:  errs.record,
	})
}

// replicaPool connects to the infrastructure's streaming replica with
// connections connections, like the primary's pool; nil when it has none.
func replicaPool(ctx context.Context, env infra.Infra, connections int) (*pgxpool.Pool, error) {
	dsn := env.PostgresReadDSN()
	if dsn == "" {
		return nil, nil
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("bench: parse the replica's DSN: %w", err)
	}
	cfg.MaxConns = int32(connections)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, infra.Unavailable("the PostgreSQL replica", "check --pg-read-dsn", err)
	}
	return pool, nil
}
