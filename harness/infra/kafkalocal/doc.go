// Package kafkalocal runs a real, single-node Apache Kafka broker (KRaft,
// broker and controller in one JVM) from a Kafka distribution directory on
// this machine, for benchmarks and tests that need real Kafka but have no
// Docker.
//
// A distribution is any directory whose libs/ holds kafka_2.13-<version>.jar
// and its dependencies: an official Apache Kafka 4.x tarball (KAFKA_HOME), or
// the project's cache (CacheDir), which `make kafka` fills from Maven Central
// with the pom in dist/ (see Assemble). FindDistribution says which one is
// used.
//
// Start formats a fresh log directory in a new temporary directory, launches
// `java kafka.Kafka` on two free loopback ports (client and controller) with
// settings suited to a benchmark on a small machine (DefaultProperties,
// DefaultHeapMB), and returns once a real client gets the broker in a
// metadata response. The JVM is a direct child in its own process group with
// a parent-death signal, so it cannot outlive the process; Close stops it
// and removes the directory. Stop, Kill and Restart keep the data and the
// ports, for broker-outage fault injection.
//
//	b, err := kafkalocal.Start(ctx, kafkalocal.Options{Progress: os.Stderr})
//	if errors.Is(err, kafkalocal.ErrNoDistribution) || errors.Is(err, kafkalocal.ErrNoJava) {
//		// fall back (package kafkafake), and say so
//	}
//	defer b.Close(context.Background())
//	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Brokers()...))
package kafkalocal
