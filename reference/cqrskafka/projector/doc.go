// Package projector is cqrs-kafka's consumer side: a Kafka consumer-group
// member that hands each poll to the transport-neutral projection core
// (package reference/pipeline/apply), which applies it to the flat read
// models (order_read_model, daily_sales), exactly once in effect over an
// at-least-once topic.
//
// A Projector uses franz-go with DisableAutoCommit and
// BlockRebalanceOnPoll. Each poll — up to MaxPollRecords records — is
// decoded (on several goroutines when large) and applied by one
// apply.Applier.Apply: one PostgreSQL transaction, set-based, whatever its
// size (inbox insert, version-guarded upsert of order_read_model, delta
// upsert of daily_sales; see package apply). Only after the commit are the
// offsets committed (and, on revocation, whatever was applied). Records
// that do not decode are produced to the dead-letter topic, acknowledged,
// and counted before the batch commits; they never stop the projector. The
// projector never reads the write model.
//
// The projector consumes only from the group's committed offsets, which
// the System's Setup and Rebuild commit: a partition without one (offsets
// expired or deleted) is refused with an error rather than replayed from
// the start, where the snapshot events — never in the inbox — would be
// counted into daily_sales a second time.
//
// The Applier's hooks inject crashes before and after the database commit;
// Run then leaves the group without committing offsets and returns an
// error matching apply.ErrCrash, and a new Run (a restarted process)
// receives the batch again.
//
//	p, err := projector.New(pool, []kgo.Opt{kgo.SeedBrokers(b...)}, projector.Config{...})
//	for ctx.Err() == nil { err = p.Run(ctx) } // restart after crashes
//	pos := p.Positions()                        // partition → next offset applied
package projector
