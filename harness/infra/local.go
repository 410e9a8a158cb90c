package infra

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/harness/infra/kafkafake"
	"github.com/cqrsbench/cqrsbench/harness/infra/kafkalocal"
	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
	"github.com/cqrsbench/cqrsbench/harness/infra/rabbitlocal"
	"github.com/cqrsbench/cqrsbench/harness/services"
)

// kfakeNote is shown wherever a run used kfake instead of Kafka.
const kfakeNote = "no Java or Kafka distribution found: using franz-go's in-process kfake, NOT real Kafka; " +
	"its numbers say nothing about Kafka. Fix: run `make kafka` (needs java and mvn) or set KAFKA_HOME"

// localInfra is a pglocal cluster plus a kafkalocal broker or a kfake.
type localInfra struct {
	pg      *pglocal.Cluster
	standby *pglocal.Cluster   // nil unless Config.Replica
	broker  *kafkalocal.Broker // nil when fake is used
	fake    *kafkafake.Fake
	rabbit  *rabbitlocal.Node // nil unless Config.RabbitMQ

	once sync.Once
	err  error
}

func openLocal(ctx context.Context, cfg Config) (Infra, error) {
	l := &localInfra{}
	var pgErr, kafkaErr, rabbitErr error
	var wg sync.WaitGroup
	if cfg.RabbitMQ {
		wg.Go(func() { l.rabbit, rabbitErr = rabbitlocal.Start(ctx, rabbitlocal.Options{Progress: cfg.Progress}) })
	}
	wg.Go(func() {
		l.pg, pgErr = pglocal.Start(ctx, pglocal.Options{BinDir: cfg.PostgresBinDir, Settings: cfg.PostgresSettings, Progress: cfg.Progress})
	})
	wg.Go(func() {
		if cfg.SkipKafka {
			return
		}
		l.broker, kafkaErr = kafkalocal.Start(ctx, kafkalocal.Options{Home: cfg.KafkaHome, Progress: cfg.Progress})
		if errors.Is(kafkaErr, kafkalocal.ErrNoDistribution) || errors.Is(kafkaErr, kafkalocal.ErrNoJava) {
			say(cfg.Progress, "WARNING: %s (%v)", kfakeNote, kafkaErr)
			l.fake, kafkaErr = kafkafake.Start(ctx)
		}
	})
	wg.Wait()
	if pgErr == nil && cfg.Replica {
		l.standby, pgErr = l.pg.StartStandby(ctx)
	}
	if pgErr != nil || kafkaErr != nil || rabbitErr != nil {
		_ = l.Close(context.WithoutCancel(ctx))
	}
	if pgErr != nil {
		fix := "see the error above"
		if errors.Is(pgErr, pglocal.ErrNoBinaries) {
			fix = "install the PostgreSQL server binaries (apt-get install postgresql), or use --infra docker or --infra external --pg-dsn DSN"
		}
		return nil, Unavailable("PostgreSQL (local provider)", fix, pgErr)
	}
	if kafkaErr != nil {
		return nil, Unavailable("Kafka (local provider)", "see the broker log above; `make kafka` re-assembles the distribution", kafkaErr)
	}
	if rabbitErr != nil {
		fix := "see the node's log above"
		if errors.Is(rabbitErr, rabbitlocal.ErrNotInstalled) {
			fix = "install RabbitMQ (apt-get install rabbitmq-server), or use --infra docker or --infra external --amqp-url URL"
		}
		return nil, Unavailable("RabbitMQ (local provider)", fix, rabbitErr)
	}
	return l, nil
}

func (l *localInfra) PostgresDSN() string { return l.pg.DSN() }

// PostgresReadDSN implements Infra: the hot standby's.
func (l *localInfra) PostgresReadDSN() string {
	if l.standby == nil {
		return ""
	}
	return l.standby.DSN()
}

// KafkaOptions implements Infra: local brokers listen in plaintext.
func (l *localInfra) KafkaOptions() []kgo.Opt { return nil }

