package cqrskafka

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/reference/pipeline/relay"
)

// DefaultDeliveryTimeout is the default of RelayOptions.DeliveryTimeout.
const DefaultDeliveryTimeout = 30 * time.Second

var _ relay.Publisher = (*Publisher)(nil)

// Publisher is the relay's Kafka transport: it produces each message as a
// record keyed by order id (so an order's events share a partition, in
// order) with a client whose defaults are kept — idempotent, acks from all
// in-sync replicas — and returns once every record is acknowledged.
type Publisher struct {
	client  *kgo.Client
	topic   string
	timeout time.Duration
}

// NewPublisher returns a Publisher that produces to topic with client
// (which the caller closes after the relays stopped), waiting at most
// deliveryTimeout per batch (0: DefaultDeliveryTimeout); on timeout the
// batch fails and the relay publishes it again.
func NewPublisher(client *kgo.Client, topic string, deliveryTimeout time.Duration) (*Publisher, error) {
	switch {
	case client == nil:
		return nil, errors.New("kafka publisher: no client")
	case topic == "":
		return nil, errors.New("kafka publisher: topic is empty")
	case deliveryTimeout < 0:
		return nil, fmt.Errorf("relay delivery timeout must be > 0 (or 0 for %s), got %s", DefaultDeliveryTimeout, deliveryTimeout)
	}
	if deliveryTimeout == 0 {
		deliveryTimeout = DefaultDeliveryTimeout
	}
	return &Publisher{client: client, topic: topic, timeout: deliveryTimeout}, nil
}

// Publish implements relay.Publisher: it produces msgs in order and waits
// for every acknowledgement, or the delivery timeout.
func (p *Publisher) Publish(ctx context.Context, msgs []relay.Message) error {
	recs := make([]*kgo.Record, len(msgs))
	for i, m := range msgs {
		recs[i] = &kgo.Record{Topic: p.topic, Key: m.Key, Value: m.Value}
	}
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	if err := p.client.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		return fmt.Errorf("produce %d records to %s: %w", len(recs), p.topic, err)
	}
	return nil
}
