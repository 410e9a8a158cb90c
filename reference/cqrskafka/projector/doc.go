// Package projector is cqrs-kafka's consumer side: a Kafka consumer-group
// member that hands each poll to a Handler — by default the shop's
// transport-neutral projection core (package reference/pipeline/apply),
// which applies it to the flat read models (order_read_model,
// daily_sales) — exactly once in effect over an at-least-once topic. The
// derived cqrs-kafka of a workload pack brings its own Handler
// (reference/pack/derived); the polling, dead-lettering, offset commits
// and crashes below are the same for both.
//
// A Projector uses franz-go with DisableAutoCommit and
// BlockRebalanceOnPoll. Each poll — up to MaxPollRecords records — goes to
// the Handler, which applies it in one PostgreSQL transaction and returns
// the records it could not decode; a failed Handler is called again with
// the same records. The shop's Handler decodes (on several goroutines when
// the poll is large) and applies with one apply.Applier.Apply, set-based
// whatever its size (inbox insert, version-guarded upsert of
// order_read_model, delta upsert of daily_sales; see package apply). After
// the commit, the undecodable records are produced to the dead-letter
// topic and counted, and only then are the offsets committed (and, on
// revocation, whatever was applied): poison never stops the projector. The
// projector never reads the write model.
//
// The projector consumes only from the group's committed offsets, which
// the System's Setup and Rebuild commit: a partition without one (offsets
// expired or deleted) is refused with an error rather than replayed from
// the start, where the snapshot events — never in the inbox — would be
// counted into daily_sales a second time.
//
// The Applier's hooks inject crashes before and after the database commit
// (a Handler's own hooks do: any error matching apply.ErrCrash); Run then
// leaves the group without committing offsets and returns that error, and
// a new Run (a restarted process) receives the batch again.
//
//	p, err := projector.New(pool, []kgo.Opt{kgo.SeedBrokers(b...)}, projector.Config{...})
//	for ctx.Err() == nil { err = p.Run(ctx) } // restart after crashes
//	pos := p.Positions()                        // partition → next offset applied
package projector
