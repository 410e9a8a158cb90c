package catalog

import (
	"context"
	"fmt"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/cqrskafka"
	"github.com/cqrsbench/cqrsbench/reference/cqrsmatview"
	"github.com/cqrsbench/cqrsbench/reference/cqrsrabbitmq"
	"github.com/cqrsbench/cqrsbench/reference/cqrssync"
	"github.com/cqrsbench/cqrsbench/reference/crud"
	"github.com/cqrsbench/cqrsbench/reference/pack"
	"github.com/cqrsbench/cqrsbench/reference/pack/derived"
	"github.com/cqrsbench/cqrsbench/reference/settings"
	"github.com/cqrsbench/cqrsbench/reference/shop"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// Table returns every architecture, in the order runs and tables use. It is
// the only list of architectures in the tool.
func Table() []Descriptor {
	return []Descriptor{
		{
			Name: crud.Name, Schema: crud.DefaultSchema, Consistency: Immediate, Baseline: true,
			Summary:   "normalized tables; screens join and aggregate",
			Prototype: (*crud.System)(nil),
			New: func(_ context.Context, d Deps) (reference.System, error) {
				return crud.New(d.Pool, d.Schema)
			},
			DerivedPrototype: (*derived.CRUD)(nil),
			Derive: func(ctx context.Context, d Deps, p *pack.Pack) (reference.System, error) {
				return derived.NewCRUD(ctx, crud.Name, d.Pool, d.Schema, p)
			},
		},
		{
			Name: crud.ReplicaName, Schema: crud.ReplicaSchema, Consistency: Eventual,
			Summary:   "crud with commands on the primary and screens on a streaming replica (hot standby)",
			Needs:     []Service{Replica},
			OnRequest: true,
			Prototype: (*crud.System)(nil),
			New: func(_ context.Context, d Deps) (reference.System, error) {
				return crud.OnReplica(d.Pool, d.ReadPool, d.Schema)
			},
			DerivedPrototype: (*derived.CRUD)(nil),
			Derive: func(ctx context.Context, d Deps, p *pack.Pack) (reference.System, error) {
				if d.ReadPool == nil {
					return nil, fmt.Errorf("%s needs a streaming replica", crud.ReplicaName)
				}
				return derived.NewCRUDOnReplica(ctx, crud.ReplicaName, d.Pool, d.ReadPool, d.Schema, p)
			},
		},
		{
			Name: cqrssync.Name, Schema: cqrssync.DefaultSchema, Consistency: Immediate,
			Summary:    "flat read models written in the command's transaction",
			ReadModels: workload.ReadModels{shop.OrderSummaries: "order_read_model", shop.DailySales: "daily_sales"},
			Prototype:  (*cqrssync.System)(nil),
			Options:    func() settings.Options { return cqrssync.DefaultOptions() },
			New: func(_ context.Context, d Deps) (reference.System, error) {
				switch reads, err := readPool(d); {
				case err != nil:
					return nil, err
				case reads != nil:
					return cqrssync.OnReplica(d.Pool, reads, d.Schema)
				}
				return cqrssync.New(d.Pool, d.Schema)
			},
			DerivedPrototype: (*derived.Sync)(nil),
			Derive: func(ctx context.Context, d Deps, p *pack.Pack) (reference.System, error) {
				s, err := derived.NewSync(ctx, cqrssync.Name, d.Pool, d.Schema, p, derived.SyncOptions{})
				return derivedReads(ctx, d, s, err)
			},
		},
		{
			Name: cqrsmatview.Name, Schema: cqrsmatview.DefaultSchema, Consistency: Periodic,
			Summary:    "materialized views refreshed concurrently every period",
			ReadModels: workload.ReadModels{shop.OrderSummaries: "order_list_mv", shop.DailySales: "daily_sales_mv"},
			Prototype:  (*cqrsmatview.System)(nil),
			Options:    func() settings.Options { return cqrsmatview.DefaultOptions() },
			New: func(_ context.Context, d Deps) (reference.System, error) {
				o, err := options(d, cqrsmatview.DefaultOptions)
				if err != nil {
					return nil, err
				}
				switch reads, err := readPool(d); {
				case err != nil:
					return nil, err
				case reads != nil:
					return cqrsmatview.OnReplica(d.Pool, reads, d.Schema, o.Refresh.Std())
				}
				return cqrsmatview.New(d.Pool, d.Schema, o.Refresh.Std())
			},
			DerivedPrototype: (*derived.Matview)(nil),
			Derive: func(ctx context.Context, d Deps, p *pack.Pack) (reference.System, error) {
				o, err := options(d, cqrsmatview.DefaultOptions)
				if err != nil {
					return nil, err
				}
				s, err := derived.NewMatview(ctx, cqrsmatview.Name, d.Pool, d.Schema, p, o.Refresh.Std())
				return derivedReads(ctx, d, s, err)
			},
		},
		{
			Name: cqrskafka.Name, Schema: cqrskafka.DefaultSchema, Consistency: Eventual,
			Summary:    "outbox → relay → Kafka → idempotent projector → flat read models",
			ReadModels: workload.ReadModels{shop.OrderSummaries: "order_read_model", shop.DailySales: "daily_sales"},
			Needs:      []Service{Kafka},
			Prototype:  (*cqrskafka.System)(nil),
			Options:    func() settings.Options { return cqrskafka.DefaultOptions() },
			New: func(_ context.Context, d Deps) (reference.System, error) {
				o, err := options(d, cqrskafka.DefaultOptions)
				if err != nil {
					return nil, err
				}
				cfg := cqrskafka.Config{
					Schema: d.Schema, Brokers: d.Kafka.Brokers, KafkaOptions: d.Kafka.ClientOptions,
					Observer: d.Observer, OnError: d.OnError, Hooks: d.Hooks,
				}
				o.Configure(&cfg)
				if cfg.ReadPool, err = readPool(d); err != nil {
					return nil, err
				}
				return cqrskafka.New(d.Pool, cfg)
			},
			DerivedPrototype: (*derived.Kafka)(nil),
			Derive: func(ctx context.Context, d Deps, p *pack.Pack) (reference.System, error) {
				o, err := options(d, cqrskafka.DefaultOptions)
				if err != nil {
					return nil, err
				}
				var c cqrskafka.Config
				o.Configure(&c) // the pack's version table is its inbox: inbox has no effect
				if o.Topic == cqrskafka.DefaultTopic {
					c.Topic = "" // the shop's default: the pack's topic is named after its schema
				}
				c.Brokers, c.KafkaOptions = d.Kafka.Brokers, d.Kafka.ClientOptions
				s, err := derived.NewKafka(ctx, cqrskafka.Name, d.Pool, d.Schema, p, derived.KafkaConfig{Kafka: c,
					NoVersionGuard: c.Projector.DisableVersionGuard, Observer: d.Observer, OnError: d.OnError, Hooks: d.Hooks})
				return derivedReads(ctx, d, s, err)
			},
		},
		{
			Name: cqrsrabbitmq.Name, Schema: cqrsrabbitmq.DefaultSchema, Consistency: Eventual,
			Summary:    "outbox → relay → RabbitMQ quorum queue → competing workers (Celery-style) → flat read models",
			ReadModels: workload.ReadModels{shop.OrderSummaries: "order_read_model", shop.DailySales: "daily_sales"},
			Needs:      []Service{RabbitMQ},
			Prototype:  (*cqrsrabbitmq.System)(nil),
			Options:    func() settings.Options { return cqrsrabbitmq.DefaultOptions() },
			New: func(_ context.Context, d Deps) (reference.System, error) {
				o, err := options(d, cqrsrabbitmq.DefaultOptions)
				if err != nil {
					return nil, err
				}
				cfg := cqrsrabbitmq.Config{Schema: d.Schema, Observer: d.Observer, OnError: d.OnError, Hooks: d.Hooks}
				cfg.AMQP.URL, cfg.AMQP.TLS = d.AMQP.URL, d.AMQP.TLS
				o.Configure(&cfg)
				if cfg.ReadPool, err = readPool(d); err != nil {
					return nil, err
				}
				return cqrsrabbitmq.New(d.Pool, cfg)
			},
			DerivedPrototype: (*derived.RabbitMQ)(nil),
			Derive: func(ctx context.Context, d Deps, p *pack.Pack) (reference.System, error) {
				o, err := options(d, cqrsrabbitmq.DefaultOptions)
				if err != nil {
					return nil, err
				}
				var c cqrsrabbitmq.Config
				o.Configure(&c) // the pack's version table is its inbox: Inbox has no effect
				cfg := derived.RabbitMQConfig{AMQP: c.AMQP, Relay: c.Relay, NoVersionGuard: c.DisableVersionGuard,
					Observer: d.Observer, OnError: d.OnError, Hooks: d.Hooks}
				cfg.AMQP.URL, cfg.AMQP.TLS = d.AMQP.URL, d.AMQP.TLS
				s, err := derived.NewRabbitMQ(ctx, cqrsrabbitmq.Name, d.Pool, d.Schema, p, cfg)
				return derivedReads(ctx, d, s, err)
			},
		},
	}
}

// Workloads returns every workload built into the tool; the first is the
// default. Every architecture of Table runs them.
func Workloads() []workload.Workload {
	return []workload.Workload{shop.Workload{}}
}
