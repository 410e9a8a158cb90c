// Package rabbitmq is a RabbitMQ transport for the event pipeline: a
// publisher with confirms for the relays, and a pool of competing consumers
// (Celery-style workers on one queue) for the projector, over one durable
// quorum queue with a dead-letter queue.
//
//	cfg := rabbitmq.Config{URL: "amqp://guest:guest@127.0.0.1:5672/"}
//	topo, err := rabbitmq.OpenTopology(ctx, cfg)
//	err = topo.Declare(ctx)                   // idempotent
//	pub, err := rabbitmq.NewPublisher(ctx, cfg)
//	err = pub.Publish(ctx, msgs)              // nil: every message confirmed
//	cons, err := rabbitmq.NewConsumer(cfg, handler)
//	err = cons.Start(ctx)                     // Workers goroutines, until Close
//	err = cons.Pause(ctx); err = cons.Resume() // build and drain a backlog (pauses nest)
//	state, err := topo.Backlog(ctx)
//	err = cons.Close(ctx); pub.Close(); topo.Close()
//
// Runner assembles them with an outbox's relays (package relay) for an
// architecture: queues declared afresh, relays publishing through a
// Publisher that tracks each event (package track), workers, a
// WaitCaughtUp, counted errors and Close.
//
// # Delivery guarantees
//
// At least once, end to end. Publish returns nil only after the broker
// confirmed every message of the batch; a quorum queue confirms a message
// once a majority of its replicas wrote it to disk. Messages are persistent
// and published mandatory, so a message the exchange cannot route (the
// queue was not declared) fails the batch instead of vanishing. On any
// failure (a nack, a return, no confirm within Config.ConfirmTimeout, a lost
// channel or connection) some messages of the batch may be stored: the
// caller publishes the whole batch again, and consumers see duplicates.
//
// A worker acknowledges a batch only after its Handler returned, that is
// after the handler committed the batch's effects; a crash between the
// commit and the acknowledgement redelivers the batch (with the
// redelivered flag), so handlers must be idempotent (an inbox of applied
// event ids). A handler error requeues the whole batch (a multiple nack);
// the poison indices it returns are rejected without requeue and the
// queue's x-dead-letter-exchange routes them to the dead-letter queue. The
// queue dead-letters at least once (x-dead-letter-strategy at-least-once,
// which needs x-overflow reject-publish): a rejected message leaves the
// event queue only once the dead-letter queue confirmed it. Only poison is
// dead-lettered (and counted, ConsumerCounters.DeadLettered): the queue is
// declared with an x-delivery-limit no outage reaches, so a message that
// keeps failing is redelivered until it is applied, on RabbitMQ 3.x as on
// 4.x, whose quorum queues would otherwise dead-letter it after 20
// deliveries.
//
// Order: none across workers. The Workers consumers compete for one queue,
// so two events of one key (one order) can be handled at once, or the later
// first, and a requeued message goes back behind newer ones. Handlers must
// not depend on order (version-guarded upserts, commuting deltas).
//
// # Workers
//
// Each worker has its own connection and channel with QoS Config.Prefetch
// and manual acknowledgements. It blocks for a first delivery, adds what its
// client has already buffered, up to Config.MaxBatch, without waiting for
// more, and calls the Handler. On success it rejects the poison deliveries
// one by one and then acknowledges the rest with one multiple ack on the
// batch's highest remaining tag: a multiple ack settles every unsettled
// delivery up to that tag on the channel, which are exactly the batch's,
// because a worker settles its batches in delivery order and the poison
// ones are settled first. A Handler error matching ErrCrash closes the
// channel without acknowledging anything (the broker requeues everything
// the worker held) and the worker starts over on a new channel.
//
// After losing the broker (a restart), a worker reconnects by itself with a
// backoff from 50 ms doubling up to Config.MaxReconnectDelay; the publisher
// reconnects in the next Publish. Pause and Close cancel each consumer,
// handle and acknowledge what the worker already received, and close the
// channel before the connection: a channel's close is synchronous, so the
// broker has processed every acknowledgement before the connection goes
// (closing the connection right after the last ack lost acknowledgements).
//
// # Measured
//
// On a shared 2-core machine (load average about 8), one RabbitMQ 3.10 node,
// 450-byte messages, quorum queue on disk: Publish of batches of 100
// confirmed about 25,000 messages/s, batches of 1,000 about 36,000/s; four
// concurrent callers of batches of 100 about 36,000/s with a channel each
// (the Publisher's way) against 25,000/s when they take turns on one
// channel (BenchmarkPublish). Draining a backlog of 100,000 with a handler
// that does nothing: 54,000 to 71,000 messages/s with one worker, 66,000 to
// 85,000/s with four, in batches of 11 to 26 (BenchmarkDrain). A worker
// yields once before it ends a batch: the client hands buffered deliveries
// over from another goroutine, and without the yield batches averaged 2
// deliveries (one acknowledgement, which a quorum queue logs, per 2
// messages). The numbers swing by a factor of two with the machine's load.
//
// # Counting
//
// Topology.Backlog reports the messages ready in the event queue from a
// passive declare (no management plugin). The broker does not count
// messages delivered and not yet acknowledged there (measured on RabbitMQ
// 3.10): with the consumers paused or stopped, Ready is the whole backlog.
// PublisherCounters and ConsumerCounters count every publish, confirm, nack,
// timeout, delivery, redelivery, ack, requeue, dead letter, handler error
// and reconnect; Config.OnError hears every error the publisher and the
// workers recover from.
package rabbitmq
