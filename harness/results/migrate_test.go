package results_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/harness/services"
)

// schemaV1 is a whole document as schema_version 1 wrote it.
const schemaV1 = "testdata/schema-v1.json"

// TestReadSchemaV1 reads a version-1 document: its services become the
// list, and every other part of the document reads as it was written.
func TestReadSchemaV1(t *testing.T) {
	t.Parallel()
	run, err := results.Read(schemaV1)
	if err != nil {
		t.Fatalf("a version-1 document does not load: %v", err)
	}
	if run.SchemaVersion != results.SchemaVersion {
		t.Errorf("schema_version %d after Read, want it converted to %d", run.SchemaVersion, results.SchemaVersion)
	}
	want := services.Description{Provider: "local", Services: []services.Service{
		{Role: services.RolePostgres, Kind: services.KindLocal, Product: services.ProductPostgres, Version: "16.4",
			Endpoints: []string{"127.0.0.1:54329"}},
		{Role: services.RoleKafka, Kind: services.KindLocal, Product: services.ProductApacheKafka, Version: "4.1.0",
			Endpoints: []string{"127.0.0.1:39092"}},
	}}
	if !reflect.DeepEqual(run.Environment.Infra, want) {
		t.Errorf("environment.infra = %+v\nwant %+v", run.Environment.Infra, want)
	}

	// The rest of the document is untouched: compare the two as generic
	// JSON without the parts that changed layout.
	old, err := os.ReadFile(schemaV1)
	if err != nil {
		t.Fatal(err)
	}
	now, err := results.Marshal(run)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := withoutInfra(t, old), withoutInfra(t, now); !reflect.DeepEqual(a, b) {
		t.Errorf("converting a version-1 document changed more than environment.infra:\n%s\nvs\n%s", marshal(t, a), marshal(t, b))
	}
	if len(run.Architectures) == 0 || run.Scenario == nil || len(run.Thresholds) == 0 {
		t.Fatalf("the version-1 fixture holds no architectures, scenario or thresholds: %+v", run)
	}

	// Written again, it is a current document that reads back the same.
	path, err := results.Write(t.TempDir(), run)
	if err != nil {
		t.Fatal(err)
	}
	back, err := results.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if again, _ := results.Marshal(back); string(again) != string(now) {
		t.Errorf("a converted document does not round-trip:\n%s\nvs\n%s", again, now)
	}
}

// withoutInfra decodes doc with schema_version and environment.infra left
// out.
func withoutInfra(t *testing.T, doc []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(doc, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "schema_version")
	env, ok := m["environment"].(map[string]any)
	if !ok {
		t.Fatalf("no environment in %s", doc)
	}
	delete(env, "infra")
	return m
}

