// Package projector applies cqrs-kafka's order events to the flat read
// models (order_read_model, daily_sales), exactly once in effect over an
// at-least-once topic.
//
// A Projector is a consumer-group member (franz-go, DisableAutoCommit,
// BlockRebalanceOnPoll). Each poll — up to MaxPollRecords records — is
// applied in one PostgreSQL transaction, set-based, whatever its size:
//
//  1. inbox: INSERT (consumer, order_id, version) FROM unnest(...) ON
//     CONFLICT DO NOTHING RETURNING — the events not returned were applied
//     before and are counted as duplicates, not applied;
//  2. order_read_model: one upsert FROM unnest(...) of each order's latest
//     version in the batch, guarded by WHERE excluded.version > version, so
//     late or repeated events never move a row back;
//  3. daily_sales: one upsert of the batch's net deltas per (day, status);
//     every event carries what it replaced (prev_status, prev_total_cents),
//     so it moves its order from one cell to the other on its own. Deltas
//     commute, so the order of events does not matter, but they are not
//     idempotent: only the inbox keeps a duplicate from counting twice
//     (Config.DisableInbox is the negative control that shows it).
//
// Only after the commit are the offsets committed (and, on revocation,
// whatever was applied). Records that do not decode are produced to the
// dead-letter topic, acknowledged, and counted before the batch commits;
// they never stop the projector. The projector never reads the write model.
//
// The projector consumes only from the group's committed offsets, which
// the System's Setup and Rebuild commit: a partition without one (offsets
// expired or deleted) is refused with an error rather than replayed from
// the start, where the snapshot events — never in the inbox — would be
// counted into daily_sales a second time.
//
// Hooks inject crashes before and after the database commit; Run then
// leaves the group without committing offsets and returns an error matching
// ErrCrash, and a new Run (a restarted process) receives the batch again.
//
//	p, err := projector.New(pool, []kgo.Opt{kgo.SeedBrokers(b...)}, projector.Config{...})
//	for ctx.Err() == nil { err = p.Run(ctx) } // restart after crashes
//	pos := p.Positions()                        // partition → next offset applied
package projector
