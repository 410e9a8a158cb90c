// Package infra gives cqrsbench the PostgreSQL database and Kafka cluster it
// measures against, behind one interface whatever provides them.
//
// Providers:
//
//   - docker: testcontainers-go starts a postgres and an apache/kafka
//     container (package dockerenv).
//   - local: a throwaway cluster from the local PostgreSQL binaries (package
//     pglocal) and a real Apache Kafka broker started with java from a Kafka
//     distribution (package kafkalocal); when no java or distribution exists,
//     franz-go's in-process kfake (package kafkafake), labelled as such in
//     every description.
//   - external: a database and brokers given by the user, checked for
//     reachability and for tables cqrsbench did not create.
//   - auto: docker when a Docker engine answers, else local.
//
// ParseAMQPURL and PingAMQP check the URL of a RabbitMQ broker and reach
// it, with the same error types (package rabbitlocal runs a local node).
//
// Open starts (or checks) the services; Infra.Close stops everything that was
// started. Errors a user can hit carry an exit code (see ExitCoder): 2 for bad
// configuration, 3 for unavailable services.
package infra
