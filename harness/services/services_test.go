package services_test

import (
	"fmt"

	"github.com/cqrsbench/cqrsbench/harness/services"
)

func Example() {
	d := services.Description{Provider: "local", Services: []services.Service{
		{Role: services.RolePostgres, Kind: services.KindLocal, Product: services.ProductPostgres, Version: "15.18",
			Endpoints: []string{"127.0.0.1:54329"}, Settings: map[string]string{"shared_buffers": "256MB"}},
		{Role: services.RoleKafka, Kind: services.KindFake, Product: services.ProductKfake, Endpoints: []string{"127.0.0.1:40001"}},
	}}
	fmt.Println(d)
	for _, s := range d.Fakes() {
		fmt.Println("fake:", s.Role)
	}
	if _, ok := d.Find(services.RoleRabbitMQ); !ok {
		fmt.Println("no rabbitmq")
	}
	ext := services.Service{Role: services.RoleKafka, Kind: services.KindExternal, Version: "3.7",
		Security: "SASL_SSL SCRAM-SHA-512 user bench"}
	fmt.Println(ext)
	// Output:
	// provider local: PostgreSQL 15.18, franz-go kfake (NOT real kafka: an in-process fake)
	// fake: kafka
	// no rabbitmq
	// kafka 3.7 over SASL_SSL SCRAM-SHA-512 user bench
}
