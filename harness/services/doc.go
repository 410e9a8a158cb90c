// Package services records which services a benchmark run used: one
// Service per role (the database, the Kafka brokers, the RabbitMQ broker,
// later replicas or a search engine), saying how it was provided (started
// locally, in a container, given by the user, or an in-process fake), its
// version, how it was reached (never with a password), its image, settings
// and security.
//
// It is a leaf package, importing only the standard library, so that a
// results document (harness/results) can be read, compared and reported
// without the code that starts servers (harness/infra). The providers of
// harness/infra fill a Description; the results, tables and comparisons
// read it. A new service is a new entry in Description.Services with a new
// Role, not a new field:
//
//	d := services.Description{Provider: "local", Services: []services.Service{
//		{Role: services.RolePostgres, Kind: services.KindLocal, Product: "PostgreSQL", Version: "15.18",
//			Endpoints: []string{"127.0.0.1:54329"}},
//	}}
//	if pg, ok := d.Find(services.RolePostgres); ok { fmt.Println(pg) }
package services