// TestReadSchemaV1Services converts each way version 1 recorded a
// service: every field it carried is kept, nothing is invented.
func TestReadSchemaV1Services(t *testing.T) {
	t.Parallel()
	pg := services.Service{Role: services.RolePostgres, Product: services.ProductPostgres, Version: "15.18",
		Endpoints: []string{"127.0.0.1:5432"}}
	with := func(s services.Service, kind string) services.Service { s.Kind = kind; return s }
	tests := []struct {
		name, infra string
		want        services.Description
	}{
		{"local with Kafka, settings and no RabbitMQ",
			`{"provider": "local", "postgres": {"version": "15.18", "address": "127.0.0.1:5432", "settings": {"fsync": "on"}},
			  "kafka": {"kind": "apache-kafka", "version": "4.1.1", "brokers": ["127.0.0.1:9092"]}}`,
			services.Description{Provider: "local", Services: []services.Service{
				{Role: services.RolePostgres, Kind: services.KindLocal, Product: services.ProductPostgres, Version: "15.18",
					Endpoints: []string{"127.0.0.1:5432"}, Settings: map[string]string{"fsync": "on"}},
				{Role: services.RoleKafka, Kind: services.KindLocal, Product: services.ProductApacheKafka, Version: "4.1.1",
					Endpoints: []string{"127.0.0.1:9092"}},
			}}},
		{"local, Kafka fell back to kfake",
			`{"provider": "local", "postgres": {"version": "15.18", "address": "127.0.0.1:5432"},
			  "kafka": {"kind": "kfake", "brokers": ["127.0.0.1:40000"], "note": "no Java"}}`,
			services.Description{Provider: "local", Services: []services.Service{with(pg, services.KindLocal),
				{Role: services.RoleKafka, Kind: services.KindFake, Product: services.ProductKfake,
					Endpoints: []string{"127.0.0.1:40000"}, Note: "no Java"},
			}}},
		{"docker with images and RabbitMQ",
			`{"provider": "docker", "postgres": {"version": "15.18", "address": "127.0.0.1:5432", "image": "postgres:15"},
			  "kafka": {"kind": "apache-kafka", "version": "4.1.1", "brokers": ["127.0.0.1:9092"], "image": "apache/kafka:4.1.1"},
			  "rabbitmq": {"kind": "rabbitmq", "version": "3.10.8", "url": "amqp://guest@127.0.0.1:5672/", "image": "rabbitmq:3.10"}}`,
			services.Description{Provider: "docker", Services: []services.Service{
				{Role: services.RolePostgres, Kind: services.KindContainer, Product: services.ProductPostgres, Version: "15.18",
					Endpoints: []string{"127.0.0.1:5432"}, Image: "postgres:15"},
				{Role: services.RoleKafka, Kind: services.KindContainer, Product: services.ProductApacheKafka, Version: "4.1.1",
					Endpoints: []string{"127.0.0.1:9092"}, Image: "apache/kafka:4.1.1"},
				{Role: services.RoleRabbitMQ, Kind: services.KindContainer, Product: services.ProductRabbitMQ, Version: "3.10.8",
					Endpoints: []string{"amqp://guest@127.0.0.1:5672/"}, Image: "rabbitmq:3.10"},
			}}},
		{"external with Kafka security and RabbitMQ",
			`{"provider": "external", "postgres": {"version": "15.18", "address": "127.0.0.1:5432"},
			  "kafka": {"kind": "external", "version": "v3.7", "brokers": ["k1:9093", "k2:9093"], "security": "SASL_SSL PLAIN user bench"},
			  "rabbitmq": {"kind": "external", "version": "3.12.0", "url": "amqps://bench@mq:5671/"}}`,
			services.Description{Provider: "external", Services: []services.Service{with(pg, services.KindExternal),
				{Role: services.RoleKafka, Kind: services.KindExternal, Version: "v3.7", Endpoints: []string{"k1:9093", "k2:9093"},
					Security: "SASL_SSL PLAIN user bench"},
				{Role: services.RoleRabbitMQ, Kind: services.KindExternal, Version: "3.12.0", Endpoints: []string{"amqps://bench@mq:5671/"}},
			}}},
		{"no Kafka needed",
			`{"provider": "external", "postgres": {"version": "15.18", "address": "127.0.0.1:5432"},
			  "kafka": {"kind": "none", "note": "not checked: this command needs no Kafka"}}`,
			services.Description{Provider: "external", Services: []services.Service{with(pg, services.KindExternal)}}},
		{"nothing recorded", `{"kafka": {"kind": ""}}`, services.Description{}},
	}
	dir := t.TempDir()
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(dir, string(rune('a'+i))+".json")
			doc := `{"schema_version": 1, "environment": {"infra": ` + tt.infra + `, "host": {"os": "linux", "cpus": 2}}}`
			if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
				t.Fatal(err)
			}
			run, err := results.Read(path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(run.Environment.Infra, tt.want) {
				t.Errorf("environment.infra = %+v\nwant %+v", run.Environment.Infra, tt.want)
			}
			if run.Environment.Host.CPUs != 2 {
				t.Errorf("host = %+v, want it read as written", run.Environment.Host)
			}
		})
	}
}