func (l *localInfra) KafkaBrokers() []string {
	switch {
	case l.broker != nil:
		return l.broker.Brokers()
	case l.fake != nil:
		return l.fake.Brokers()
	}
	return nil
}

// AMQPURL implements Infra.
func (l *localInfra) AMQPURL() string {
	if l.rabbit == nil {
		return ""
	}
	return l.rabbit.URL()
}

// Describe implements Infra.
func (l *localInfra) Describe() services.Description {
	d := services.Description{Provider: ProviderLocal, Services: []services.Service{{
		Role: services.RolePostgres, Kind: services.KindLocal, Product: services.ProductPostgres, Version: l.pg.Version(),
		Endpoints: []string{l.pg.Addr()}, Settings: l.pg.Settings(),
	}}}
	if l.standby != nil {
		d.Services = append(d.Services, services.Service{Role: services.RolePostgresReplica, Kind: services.KindLocal,
			Product: services.ProductPostgres, Version: l.standby.Version(), Endpoints: []string{l.standby.Addr()},
			Settings: l.standby.Settings(), Note: "hot standby of " + l.pg.Addr() + " (streaming replication)"})
	}
	switch {
	case l.broker != nil:
		d.Services = append(d.Services, services.Service{Role: services.RoleKafka, Kind: services.KindLocal,
			Product: services.ProductApacheKafka, Version: l.broker.Version(), Endpoints: l.broker.Brokers()})
	case l.fake != nil:
		d.Services = append(d.Services, services.Service{Role: services.RoleKafka, Kind: services.KindFake,
			Product: services.ProductKfake, Endpoints: l.fake.Brokers(), Note: kfakeNote})
	}
	if l.rabbit != nil {
		d.Services = append(d.Services, services.Service{Role: services.RoleRabbitMQ, Kind: services.KindLocal,
			Product: services.ProductRabbitMQ, Version: l.rabbit.Version(), Endpoints: []string{RedactAMQPURL(l.rabbit.URL())}})
	}
	return d
}

// HostProcesses implements Infra: the postmaster, the broker's JVM, the
// RabbitMQ node's beam.smp and its epmd.
func (l *localInfra) HostProcesses(context.Context) map[string][]int {
	out := map[string][]int{}
	add := func(role string, pids ...int) {
		for _, pid := range pids {
			if pid > 0 {
				out[role] = append(out[role], pid)
			}
		}
	}
	add(services.RolePostgres, l.pg.PID())
	if l.standby != nil {
		add(services.RolePostgres, l.standby.PID()) // the replica's work is PostgreSQL's too
	}
	if l.broker != nil {
		add(services.RoleKafka, l.broker.PID())
	}
	if l.rabbit != nil {
		add(services.RoleRabbitMQ, l.rabbit.PID(), l.rabbit.EpmdPID())
	}
	return out
}

// Postgres returns the local cluster, for fault injection (restarts).
func (l *localInfra) Postgres() *pglocal.Cluster { return l.pg }

// Close stops the broker (or fake) and the cluster and removes their files.
func (l *localInfra) Close(ctx context.Context) error {
	l.once.Do(func() {
		var errs []error
		if l.rabbit != nil {
			errs = append(errs, wrapIf("stop RabbitMQ", l.rabbit.Close(ctx)))
		}
		if l.broker != nil {
			errs = append(errs, wrapIf("stop Kafka", l.broker.Close(ctx)))
		}
		if l.fake != nil {
			errs = append(errs, wrapIf("stop kfake", l.fake.Close(ctx)))
		}
		if l.standby != nil {
			errs = append(errs, wrapIf("stop the PostgreSQL standby", l.standby.Close(ctx)))
		}
		if l.pg != nil {
			errs = append(errs, wrapIf("stop PostgreSQL", l.pg.Close(ctx)))
		}
		l.err = errors.Join(errs...)
	})
	return l.err
}

func wrapIf(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}
