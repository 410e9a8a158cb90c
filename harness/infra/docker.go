package infra

import (
	"context"
	"errors"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/harness/infra/dockerenv"
	"github.com/cqrsbench/cqrsbench/harness/services"
)

// dockerInfra adapts dockerenv.Env to Infra.
type dockerInfra struct {
	env    *dockerenv.Env
	rabbit *dockerenv.RabbitMQ // nil unless Config.RabbitMQ
	once   sync.Once
	err    error
}

func openDocker(ctx context.Context, cfg Config) (Infra, error) {
	if err := dockerenv.Healthy(ctx); err != nil {
		return nil, Unavailable("Docker", "start the Docker engine, or use --infra local (PostgreSQL binaries + `make kafka`)", err)
	}
	env, err := dockerenv.Start(ctx, dockerenv.Options{
		PostgresImage: cfg.PostgresImage,
		KafkaImage:    cfg.KafkaImage,
		Replica:       cfg.Replica,
		Progress:      cfg.Progress,
	})
	if err != nil {
		return nil, Unavailable("Docker containers", "check `docker info` and that the images can be pulled "+
			"(or build local ones with `make docker-images` and pass --pg-image and --kafka-image), or use --infra local", err)
	}
	d := &dockerInfra{env: env}
	if cfg.RabbitMQ {
		if d.rabbit, err = dockerenv.StartRabbitMQ(ctx, dockerenv.RabbitMQOptions{Image: cfg.RabbitMQImage, Progress: cfg.Progress}); err != nil {
			_ = env.Close(context.WithoutCancel(ctx))
			return nil, Unavailable("Docker RabbitMQ container", "check `docker info` and that the image can be pulled "+
				"(or build a local one with `make docker-images` and pass --rabbitmq-image), or use --infra local", err)
		}
	}
	return d, nil
}

func (d *dockerInfra) PostgresDSN() string    { return d.env.PostgresDSN() }
func (d *dockerInfra) KafkaBrokers() []string { return d.env.KafkaBrokers() }

// PostgresReadDSN implements Infra: the replica container's.
func (d *dockerInfra) PostgresReadDSN() string { return d.env.ReplicaDSN() }

// KafkaOptions implements Infra: the container's listener is plaintext.
func (d *dockerInfra) KafkaOptions() []kgo.Opt { return nil }

// AMQPURL implements Infra.
func (d *dockerInfra) AMQPURL() string {
	if d.rabbit == nil {
		return ""
	}
	return d.rabbit.URL()
}

// Describe implements Infra.
func (d *dockerInfra) Describe() services.Description {
	desc := services.Description{Provider: ProviderDocker, Services: []services.Service{
		{Role: services.RolePostgres, Kind: services.KindContainer, Product: services.ProductPostgres, Version: d.env.PostgresVersion(),
			Endpoints: []string{hostOf(d.env.PostgresDSN())}, Image: d.env.PostgresImage(), Settings: d.env.PostgresSettings()},
		{Role: services.RoleKafka, Kind: services.KindContainer, Product: services.ProductApacheKafka, Version: d.env.KafkaVersion(),
			Endpoints: d.env.KafkaBrokers(), Image: d.env.KafkaImage()},
	}}
	if dsn := d.env.ReplicaDSN(); dsn != "" {
		desc.Services = append(desc.Services, services.Service{Role: services.RolePostgresReplica, Kind: services.KindContainer,
			Product: services.ProductPostgres, Version: d.env.PostgresVersion(), Endpoints: []string{hostOf(dsn)},
			Image: d.env.PostgresImage(), Settings: d.env.PostgresSettings(),
			Note: "hot standby of " + hostOf(d.env.PostgresDSN()) + " (streaming replication, container to container)"})
	}
	if d.rabbit != nil {
		desc.Services = append(desc.Services, services.Service{Role: services.RoleRabbitMQ, Kind: services.KindContainer,
			Product: services.ProductRabbitMQ, Version: d.rabbit.Version(), Endpoints: []string{RedactAMQPURL(d.rabbit.URL())}, Image: d.rabbit.Image()})
	}
	return desc
}

// HostProcesses implements Infra: each container's main process.
func (d *dockerInfra) HostProcesses(ctx context.Context) map[string][]int {
	out := map[string][]int{}
	pg, kafka := d.env.HostPIDs(ctx)
	add := func(role string, pid int) {
		if pid > 0 {
			out[role] = append(out[role], pid)
		}
	}
	add(services.RolePostgres, pg)
	add(services.RolePostgres, d.env.ReplicaHostPID(ctx)) // the replica's work is PostgreSQL's too
	add(services.RoleKafka, kafka)
	if d.rabbit != nil {
		add(services.RoleRabbitMQ, d.rabbit.HostPID(ctx))
	}
	return out
}

func (d *dockerInfra) Close(ctx context.Context) error {
	d.once.Do(func() {
		if d.rabbit != nil {
			d.err = wrapIf("stop RabbitMQ", d.rabbit.Close(ctx))
		}
		d.err = errors.Join(d.err, d.env.Close(ctx))
	})
	return d.err
}
