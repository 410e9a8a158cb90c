package bench

import (
	"context"

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
// stage timestamps and errs the errors its workers recover from.
func newSystem(ctx context.Context, d catalog.Descriptor, work workload.Workload, pool *pgxpool.Pool, env infra.Infra, opts scenarios.Options, faults *faultSet, obs event.Observer, errs *errorLog) (reference.System, error) {
	return catalog.Build(ctx, d, catalog.Deps{
		Workload: work,
		Pool:     pool,
		Schema:   d.Schema,
		Options:  opts.For(scenarios.Arch(d.Name)),
		Kafka:    catalog.KafkaEndpoint{Brokers: env.KafkaBrokers(), ClientOptions: env.KafkaOptions()},
		AMQP:     catalog.AMQPEndpoint{URL: env.AMQPURL()},
		Observer: obs,
		Hooks:    faults.hooks(),
		OnError:  errs.record,
	})
}
