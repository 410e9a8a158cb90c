// Package kafkafake runs franz-go's in-process Kafka imitation (kfake) on a
// loopback port: the fallback when no real Kafka can be had (no Docker, no
// java or no Kafka distribution; see package kafkalocal).
//
// kfake speaks the Kafka protocol well enough for clients to produce, consume
// and use consumer groups and transactions, so everything built on Kafka can
// run and be tested. It is not Kafka: it keeps data in memory and its
// performance says nothing about a broker's, so every result produced with it
// must say so (the infra package labels it). Cluster exposes kfake's fault
// injection (ControlKey, Fault) to tests.
//
//	f, err := kafkafake.Start(ctx)
//	if err != nil { ... }
//	defer f.Close(context.Background())
//	cl, err := kgo.NewClient(kgo.SeedBrokers(f.Brokers()...))
package kafkafake
