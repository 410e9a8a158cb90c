// Package relay publishes the events of an outbox table (package outbox)
// through a transport's Publisher: Kafka, RabbitMQ, or any other that can
// confirm a publish. It knows no transport itself.
//
// In the default mode (ModeSkipLocked) each worker, in one transaction,
// claims and deletes up to BatchSize of the oldest outbox rows
// (DELETE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING),
// hands them in id order to Publisher.Publish, which returns once the
// transport confirmed every message, and only then commits. A failure at
// any point rolls the deletion back, so rows are published at least once
// and never lost; several workers (or processes) share the outbox without
// coordination. Counters.Retries shows the batches published again.
//
// Idle workers are woken by LISTEN/NOTIFY on one dedicated connection; busy
// ones poll every ActivePollInterval; PollInterval is the fallback poll.
// The outbox trigger (outbox.NotifyTriggerSQL) notifies only while a relay
// is armed, i.e. idle and waiting, because a NOTIFY per command would
// serialize the commands' commits (see wake.go for the protocol and why no
// wake-up is lost).
//
// ModeWAL decodes the outbox's inserts from a logical replication slot
// (pgoutput) instead of polling; see wal.go. Prepare creates its
// publication and slot before commands may commit, Drop removes them.
//
// ModeNaiveCursor is the negative control: `WHERE id > last ORDER BY id`
// instead of SKIP LOCKED, with an in-memory cursor. Identity values are
// taken at insert, not at commit, so a transaction that commits after a
// later one has been published is skipped for good: the event is lost. It
// is otherwise the same cycle (delete, publish, commit after the confirms),
// so its only damage is the skipped rows: every row that left the outbox
// was published, and every published row left it.
//
//	r, err := relay.New(pool, pub, relay.Config{Schema: "cqrs_kafka", Channel: outbox.Channel("cqrs_kafka")})
//	go r.Run(ctx)                       // until ctx is done
//	err = r.WaitPublished(ctx, maxID)   // every committed row ≤ maxID is confirmed
//
// Hooks.AfterConfirm injects a crash between the transport's confirmation
// and the commit of the deletion; DuplicateFraction publishes a share of
// the events twice. Counters and the Observer (StageClaimed,
// StageConfirmed) report what happened.
package relay
