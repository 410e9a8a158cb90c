// Package event defines what the pipeline carries from the outbox to the
// projector, whatever the transport: one OrderEvent per successful command
// (and one snapshot per existing order when a transport is seeded),
// carrying the order's complete read-model state after the command plus
// what it replaced, so that a projector can maintain every read model from
// the event alone, without querying the write model.
//
// The wire format is a flat JSON object (the outbox payload, produced by
// PostgreSQL's jsonb_build_object in the command's transaction, or by
// OrderEvent.AppendJSON); the message key is the order id in decimal
// (AppendKey), so a transport that keeps per-key order (Kafka: one
// partition per key) delivers an order's events in order. An event is
// identified by (order id, version): each command increments the order's
// version by one, so the pair is unique and identical in every duplicate.
//
// The package also defines the pipeline's Stages and the Observer through
// which the relay and the projector report when events pass them.
package event
