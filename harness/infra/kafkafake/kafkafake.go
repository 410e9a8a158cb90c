package kafkafake

import (
	"context"
	"fmt"
	"net"

	"github.com/twmb/franz-go/pkg/kfake"
)

// Fake is a running single-broker kfake cluster on loopback.
type Fake struct {
	cluster *kfake.Cluster
	brokers []string
}

// Start starts a one-broker kfake cluster listening on a free loopback port.
// Like the local Kafka broker (package kafkalocal), it creates topics
// automatically on first use, with one partition. opts are applied after
// these defaults (kfake.SeedTopics, kfake.BrokerConfigs, ...); an option
// that makes it listen beyond loopback is overridden.
func Start(ctx context.Context, opts ...kfake.Opt) (*Fake, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("start kfake: %w", err)
	}
	all := append([]kfake.Opt{
		kfake.NumBrokers(1),
		kfake.AllowAutoTopicCreation(),
		kfake.DefaultNumPartitions(1),
		kfake.ClusterID("cqrsbench-kfake"),
	}, opts...)
	all = append(all, kfake.ListenFn(listenLoopback))
	c, err := kfake.NewCluster(all...)
	if err != nil {
		return nil, fmt.Errorf("start kfake (franz-go's in-process Kafka imitation): %w", err)
	}
	return &Fake{cluster: c, brokers: c.ListenAddrs()}, nil
}

// listenLoopback listens on the port of address on 127.0.0.1, whatever host
// address names.
func listenLoopback(network, address string) (net.Listener, error) {
	_, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, fmt.Errorf("kfake listen address %q: %w", address, err)
	}
	return net.Listen(network, net.JoinHostPort("127.0.0.1", port))
}

// Brokers returns the seed broker addresses: ["127.0.0.1:PORT"].
func (f *Fake) Brokers() []string { return append([]string(nil), f.brokers...) }

// Cluster returns the kfake cluster, for fault injection (ControlKey,
// KeepControl, Fault).
func (f *Fake) Cluster() *kfake.Cluster { return f.cluster }

// Close shuts the cluster down and drops its data. It is safe to call more
// than once. If ctx ends first, Close returns its error and the shutdown
// finishes in the background.
func (f *Fake) Close(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		f.cluster.Close()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("close kfake: %w", ctx.Err())
	}
}
