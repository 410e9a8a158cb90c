// Package cqrskafka is the cqrs-kafka architecture: CQRS with the read
// models fed asynchronously through Kafka, by a transactional outbox, relays
// and an idempotent projector. It lives in PostgreSQL schema cqrs_kafka.
//
//	sys, err := cqrskafka.New(pool, cqrskafka.Config{Brokers: brokers})
//	err = sys.Setup(ctx)        // on a write model loaded by reference/datagen
//	err = sys.Start(ctx)        // relays and projector, until Close
//	out, err := sys.Execute(ctx, cmd)
//	err = sys.WaitCaughtUp(ctx) // every command that returned is visible
//	stats := sys.Stats()
//	rb, err := sys.Rebuild(ctx) // truncate, replay the topic from the start
//	err = sys.Close(ctx)
//
// # Pipeline
//
// Write: each command is one statement of reference/writemodel with
// OutboxExtension's CTE, which inserts one outbox row in the same
// transaction. Its jsonb payload (package event) is the order's complete
// read-model state after the command plus what it replaced (prev_status,
// prev_total_cents) and clock_timestamp() of the insert, computed from the
// command's CTEs and a few primary-key lookups (lines, first image, label),
// so the projector never reads the write model. An event is identified by
// (order id, version). A row trigger NOTIFYs the relays' channel while
// they are idle.
//
// Relay (package relay): claims and deletes the oldest rows with FOR UPDATE
// SKIP LOCKED, produces them keyed by order id with franz-go's idempotent
// producer, commits the deletion only after every ack. Woken by
// LISTEN/NOTIFY when idle, polling while busy, with a fallback poll.
// ModeNaiveCursor (id > last) is the negative control that loses events in
// a visibility gap.
//
// Projector (package projector): a consumer-group member that applies each
// poll in one set-based transaction (inbox insert, version-guarded upsert of
// order_read_model, delta upsert of daily_sales) and commits offsets after
// the database commit.
//
// # Decisions
//
// Snapshot: Setup backfills the read models from the write model (fast,
// in-server), then publishes one order_snapshot event per order, read from
// the backfilled order_read_model, straight to the topic (not through the
// outbox), and commits the consumer group at the end of the topic, so the
// projector starts after the state the read models already hold. The topic
// is then the complete history, so Rebuild reproduces the backfilled orders
// too. Publishing is cheap next to the backfill: about 2 seconds per
// million orders on a 2-core machine (Setup of 1M orders: 9.4 s without,
// 11.2 s with; BenchmarkSetup). Config.SkipSnapshot skips it (and disables
// Rebuild, recorded in table topic_seed).
//
// Waking the relays: a row trigger rather than pg_notify in the command's
// CTE (same cost, measured; and it covers every insert into the outbox;
// FOR EACH ROW so that refused commands, which insert nothing, do not
// notify). NOTIFY is costly: PostgreSQL serializes notifying commits on a
// database-wide lock held through the WAL flush, which defeats group
// commit. Measured on 2 cores, 8 clients, create_order with relays and
// projector running: about 3,800 commands/s polling only, 1,500 with the
// textbook NOTIFY per command. So commands notify only while a relay is
// idle and armed (an advisory lock, see package relay): 3,800 commands/s
// under load (no notification at all), and a commit-to-read-model lag of
// about 3 ms p50 and 10 ms p99 at 50 commands/s, like NOTIFY every time
// (polling every 250 ms: 130 ms p50). See BenchmarkExecuteCreateOrder and
// BenchmarkLagAtLowRate.
// Config.DisableNotify leaves the trigger out (polling only).
//
// Ordering: per-order order holds within one relay (rows are produced in id
// order, same key, same partition). Several relays may reorder an order's
// events; the projector does not depend on order: the read-model upsert is
// version-guarded and the daily_sales deltas commute.
//
// # Measuring
//
// Config.Observer receives every event's stage times on this process's
// monotonic clock (commit, relay claim, broker ack, consumed, read-model
// commit), batched; nil costs nothing. Across processes, the payload's
// emitted_at and the read model's applied_at are on the database clock.
// Stats returns atomic counters of the relays (relayed, produce errors,
// duplicates injected, crashes), the projector (delivered, applied,
// duplicates suppressed, dead-lettered) and the rebuilds. Relay.Hooks and
// Projector.Hooks inject crashes, Relay.DuplicateFraction duplicate
// deliveries, Projector.DisableInbox the negative control; PauseProjector
// and ResumeProjector build and drain a backlog.
package cqrskafka
