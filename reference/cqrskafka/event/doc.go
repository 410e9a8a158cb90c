// Package event defines what cqrs-kafka sends through Kafka: one OrderEvent
// per successful command (and one snapshot per existing order when the
// topic is seeded), carrying the order's complete read-model state after
// the command plus what it replaced, so that a projector can maintain every
// read model from the event alone, without querying the write model.
//
// The wire format is a flat JSON object (the outbox payload, produced by
// PostgreSQL's jsonb_build_object in the command's transaction, or by
// OrderEvent.AppendJSON); the record key is the order id in decimal, so all
// events of an order land in one partition, in order. An event is
// identified by (order id, version): each command increments the order's
// version by one, so the pair is unique and identical in every duplicate.
//
// The package also defines the pipeline's Stages and the Observer through
// which the relay and the projector report when events pass them.
package event
