package bench

import (
	"fmt"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/infra"
	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/cqrskafka"
	"github.com/cqrsbench/cqrsbench/reference/cqrskafka/event"
	"github.com/cqrsbench/cqrsbench/reference/cqrskafka/relay"
	"github.com/cqrsbench/cqrsbench/reference/cqrsmatview"
	"github.com/cqrsbench/cqrsbench/reference/cqrssync"
	"github.com/cqrsbench/cqrsbench/reference/crud"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// newSystem builds the named architecture on its schema; for cqrs-kafka,
// faults wires its hooks in, and obs receives the pipeline's stage
// timestamps.
func newSystem(name string, pool *pgxpool.Pool, env infra.Infra, opts scenarios.Options, faults *faultSet, obs event.Observer) (reference.System, error) {
	schema := reference.SchemaOf(name)
	switch name {
	case reference.CRUD:
		return crud.New(pool, schema)
	case reference.CQRSSync:
		return cqrssync.New(pool, schema)
	case reference.CQRSMatview:
		return cqrsmatview.New(pool, schema, opts.Matview.Refresh.Std())
	case reference.CQRSKafka:
		k := opts.Kafka
		if k.Projectors > 1 {
			return nil, fmt.Errorf("options.cqrs-kafka.projectors: %d projectors are not supported yet; use 1", k.Projectors)
		}
		mode, err := relay.ParseMode(string(k.Relay))
		if err != nil {
			return nil, err
		}
		cfg := cqrskafka.Config{
			Schema:          schema,
			Brokers:         env.KafkaBrokers(),
			KafkaOptions:    env.KafkaOptions(),
			Topic:           k.Topic,
			DeadLetterTopic: k.DeadLetterTopic,
			Partitions:      int32(k.Partitions),
			Relay: cqrskafka.RelayOptions{
				Mode: mode, Relays: k.Relays, BatchSize: k.BatchSize, Linger: k.Linger.Std(), PollInterval: k.Poll.Std(),
			},
			// The projector keeps its own poll cap: tying it to the relay's
			// batch throttled catch-ups (1M orders: 6.8k vs 16k events/s).
			Projector: cqrskafka.ProjectorOptions{DisableInbox: !k.Inbox},
			Observer:  obs,
		}
		faults.configureKafka(&cfg)
		return cqrskafka.New(pool, cfg)
	}
	return nil, fmt.Errorf("architecture %q is not available in this build", name)
}
