package services

import (
	"strings"
)

// Roles of the services cqrsbench uses. The roles of the services an
// architecture may need are the names of catalog.Service (package
// reference/catalog), so a report can tell which architectures used a
// service.
const (
	// RolePostgres is the PostgreSQL database every architecture uses.
	RolePostgres = "postgres"
	// RolePostgresReplica is a streaming replica of it, read by the
	// architectures that read a replica.
	RolePostgresReplica = "postgres-replica"
	// RoleKafka is the Kafka cluster (its seed brokers).
	RoleKafka = "kafka"
	// RoleRabbitMQ is the RabbitMQ broker.
	RoleRabbitMQ = "rabbitmq"
)

// Products reported in Service.Product by the providers of cqrsbench.
const (
	// ProductPostgres is the PostgreSQL server.
	ProductPostgres = "PostgreSQL"
	// ProductApacheKafka is a real Apache Kafka broker.
	ProductApacheKafka = "Apache Kafka"
	// ProductKfake is franz-go's in-process fake Kafka cluster (pkg/kfake).
	ProductKfake = "franz-go kfake"
	// ProductRabbitMQ is the RabbitMQ broker.
	ProductRabbitMQ = "RabbitMQ"
)

// Kinds say how a service was provided.
const (
	// KindLocal is a server process cqrsbench started on this machine.
	KindLocal = "local"
	// KindContainer is a container cqrsbench started.
	KindContainer = "container"
	// KindExternal is a service given by the user, which cqrsbench
	// neither started nor configured.
	KindExternal = "external"
	// KindFake is an in-process stand-in that speaks the service's
	// protocol but is not the service (franz-go's kfake for Kafka): figures
	// measured on it say nothing about the real service.
	KindFake = "fake"
)

// Description records which services a run measured against.
type Description struct {
	// Provider is the provider that supplied them: local, docker or
	// external.
	Provider string `json:"provider"`
	// Services are the services the run used, one per role, the database
	// first. A service the run did not need is not listed.
	Services []Service `json:"services"`
}

// Service describes one service a run used.
type Service struct {
	// Role is what the service is for: RolePostgres, RoleKafka,
	// RoleRabbitMQ, ...
	Role string `json:"role"`
	// Kind is how it was provided: KindLocal, KindContainer, KindExternal
	// or KindFake.
	Kind string `json:"kind"`
	// Product is the software that answered, when known: "PostgreSQL",
	// "Apache Kafka", "franz-go kfake", "RabbitMQ". An external Kafka
	// cluster leaves it empty: any broker speaking the protocol answers.
	Product string `json:"product,omitempty"`
	// Version is the server's version as it reports it, when known.
	Version string `json:"version,omitempty"`
	// Endpoints say how it was reached: host:port pairs (a database
	// server, Kafka's seed brokers) or URLs, never with a password.
	Endpoints []string `json:"endpoints,omitempty"`
	// Image is the container image (KindContainer).
	Image string `json:"image,omitempty"`
	// Settings are the server settings that move figures the most, as
	// the provider applied or read them (PostgreSQL: shared_buffers, ...).
	Settings map[string]string `json:"settings,omitempty"`
	// Security is how clients connect when it is not plaintext, e.g.
	// "SASL_SSL SCRAM-SHA-512 user bench".
	Security string `json:"security,omitempty"`
	// Note is what a reader must know, such as why a fake was used and
	// how to get the real service.
	Note string `json:"note,omitempty"`
}

// IsFake reports whether the service is a stand-in, not the real service.
func (s Service) IsFake() bool { return s.Kind == KindFake }

// Name is the service's product, or its role when the product is unknown.
func (s Service) Name() string {
	if s.Product == "" {
		return s.Role
	}
	return s.Product
}

// String renders the service on one line for tables and logs:
// "Apache Kafka 4.1.1", "kafka 3.7 over SASL_SSL PLAIN user bench",
// "franz-go kfake (NOT real kafka: an in-process fake)", "PostgreSQL
// replica 15.18".
func (s Service) String() string {
	parts := []string{s.Name()}
	if s.Role == RolePostgresReplica && s.Product != "" {
		parts = append(parts, "replica")
	}
	if s.Version != "" {
		parts = append(parts, s.Version)
	}
	if s.Security != "" {
		parts = append(parts, "over", s.Security)
	}
	if s.IsFake() {
		parts = append(parts, "(NOT real "+s.Role+": an in-process fake)")
	}
	return strings.Join(parts, " ")
}

// Find returns the service of the given role, and whether the run used one.
func (d Description) Find(role string) (Service, bool) {
	for _, s := range d.Services {
		if s.Role == role {
			return s, true
		}
	}
	return Service{}, false
}

// Fakes returns the services that are stand-ins, not the real service.
func (d Description) Fakes() []Service {
	var out []Service
	for _, s := range d.Services {
		if s.IsFake() {
			out = append(out, s)
		}
	}
	return out
}

// String renders the description as one line for logs:
// "provider local: PostgreSQL 15.18, Apache Kafka 4.1.1".
func (d Description) String() string {
	parts := make([]string, len(d.Services))
	for i, s := range d.Services {
		parts[i] = s.String()
	}
	provider := d.Provider
	if provider == "" {
		provider = "unknown"
	}
	return "provider " + provider + ": " + strings.Join(parts, ", ")
}
