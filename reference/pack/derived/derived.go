// Package derived builds architectures of a workload pack from its SQL:
// crud runs the pack's commands and its screens' CRUD queries on the write
// model; cqrs-sync keeps a table per read model, recomputed for the keys a
// command changed by the read model's projection query, in the command's
// transaction; cqrs-matview makes each projection a materialized view,
// refreshed concurrently every period; cqrs-rabbitmq and cqrs-kafka carry
// each changed key's new row in an event through an outbox, a relay and
// the broker to a projector (competing workers; a consumer-group member)
// that applies it under a per-key version guard.
//
// Concurrency (cqrs-sync): two commands changing one key at once must never
// leave a stale row. A command, after its statements, takes a row lock per
// changed key — an upsert of the key's row in pack.KeyVersions, which also
// counts the key's version — in one global order (read model, then key
// text), and only then recomputes the key's row in a new statement (the
// projection's row for the key upserted, or the row deleted when the
// projection has none). Under
// READ COMMITTED that statement's snapshot is taken after the lock is
// granted, so it sees every command that held the lock before, and the
// command that recomputes a key last sees all writes to it. Locks are taken
// after all of a command's writes and in one order, so they add no
// deadlock. Commands run READ COMMITTED whatever the database's default. Options.KeyLock false drops the lock (a negative control: the
// checker then finds stale rows).
//
// Event-carried state (cqrs-rabbitmq, cqrs-kafka; one core, carried, and
// a transport each): a command, after its statements,
// takes each changed key's lock and version as cqrs-sync does, in the same
// order, and inserts into the outbox, in a new statement (so under the
// lock), the event {read_model, key, version, row}: the key's row by the
// projection as JSON, or null when the projection has none. The key is a
// JSON object of the key's columns. Versions of a key are therefore
// ordered as the states they carry. The relays (pipeline/relay) publish the
// outbox with publisher confirms to a quorum queue (pipeline/rabbitmq),
// where competing workers apply each batch in one transaction and
// acknowledge after its commit; or to a Kafka topic keyed by the routing
// hash (cqrskafka.Runner), whose consumer-group projector applies each
// poll in one transaction and marks the offsets for commit after it. The projector never reads the write model: it writes
// the event's row (jsonb_populate_record into the read model's table,
// upserted on the key) or deletes the key's row, only when the event's
// version is newer than the one recorded for the key in AppliedVersions,
// which it updates in the same transaction. Duplicates and events
// delivered after a newer one are thus skipped, and within a batch only a
// key's newest event is written. The guard rows are written first, sorted
// by read model and key (no deadlock between workers), and the rows after
// them in a new statement, whose snapshot holds the write of a worker that
// held the key's guard before. RabbitMQConfig.NoVersionGuard writes every
// event in delivery order (a negative control: a late event moves its row
// back). The version table is the inbox: there is no other.
//
// The outbox is pipeline/outbox's table (outbox.Create), so the shop's
// relay runs unchanged: its columns are generic enough — aggregate_id is
// the routing key, here a 64-bit hash of the read model and the key's text
// (hashtextextended), type the read model, version the key's version,
// payload the event. Its name is fixed by the relay's SQL: a pack with a
// table named outbox cannot run cqrs-rabbitmq or cqrs-kafka (Setup says
// so). On RabbitMQ, WaitCaughtUp waits for the relays to publish every
// outbox row committed before the call, then for the workers to handle
// every event published by then, by outbox id; the queues, relays,
// workers and that wait are the shop's cqrs-rabbitmq's (rabbitmq.Runner).
// On Kafka they are the shop's cqrs-kafka's (cqrskafka.Runner, its
// projector given the core's Handler): the wait is for the projector's
// applied offsets to reach the topic's end, and a crash leaves the group
// without committing. Both pause the projector (reference.Pausable) and
// dead-letter poison (reference.Poisonable). Neither offers a rebuild:
// the shop's replays an archive of order events.
package derived

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/pack"
	"github.com/cqrsbench/cqrsbench/reference/replica"
)

// base is what every derived architecture has: its name, the pack, and a
// pool whose connections' search_path is the architecture's schema (the
// pack's SQL names tables unqualified). The pool is as large as the
// harness's, which stays nearly idle while the system runs: a run may hold
// up to twice the scenario's connections.
type base struct {
	name   string
	schema string
	pack   *pack.Pack
	pool   *pgxpool.Pool
	reads  *pgxpool.Pool // the screens': pool, or one on a streaming replica
}

