// Package apply is the pipeline's projection core: it applies order events
// (package event) to the flat read models (order_read_model, daily_sales,
// package readmodel), exactly once in effect over an at-least-once
// transport, whatever the transport. A transport's consumer decodes what
// it receives, calls Applier.Apply, and acknowledges the messages to the
// transport only after Apply returned nil.
//
// One Apply is one PostgreSQL transaction, set-based whatever the number
// of events (a Kafka poll of 10,000 events is three statements):
//
//  1. inbox: INSERT (consumer, order_id, version) FROM unnest(...) ON
//     CONFLICT DO NOTHING RETURNING — the events not returned were applied
//     before and are counted as duplicates, not applied;
//  2. order_read_model: one upsert FROM unnest(...) of each order's latest
//     version in the batch, guarded by WHERE excluded.version > version, so
//     late or repeated events never move a row back
//     (Config.DisableVersionGuard is the negative control);
//  3. daily_sales: one upsert of the batch's net deltas per (day, status);
//     every event carries what it replaced (prev_status, prev_total_cents),
//     so it moves its order from one cell to the other on its own. Deltas
//     commute, so the order of events does not matter, but they are not
//     idempotent: only the inbox keeps a duplicate from counting twice
//     (Config.DisableInbox is the negative control that shows it).
//
// Concurrency: an Applier is safe for concurrent use, and the result does
// not depend on which events arrive together or in which order, so
// competing consumers (RabbitMQ workers on one queue) may apply events of
// the same order, or duplicates of one event, at the same time. Every
// statement writes its rows in key order (inbox by (order, version),
// read model by order, daily_sales by (day, status)), and the statements
// run in the same order in every transaction, so concurrent transactions
// wait for each other's rows in one global order, not in a cycle; a
// transaction that fails with serialization_failure or deadlock_detected
// all the same is run again, up to Config.MaxRetries times
// (Counters.Retries). A concurrent duplicate waits on the inbox key of the
// transaction that inserts it and is then counted as a duplicate.
//
// Hooks inject crashes before and after the database commit; Apply then
// returns an error matching ErrCrash.
//
//	a, err := apply.New(apply.Config{Schema: "cqrs_kafka", Consumer: "order-read-model"})
//	b, err := a.Apply(ctx, pool, events) // b.Applied, b.Duplicates
package apply
