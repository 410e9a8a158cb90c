package derived

import (
	"context"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/reference/pipeline/rabbitmq"
)

// Handle hands bodies to the workers' handler as one batch of deliveries,
// as a worker would.
func (s *RabbitMQ) Handle(ctx context.Context, bodies ...[]byte) error {
	batch := make([]rabbitmq.Delivery, len(bodies))
	for i, b := range bodies {
		batch[i] = rabbitmq.Delivery{Body: b}
	}
	_, err := s.handle(ctx, batch)
	return err
}

// Handle hands bodies to the projector's handler as one poll of records,
// as the projector would.
func (s *Kafka) Handle(ctx context.Context, bodies ...[]byte) error {
	recs := make([]*kgo.Record, len(bodies))
	for i, b := range bodies {
		recs[i] = &kgo.Record{Value: b}
	}
	_, err := s.handle(ctx, recs)
	return err
}