// newBase opens a pool like shared (same server, same size) on schema.
func newBase(ctx context.Context, name string, shared *pgxpool.Pool, schema string, p *pack.Pack) (base, error) {
	pool, err := schemaPool(ctx, name, shared, schema)
	if err != nil {
		return base{}, err
	}
	return base{name: name, schema: schema, pack: p, pool: pool, reads: pool}, nil
}

// schemaPool opens a pool like like (same server, same size) whose
// search_path is schema.
func schemaPool(ctx context.Context, name string, like *pgxpool.Pool, schema string) (*pgxpool.Pool, error) {
	cfg := like.Config()
	cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{schema}.Sanitize()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: connect: %w", name, err)
	}
	return pool, nil
}

// Name implements reference.System.
func (b *base) Name() string { return b.name }

// Start implements reference.System: nothing runs in the background.
func (b *base) Start(context.Context) error { return nil }

// WaitCaughtUp implements reference.System: reads see every returned
// command at once, or once a replica they read has replayed it.
func (b *base) WaitCaughtUp(ctx context.Context) error { return b.replayed(ctx) }

// ReadFromReplica puts the screens of sys, one of this package's
// systems, on replica, a streaming replica of the server sys was built on
// (read_from: replica): the read models there are the primary's,
// replicated. Setup and WaitCaughtUp then also wait until the replica has
// replayed what they waited for. Call it before Setup.
func ReadFromReplica(ctx context.Context, sys reference.System, replica *pgxpool.Pool) error {
	r, ok := sys.(interface {
		readFrom(context.Context, *pgxpool.Pool) error
	})
	if !ok {
		return fmt.Errorf("%s: cannot read from a replica", sys.Name())
	}
	return r.readFrom(ctx, replica)
}

// readFrom puts the screens on replica (ReadFromReplica).
func (b *base) readFrom(ctx context.Context, replica *pgxpool.Pool) error {
	reads, err := schemaPool(ctx, b.name, replica, b.schema)
	if err != nil {
		return err
	}
	if b.reads != b.pool {
		b.reads.Close()
	}
	b.reads = reads
	return nil
}

// replayed returns once the replica the screens read has replayed every
// commit made before the call; at once when they read the primary.
func (b *base) replayed(ctx context.Context) error {
	if err := replica.WaitIfReplica(ctx, b.pool, b.reads); err != nil {
		return fmt.Errorf("%s: %w", b.name, err)
	}
	return nil
}

// afterReplay returns err, or, when it is nil, what replayed returns:
// the end of a Setup or a WaitCaughtUp whose reads may be on a replica.
func (b *base) afterReplay(ctx context.Context, err error) error {
	if err != nil {
		return err
	}
	return b.replayed(ctx)
}

// Close implements reference.System.
func (b *base) Close(context.Context) error {
	b.pool.Close()
	if b.reads != b.pool {
		b.reads.Close()
	}
	return nil
}

// show runs st with args where the screens read and counts the rows.
func (b *base) show(ctx context.Context, screen string, st pack.Statement, args map[string]any) (int, error) {
	return showOn(ctx, b.reads, screen, st, args)
}

// ShowWriteModel implements pack.WriteModelReader.
func (b *base) ShowWriteModel(ctx context.Context, s *pack.Screen, args map[string]any) (int, error) {
	return showOn(ctx, b.pool, s.Name, s.CRUD, args)
}

// showOn runs st with args on db and counts the rows.
func showOn(ctx context.Context, db *pgxpool.Pool, screen string, st pack.Statement, args map[string]any) (int, error) {
	vals, err := st.Args(args)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", screen, err)
	}
	rows, err := db.Query(ctx, st.Text, vals...)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", screen, err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		n++
	}
	return n, rows.Err()
}

// CRUD is the crud architecture of a pack: commands and the screens' CRUD
// queries on the write model.
type CRUD struct{ base }

var (
	_ pack.Executor = (*CRUD)(nil)
	_ pack.Verifier = (*CRUD)(nil)
)

// NewCRUD returns pack p's crud architecture, named name, on schema (whose
// write model p loaded).
func NewCRUD(ctx context.Context, name string, pool *pgxpool.Pool, schema string, p *pack.Pack) (*CRUD, error) {
	b, err := newBase(ctx, name, pool, schema, p)
	if err != nil {
		return nil, err
	}
	return &CRUD{b}, nil
}

// NewCRUDOnReplica returns pack p's crud architecture, named name, with
// its screens on replica, a streaming replica of primary's server (the
// crud-replica architecture), on schema (whose write model p loaded).
func NewCRUDOnReplica(ctx context.Context, name string, primary, replica *pgxpool.Pool, schema string, p *pack.Pack) (*CRUD, error) {
	c, err := NewCRUD(ctx, name, primary, schema, p)
	if err != nil {
		return nil, err
	}
	if err := c.readFrom(ctx, replica); err != nil {
		c.pool.Close()
		return nil, err
	}
	return c, nil
}

