package infra

import (
	"context"
	"errors"
	"fmt"
)

// Service names a service a provider runs.
type Service string

// The services an Outager can take down.
const (
	ServicePostgres Service = "postgres"
	ServiceKafka    Service = "kafka"
	ServiceRabbitMQ Service = "rabbitmq"
	// ServicePostgresReplica is the streaming replica (Config.Replica).
	ServicePostgresReplica Service = "postgres-replica"
)

// ErrNoOutage means the provider cannot stop and restart the service: it did
// not start it (external) or it is not a process (kfake).
var ErrNoOutage = errors.New("this infrastructure cannot stop and restart the service")

// Outager is implemented by providers that started their services and can
// take them down and bring them back, keeping data and addresses: the local
// provider (processes) and docker (containers). Fault injection uses it.
type Outager interface {
	// Stop takes the service down (a clean shutdown: in-flight
	// transactions abort, connections close). It returns an error wrapping
	// ErrNoOutage if the provider cannot.
	Stop(ctx context.Context, s Service) error
	// Start brings a stopped service back and waits until it answers.
	Start(ctx context.Context, s Service) error
}

// CanStop reports whether env can take service s down, and if not, why.
func CanStop(env Infra, s Service) error {
	o, ok := env.(Outager)
	if !ok {
		return fmt.Errorf("%s provider: %w", env.Describe().Provider, ErrNoOutage)
	}
	if c, ok := o.(interface{ canStop(Service) error }); ok {
		return c.canStop(s)
	}
	return nil
}

// canStop: the local provider cannot stop kfake, nor what it did not start.
func (l *localInfra) canStop(s Service) error {
	switch {
	case s == ServiceKafka && l.broker == nil:
		return fmt.Errorf("kafka is franz-go's in-process kfake, not a process: %w; run `make kafka` for a real broker", ErrNoOutage)
	case s == ServiceRabbitMQ && l.rabbit == nil:
		return fmt.Errorf("no RabbitMQ node was started: %w", ErrNoOutage)
	case s == ServicePostgresReplica && l.standby == nil:
		return fmt.Errorf("no PostgreSQL standby was started: %w", ErrNoOutage)
	}
	return nil
}

// Stop implements Outager.
func (l *localInfra) Stop(ctx context.Context, s Service) error {
	if err := l.canStop(s); err != nil {
		return err
	}
	switch s {
	case ServicePostgres:
		return l.pg.Stop(ctx)
	case ServicePostgresReplica:
		return l.standby.Stop(ctx)
	case ServiceKafka:
		return l.broker.Stop(ctx)
	case ServiceRabbitMQ:
		return l.rabbit.Stop(ctx)
	}
	return fmt.Errorf("stop %q: unknown service", s)
}

// Start implements Outager.
func (l *localInfra) Start(ctx context.Context, s Service) error {
	if err := l.canStop(s); err != nil {
		return err
	}
	switch s {
	case ServicePostgres:
		return l.pg.Restart(ctx)
	case ServicePostgresReplica:
		return l.standby.Restart(ctx)
	case ServiceKafka:
		return l.broker.Restart(ctx)
	case ServiceRabbitMQ:
		return l.rabbit.Restart(ctx)
	}
	return fmt.Errorf("start %q: unknown service", s)
}

// canStop: the docker provider cannot stop what it did not start.
func (d *dockerInfra) canStop(s Service) error {
	switch {
	case s == ServiceRabbitMQ && d.rabbit == nil:
		return fmt.Errorf("no RabbitMQ container was started: %w", ErrNoOutage)
	case s == ServicePostgresReplica && d.env.ReplicaDSN() == "":
		return fmt.Errorf("no PostgreSQL replica container was started: %w", ErrNoOutage)
	}
	return nil
}

// Stop implements Outager.
func (d *dockerInfra) Stop(ctx context.Context, s Service) error {
	if err := d.canStop(s); err != nil {
		return err
	}
	switch s {
	case ServicePostgres:
		return d.env.StopPostgres(ctx)
	case ServicePostgresReplica:
		return d.env.StopReplica(ctx)
	case ServiceKafka:
		return d.env.StopKafka(ctx)
	case ServiceRabbitMQ:
		return d.rabbit.Stop(ctx)
	}
	return fmt.Errorf("stop %q: unknown service", s)
}

// Start implements Outager.
func (d *dockerInfra) Start(ctx context.Context, s Service) error {
	if err := d.canStop(s); err != nil {
		return err
	}
	switch s {
	case ServicePostgres:
		return d.env.StartPostgres(ctx)
	case ServicePostgresReplica:
		return d.env.StartReplica(ctx)
	case ServiceKafka:
		return d.env.StartKafka(ctx)
	case ServiceRabbitMQ:
		return d.rabbit.Start(ctx)
	}
	return fmt.Errorf("start %q: unknown service", s)
}
