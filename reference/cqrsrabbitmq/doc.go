// Package cqrsrabbitmq is the cqrs-rabbitmq architecture: the outbox
// pipeline of package pipeline over RabbitMQ, projected by a pool of
// competing workers on one queue, as Celery workers would be. It lives in
// PostgreSQL schema cqrs_rabbitmq.
//
//	sys, err := cqrsrabbitmq.New(pool, cqrsrabbitmq.Config{AMQP: rabbitmq.Config{URL: url}})
//	err = sys.Setup(ctx)        // on a write model loaded by reference/datagen
//	err = sys.Start(ctx)        // relays and workers, until Close
//	out, err := sys.Execute(ctx, cmd)
//	err = sys.WaitCaughtUp(ctx) // every command that returned is visible
//	rb, err := sys.Rebuild(ctx) // restore the checkpoint, replay the archive after it
//	err = sys.Close(ctx)
//
// # Pipeline
//
// Write: the command and its outbox row commit in one statement
// (pipeline/outbox). Relay (pipeline/relay): claims rows with FOR UPDATE SKIP
// LOCKED and publishes them with publisher confirms to a durable quorum
// queue as persistent messages (pipeline/rabbitmq); the rows are deleted
// only once every message of the batch is confirmed; a nack, a return or a
// timeout rolls the batch back and it is published again (counted).
// Projector: Workers competing consumers, each with Prefetch unacknowledged
// deliveries at most; each batch of deliveries is decoded and applied in one
// transaction by the projection core (pipeline/apply: inbox, version-guarded
// upserts, commuting deltas) and acknowledged only after that commit.
// Undecodable messages are rejected to the dead-letter exchange.
//
// # Decisions
//
// Order: competing consumers do not keep the order of one order's events —
// two workers may apply versions 3 and 4 of an order in either order, or at
// once. The version guard keeps the newest version of a row, the daily_sales
// deltas commute, and the inbox makes a redelivery harmless, so the read
// models converge anyway. VersionGuard false is the negative control: an
// older snapshot overwrites a newer one, which the checker reports.
//
// Rebuild: a quorum queue forgets a message once it is acknowledged, so the
// broker cannot replay history. A RabbitMQ stream could, but it would be a
// second copy of the event log to operate and size. The replay source is an
// event archive in PostgreSQL instead: Setup writes one order_snapshot event
// per loaded order into outbox_archive, and a trigger moves each outbox row
// there when a relay deletes it — inside the relay's transaction, so a
// command's own transaction pays nothing. Rebuild pauses the workers,
// truncates the read models and the inbox, replays the archive through the
// projection core in id order, and resumes the workers: events also still in
// the queue are then recognized by the inbox. A relay archives a batch when
// it deletes it and commits after the broker's confirms, so workers may
// have applied part of a batch whose archived copy is not committed yet:
// Rebuild reads the archive's end under a SHARE lock, which waits for those
// relay transactions.
//
// Archive size: a whole event is about 500 bytes, an inbox row 60. Each
// rebuild leaves a checkpoint (the replayed read models, and the replayed
// events stripped to the keys the inbox needs), which the next one
// restores and replays after: the archive keeps an event's payload only
// until the next rebuild, then a key like the inbox's, which grows as
// much. Both live as long as the schema, one run (Setup needs a freshly
// loaded one).
//
// The archive holds what the relays published, no more and no less, in
// both relay modes (the naive cursor deletes in the same transaction held
// over the publish): a replay, from a checkpoint or not, reproduces the
// live read models' damage. The events the naive cursor skips stay in the
// outbox, never published and never archived, so a rebuild neither hides
// their loss nor invents any.
//
// Catching up: WaitCaughtUp waits until the relays published every outbox
// row committed before the call, then until every message confirmed so far
// has been applied by some worker (the System tracks confirmed event ids
// until a worker applied them), so it needs no broker-side counts, which a
// quorum queue does not give for unacknowledged messages.
package cqrsrabbitmq
