package results

import (
	"encoding/json"
	"fmt"

	"github.com/cqrsbench/cqrsbench/harness/services"
)

// oldestSchemaVersion is the oldest document layout Read converts.
const oldestSchemaVersion = 1

// infraV1 is Environment.Infra as schema version 1 wrote it: one field
// per service.
type infraV1 struct {
	Provider string `json:"provider"`
	Postgres struct {
		Version  string            `json:"version"`
		Address  string            `json:"address"`
		Image    string            `json:"image"`
		Settings map[string]string `json:"settings"`
	} `json:"postgres"`
	Kafka struct {
		// Kind was apache-kafka, kfake, external or none.
		Kind     string   `json:"kind"`
		Version  string   `json:"version"`
		Brokers  []string `json:"brokers"`
		Image    string   `json:"image"`
		Security string   `json:"security"`
		Note     string   `json:"note"`
	} `json:"kafka"`
	RabbitMQ *struct {
		// Kind was rabbitmq (started by cqrsbench) or external.
		Kind    string `json:"kind"`
		Version string `json:"version"`
		URL     string `json:"url"`
		Image   string `json:"image"`
	} `json:"rabbitmq"`
}

// readV1 converts run, decoded from the version-1 document data, to the
// current layout: the services of environment.infra become a list, and
// run.SchemaVersion becomes SchemaVersion. Every other part of the
// document has the same layout in both versions.
func readV1(data []byte, run *Run) error {
	var doc struct {
		Environment struct {
			Infra infraV1 `json:"infra"`
		} `json:"environment"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return fmt.Errorf("convert schema_version 1: %w", err)
	}
	run.Environment.Infra = doc.Environment.Infra.services()
	run.SchemaVersion = SchemaVersion
	return nil
}

// services lists what a version-1 description recorded, with the kinds a
// provider gives its services today: what version 1 called started by
// cqrsbench is local or a container, according to the provider.
func (in infraV1) services() services.Description {
	d := services.Description{Provider: in.Provider}
	started := map[string]string{"local": services.KindLocal, "docker": services.KindContainer, "external": services.KindExternal}[in.Provider]
	pg := in.Postgres
	if in.Provider == "" && pg.Version == "" && pg.Address == "" {
		return d // no environment was recorded
	}
	d.Services = append(d.Services, services.Service{Role: services.RolePostgres, Kind: started,
		Product: services.ProductPostgres, Version: pg.Version, Endpoints: endpoints(pg.Address), Image: pg.Image, Settings: pg.Settings})

	k := in.Kafka
	kafka := services.Service{Role: services.RoleKafka, Version: k.Version, Endpoints: k.Brokers,
		Image: k.Image, Security: k.Security, Note: k.Note}
	switch k.Kind {
	case "none", "": // the run used no Kafka
	case "apache-kafka":
		kafka.Kind, kafka.Product = started, services.ProductApacheKafka
		d.Services = append(d.Services, kafka)
	case "kfake":
		kafka.Kind, kafka.Product = services.KindFake, services.ProductKfake
		d.Services = append(d.Services, kafka)
	default: // "external"
		kafka.Kind = k.Kind
		d.Services = append(d.Services, kafka)
	}

	if r := in.RabbitMQ; r != nil {
		rabbit := services.Service{Role: services.RoleRabbitMQ, Kind: started, Version: r.Version,
			Endpoints: endpoints(r.URL), Image: r.Image}
		if r.Kind == "external" {
			rabbit.Kind = services.KindExternal
		} else {
			rabbit.Product = services.ProductRabbitMQ
		}
		d.Services = append(d.Services, rabbit)
	}
	return d
}

// endpoints is the one endpoint addr, or none when it is empty.
func endpoints(addr string) []string {
	if addr == "" {
		return nil
	}
	return []string{addr}
}