// Setup implements reference.System: there is no read side to build; on
// a replica, it returns once the replica has replayed the load.
func (c *CRUD) Setup(ctx context.Context) error { return c.replayed(ctx) }

// Run implements pack.Executor: the statements, one transaction.
func (c *CRUD) Run(ctx context.Context, cmd *pack.Command, args map[string]any) (pack.Outcome, error) {
	return runInTx(ctx, c.pool, cmd, args)
}

// commandIsolation is the isolation of every command: the derived read
// sides rely on each statement taking a fresh snapshot (see the package
// doc), whatever the database's default_transaction_isolation.
const commandIsolation = pgx.ReadCommitted

// runInTx runs cmd's statements in one transaction on pool.
func runInTx(ctx context.Context, pool *pgxpool.Pool, cmd *pack.Command, args map[string]any) (pack.Outcome, error) {
	var out pack.Outcome
	err := pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: commandIsolation}, func(tx pgx.Tx) error {
		var err error
		out, err = pack.RunStatements(ctx, tx, cmd, args)
		return err
	})
	if err != nil {
		return pack.Outcome{}, err
	}
	return out, nil
}

// projection returns rm's projection as a subquery, on lines of its own so
// that a trailing -- comment ends before the closing parenthesis.
func projection(rm *pack.ReadModel) string {
	return "(\n" + rm.Projection.Text + "\n)"
}

// Show implements pack.Executor with the screen's CRUD query.
func (c *CRUD) Show(ctx context.Context, s *pack.Screen, args map[string]any) (int, error) {
	return c.show(ctx, s.Name, s.CRUD, args)
}

// step is one statement of building a read model.
type step struct{ what, sql string }

// buildReadModel runs, in tx, the statements steps gives for rm's quoted
// table and key columns; an error names rm's projection line.
func buildReadModel(ctx context.Context, tx pgx.Tx, rm *pack.ReadModel, steps func(table, key string) []step) error {
	var key []string
	for _, k := range rm.Key {
		key = append(key, pgx.Identifier{k}.Sanitize())
	}
	table := pgx.Identifier{rm.Name}.Sanitize()
	all := steps(table, strings.Join(key, ", "))
	for _, cols := range rm.Indexes {
		all = append(all, step{"index (" + cols + ")", "CREATE INDEX ON " + table + " (" + cols + ")"})
	}
	for _, st := range all {
		if _, err := tx.Exec(ctx, st.sql); err != nil {
			return fmt.Errorf("read model %s (%s:%d): %s: %w", rm.Name, rm.Projection.File, rm.Projection.Line, st.what, err)
		}
	}
	return nil
}

// current reports whether the row for key of read model rm that the
// screens read from shown (a table, or a parenthesized query), on the
// server they read, is the projection's row for it on the primary now
// (both absent: equal).
func (b *base) current(ctx context.Context, rm *pack.ReadModel, key []any, shown string) (bool, error) {
	var where []string
	for i, k := range rm.Key {
		where = append(where, fmt.Sprintf("%s = $%d", pgx.Identifier{k}.Sanitize(), i+1))
	}
	w := strings.Join(where, " AND ")
	truth, shownRow := "SELECT row(p.*)::text FROM "+projection(rm)+" p WHERE "+w, "SELECT row(r.*)::text FROM "+shown+" r WHERE "+w
	fail := func(err error) (bool, error) {
		return false, fmt.Errorf("read model %s, key %s: %w", rm.Name, pack.KeyText(key), err)
	}
	if b.reads == b.pool {
		var same bool
		if err := b.pool.QueryRow(ctx, "SELECT ("+truth+") IS NOT DISTINCT FROM ("+shownRow+")", key...).Scan(&same); err != nil {
			return fail(err)
		}
		return same, nil
	}
	// On a replica, what it shows is compared with the primary's truth.
	var want, got *string
	if err := b.pool.QueryRow(ctx, "SELECT ("+truth+")", key...).Scan(&want); err != nil {
		return fail(err)
	}
	if err := b.reads.QueryRow(ctx, "SELECT ("+shownRow+")", key...).Scan(&got); err != nil {
		return fail(err)
	}
	return want == nil && got == nil || want != nil && got != nil && *want == *got, nil
}

// Current implements pack.Verifier: the write model shows every write at
// once, a replica once it has replayed it.
func (c *CRUD) Current(ctx context.Context, rm *pack.ReadModel, key []any) (bool, error) {
	if c.reads == c.pool {
		return true, nil
	}
	return c.current(ctx, rm, key, projection(rm))
}
