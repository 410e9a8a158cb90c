package infra

import (
	"context"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/harness/infra/dockerenv"
)

// dockerInfra adapts dockerenv.Env to Infra.
type dockerInfra struct {
	env  *dockerenv.Env
	once sync.Once
	err  error
}

func openDocker(ctx context.Context, cfg Config) (Infra, error) {
	if err := dockerenv.Healthy(ctx); err != nil {
		return nil, Unavailable("Docker", "start the Docker engine, or use --infra local (PostgreSQL binaries + `make kafka`)", err)
	}
	env, err := dockerenv.Start(ctx, dockerenv.Options{
		PostgresImage: cfg.PostgresImage,
		KafkaImage:    cfg.KafkaImage,
		Progress:      cfg.Progress,
	})
	if err != nil {
		return nil, Unavailable("Docker containers", "check `docker info` and that the images can be pulled "+
			"(or build local ones with `make docker-images` and pass --pg-image and --kafka-image), or use --infra local", err)
	}
	return &dockerInfra{env: env}, nil
}

func (d *dockerInfra) PostgresDSN() string    { return d.env.PostgresDSN() }
func (d *dockerInfra) KafkaBrokers() []string { return d.env.KafkaBrokers() }

// KafkaOptions implements Infra: the container's listener is plaintext.
func (d *dockerInfra) KafkaOptions() []kgo.Opt { return nil }

// AMQPURL implements Infra: the docker provider starts no RabbitMQ yet.
func (d *dockerInfra) AMQPURL() string { return "" }

func (d *dockerInfra) Describe() Description {
	return Description{
		Provider: ProviderDocker,
		Postgres: PostgresInfo{Version: d.env.PostgresVersion(), Address: hostOf(d.env.PostgresDSN()),
			Image: d.env.PostgresImage(), Settings: d.env.PostgresSettings()},
		Kafka: KafkaInfo{Kind: KindApacheKafka, Version: d.env.KafkaVersion(), Brokers: d.env.KafkaBrokers(),
			Image: d.env.KafkaImage()},
	}
}

func (d *dockerInfra) Close(ctx context.Context) error {
	d.once.Do(func() { d.err = d.env.Close(ctx) })
	return d.err
}
