package derived

import (
	"context"

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
