// Package pipeline documents the asynchronous CQRS pipeline that the
// message-broker architectures share; its subpackages are the
// transport-neutral parts, and each architecture adds one transport.
//
//	command ──► outbox ──► relay ──► transport ──► consumer ──► projection core ──► read models
//	 (one transaction)   (Publisher)              (transport's)   (apply.Applier)
//
// The parts:
//
//   - outbox: each successful command inserts its event into the outbox
//     table in its own statement (outbox.Extension), so the event commits
//     exactly when the command does; a row trigger wakes idle relays.
//   - relay: claims the oldest outbox rows with FOR UPDATE SKIP LOCKED,
//     publishes them through the transport's relay.Publisher and deletes
//     them in the same transaction, committed only after the transport
//     confirmed every message: at least once, never lost.
//   - transport: carries the events (package event: JSON value, key = the
//     order id). It may duplicate them and, with several relays or
//     competing consumers, reorder an order's events.
//   - projection core (apply): applies a batch of decoded events in one
//     PostgreSQL transaction — inbox (duplicates counted, not applied),
//     version-guarded upsert of order_read_model, commuting delta upsert of
//     daily_sales — so the read models converge whatever the order and
//     however often events arrive, and concurrent appliers are safe.
//
// What a transport must provide:
//
//   - a relay.Publisher whose Publish returns nil only once the transport
//     confirmed every message (Kafka: acks of all in-sync replicas from the
//     idempotent producer; RabbitMQ: publisher confirms on a durable,
//     persistent message), bounding its own wait;
//   - a consumer that decodes each message (event.Decode), sets aside what
//     does not decode (a dead-letter topic or queue, counted: it must
//     never stop the projector), calls apply.Applier.Apply on the rest, and
//     acknowledges the messages (Kafka: commits offsets; RabbitMQ: acks the
//     deliveries) only after Apply returned nil — after an error, and after
//     a crash that a hook simulates (apply.ErrCrash), the messages must be
//     delivered again;
//   - its measurements: event.StageDelivered when the consumer receives
//     events (the relay reports StageClaimed and StageConfirmed, the
//     Applier StageApplied, the System StageCommitted), and a way to wait
//     until everything published is applied (WaitCaughtUp).
//
// reference/cqrskafka is the Kafka transport: a Kafka Publisher and a
// consumer-group member (reference/cqrskafka/projector).
package pipeline
