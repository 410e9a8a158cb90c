package relay

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pglogrepl"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/cqrsbench/cqrsbench/reference/internal/signal"
)

// The WAL relay (ModeWAL) reads the outbox's inserts from a logical
// replication slot with the pgoutput plugin, as Debezium does, instead of
// polling the table. Commands still insert their outbox row in their
// transaction (the WAL is where the event is decoded from), and the relay
// deletes the rows it relayed: the table stays as small as the polling
// relays keep it, WaitPublished works alike, and the checker's view of
// what is unpublished is the same. The slot's confirmed position advances
// only after the transport confirmed a batch and its rows were deleted; a
// relay that fails before that (a crash, a broker down) reconnects and the
// slot sends the batch again: at-least-once, the projector's inbox makes
// it exactly-once.

// ErrWALLevel is returned (wrapped) by Prepare when the server's
// wal_level is below logical: the WAL relay cannot decode anything.
var ErrWALLevel = errors.New("the WAL relay needs wal_level=logical")

// walLinger is how long the WAL relay waits for another transaction after
// the last it decoded before it publishes those it holds, so that a lone
// commit waits no longer than this. When the transaction committed more
// than walBacklog ago (a backlog the slot sends after the relay was down),
// the relay holds transactions up to walMaxLinger after the first of a
// batch or Config.BatchSize rows instead: the slot sends a 100-row
// transaction every ~0.7 ms here, so a 200 µs linger cut a backlog into
// batches of one transaction each (21,700 rows/s in BenchmarkRelay against
// 46,900 for the skip-locked relay). The commit's age is the server's
// send time less the commit's time, both on the server's clock. Outside a
// backlog the linger restarts after each transaction, still at most
// walMaxLinger after the first of a batch: above a few thousand
// transactions a second, the first of a batch may wait that long.
const (
	walLinger    = 200 * time.Microsecond
	walMaxLinger = 5 * time.Millisecond
	walBacklog   = 50 * time.Millisecond
)

// walStatusEvery is how often the relay tells the server its position
// without being asked (the server's wal_sender_timeout is 60 s).
const walStatusEvery = 10 * time.Second

// slotName and publicationName are the WAL relay's replication slot and
// publication for the outbox of schema.
func slotName(schema string) string        { return walName(schema, "relay") }
func publicationName(schema string) string { return walName(schema, "outbox") }

// walName is "cqrsbench_<schema>_<what>" as a replication slot may be
// named (and a publication written unquoted): lower-case letters, digits
// and underscores, other characters of schema replaced by underscores, at
// most 63 bytes, a long schema cut and followed by a hash of it so that two
// schemas do not share a name.
func walName(schema, what string) string {
	clean := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return '_'
	}, schema)
	const limit = 63 // NAMEDATALEN - 1
	name := "cqrsbench_" + clean + "_" + what
	if len(name) <= limit && clean == schema {
		return name
	}
	sum := fnv.New32a()
	sum.Write([]byte(schema))
	suffix := fmt.Sprintf("_%08x_%s", sum.Sum32(), what)
	return "cqrsbench_" + clean[:min(len(clean), limit-len("cqrsbench_")-len(suffix))] + suffix
}

// Slot returns the name of the WAL relay's replication slot.
func (r *Relay) Slot() string { return slotName(r.cfg.Schema) }

// Prepare readies what a relay needs before commands may commit events:
// for ModeWAL the publication of the outbox table and the replication
// slot, so no insert committed after Prepare returns is missed. A server
// whose wal_level is below logical is ErrWALLevel. Other modes need
// nothing.
func (r *Relay) Prepare(ctx context.Context) error {
	if r.cfg.Mode != ModeWAL {
		return nil
	}
	var level string
	if err := r.pool.QueryRow(ctx, "SHOW wal_level").Scan(&level); err != nil {
		return fmt.Errorf("relay: read wal_level: %w", err)
	}
	if level != "logical" {
		return fmt.Errorf("%w: the server runs wal_level=%s; set wal_level = logical (and max_replication_slots, max_wal_senders > 0) in postgresql.conf and restart it", ErrWALLevel, level)
	}
	// The publication is made anew: one left by an earlier run lost its
	// table when the schema was dropped.
	pub := pgx.Identifier{publicationName(r.cfg.Schema)}.Sanitize()
	sql := fmt.Sprintf("DROP PUBLICATION IF EXISTS %s; CREATE PUBLICATION %s FOR TABLE %s WITH (publish = 'insert')",
		pub, pub, pgx.Identifier{r.cfg.Schema, "outbox"}.Sanitize())
	if _, err := r.pool.Exec(ctx, sql); err != nil {
		return fmt.Errorf("relay: create publication %s: %w", pub, err)
	}
	// A slot left by an earlier run (killed before Drop) holds that run's
	// position and would decode its outbox: start afresh.
	if err := r.dropSlot(ctx); err != nil {
		return err
	}
	if _, err := r.pool.Exec(ctx, "SELECT pg_create_logical_replication_slot($1, 'pgoutput')", r.Slot()); err != nil {
		return fmt.Errorf("relay: create replication slot %s: %w", r.Slot(), err)
	}
	return nil
}

// Drop removes what Prepare made (the slot, which would keep the server's
// WAL forever, and the publication); call it after Run returned.
func (r *Relay) Drop(ctx context.Context) error {
	if r.cfg.Mode != ModeWAL {
		return nil
	}
	var errs []error
	if err := r.dropSlot(ctx); err != nil {
		errs = append(errs, err)
	}
	if _, err := r.pool.Exec(ctx, "DROP PUBLICATION IF EXISTS "+pgx.Identifier{publicationName(r.cfg.Schema)}.Sanitize()); err != nil {
		errs = append(errs, fmt.Errorf("relay: drop publication: %w", err))
	}
	return errors.Join(errs...)
}

// slotReleased bounds how long dropSlot waits for the server to release a
// slot whose replication connection was just closed.
const slotReleased = 30 * time.Second

// dropSlot drops the relay's slot if it exists, waiting while a closed
// replication connection's server process still holds it.
func (r *Relay) dropSlot(ctx context.Context) error {
	deadline := time.Now().Add(slotReleased)
	for {
		_, err := r.pool.Exec(ctx, "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = $1", r.Slot())
		if err == nil {
			return nil
		}
		if !slotInUse(err) || time.Now().After(deadline) {
			return fmt.Errorf("relay: drop replication slot %s: %w", r.Slot(), err)
		}
		if !signal.Sleep(ctx, 10*time.Millisecond) {
			return ctx.Err()
		}
	}
}

// slotInUse reports whether err says a replication slot is held by another
// server process (SQLSTATE 55006, object_in_use).
func slotInUse(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "55006"
}

// runWAL streams from the slot until ctx is done, reconnecting after
// failures (the slot resends what was not confirmed).
func (r *Relay) runWAL(ctx context.Context) {
	var w worker
	for ctx.Err() == nil {
		err := r.stream(ctx, &w)
		if ctx.Err() != nil {
			return
		}
		if slotInUse(err) {
			// The previous connection's server process has not let go of
			// the slot yet (it notices the closed connection soon).
			if !signal.Sleep(ctx, 10*time.Millisecond) {
				return
			}
			continue
		}
		r.report(err)
		if !errors.Is(err, ErrCrash) && !signal.Sleep(ctx, retryDelay) {
			return
		}
	}
}

// walStream is one replication connection's decoding state.
type walStream struct {
	conn      *pgconn.PgConn
	relation  uint32         // the outbox's relation id, once described
	columns   map[string]int // the outbox's column positions
	tx        []row          // the rows of the transaction being decoded
	inTx      bool           // between a Begin and its Commit
	xid       uint32         // the transaction being decoded
	lingerEnd time.Time      // when the rows held are relayed, unless another transaction comes
	batchEnd  time.Time      // when the rows held are relayed at the latest
	confirmed pglogrepl.LSN  // what the slot may forget
	pending   pglogrepl.LSN  // the end of the last transaction in w.rows
	serverEnd pglogrepl.LSN  // the server's WAL end, from keepalives
	nextState time.Time      // when to send the position unasked
}

// stream opens a replication connection, starts streaming from the slot's
// confirmed position and relays each batch of committed transactions.
func (r *Relay) stream(ctx context.Context, w *worker) error {
	cfg := r.pool.Config().ConnConfig.Config.Copy()
	cfg.RuntimeParams["replication"] = "database"
	conn, err := pgconn.ConnectConfig(ctx, cfg)
	if err != nil {
		r.c.dbErrors.Add(1)
		return fmt.Errorf("relay: open a replication connection: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	args := []string{"proto_version '1'", "publication_names '" + publicationName(r.cfg.Schema) + "'"}
	if err := pglogrepl.StartReplication(ctx, conn, r.Slot(), 0, pglogrepl.StartReplicationOptions{PluginArgs: args}); err != nil {
		r.c.dbErrors.Add(1)
		return fmt.Errorf("relay: start replication from slot %s: %w", r.Slot(), err)
	}
	s := &walStream{conn: conn, nextState: time.Now().Add(walStatusEvery)}
	w.rows = w.rows[:0]
	for {
		deadline := s.nextState
		if len(w.rows) > 0 {
			deadline = s.lingerEnd
		}
		rctx, cancel := context.WithDeadline(ctx, deadline)
		msg, err := conn.ReceiveMessage(rctx)
		cancel()
		switch {
		case ctx.Err() != nil:
			return ctx.Err()
		case pgconn.Timeout(err) && len(w.rows) > 0:
			if err := r.relayWAL(ctx, s, w); err != nil {
				return err
			}
			continue
		case pgconn.Timeout(err):
			if err := s.sendPosition(ctx, len(w.rows) == 0 && !s.inTx); err != nil {
				return err
			}
			continue
		case err != nil:
			r.c.dbErrors.Add(1)
			return fmt.Errorf("relay: receive from slot %s: %w", r.Slot(), err)
		}
		switch m := msg.(type) {
		case *pgproto3.ErrorResponse:
			r.c.dbErrors.Add(1)
			return fmt.Errorf("relay: slot %s: %w", r.Slot(), pgconn.ErrorResponseToPgError(m))
		case *pgproto3.CopyDone:
			// The server ended the stream (shutting down): what was
			// not confirmed is sent again on the next connection.
			r.c.dbErrors.Add(1)
			return fmt.Errorf("relay: the server ended the replication stream of slot %s", r.Slot())
		case *pgproto3.CopyData:
			if err := r.decode(ctx, s, w, m.Data); err != nil {
				return err
			}
			if len(w.rows) >= r.cfg.BatchSize {
				if err := r.relayWAL(ctx, s, w); err != nil {
					return err
				}
			}
		}
	}
}

// decode handles one CopyData message of the replication stream.
func (r *Relay) decode(ctx context.Context, s *walStream, w *worker, data []byte) error {
	if len(data) == 0 {
		return nil
	}
	switch data[0] {
	case pglogrepl.PrimaryKeepaliveMessageByteID:
		k, err := pglogrepl.ParsePrimaryKeepaliveMessage(data[1:])
		if err != nil {
			return fmt.Errorf("relay: keepalive: %w", err)
		}
		s.serverEnd = max(s.serverEnd, k.ServerWALEnd)
		if k.ReplyRequested {
			return s.sendPosition(ctx, len(w.rows) == 0 && !s.inTx)
		}
		return nil
	case pglogrepl.XLogDataByteID:
	default:
		return nil
	}
	x, err := pglogrepl.ParseXLogData(data[1:])
	if err != nil {
		return fmt.Errorf("relay: WAL data: %w", err)
	}
	msg, err := pglogrepl.Parse(x.WALData)
	if err != nil {
		return fmt.Errorf("relay: decode pgoutput: %w", err)
	}
	switch m := msg.(type) {
	case *pglogrepl.RelationMessage:
		if m.RelationName != "outbox" || m.Namespace != r.cfg.Schema {
			return nil
		}
		s.relation, s.columns = m.RelationID, map[string]int{}
		for i, c := range m.Columns {
			s.columns[c.Name] = i
		}
	case *pglogrepl.BeginMessage:
		s.tx, s.inTx, s.xid = s.tx[:0], true, m.Xid
	case *pglogrepl.InsertMessage:
		if m.RelationID != s.relation || s.columns == nil {
			return nil
		}
		x, err := s.outboxRow(m.Tuple)
		if err != nil {
			return err
		}
		x.xid = s.xid
		s.tx = append(s.tx, x)
		r.c.claimed.Add(1)
	case *pglogrepl.CommitMessage:
		if len(s.tx) > 0 {
			now := time.Now()
			if len(w.rows) == 0 {
				s.batchEnd = now.Add(walMaxLinger)
			}
			s.lingerEnd = now.Add(walLinger)
			if x.ServerTime.Sub(m.CommitTime) > walBacklog || s.lingerEnd.After(s.batchEnd) {
				s.lingerEnd = s.batchEnd
			}
		}
		w.rows = append(w.rows, s.tx...)
		s.tx, s.inTx = s.tx[:0], false
		s.pending = m.TransactionEndLSN
		if len(w.rows) == 0 {
			// A transaction of no outbox row (another table of the
			// publication's database): nothing to wait for.
			s.confirmed = max(s.confirmed, m.TransactionEndLSN)
		}
	}
	return nil
}

// outboxRow reads an outbox insert's id, aggregate_id, version and payload
// (pgoutput sends them as text).
func (s *walStream) outboxRow(t *pglogrepl.TupleData) (row, error) {
	col := func(name string) (string, error) {
		i, ok := s.columns[name]
		if !ok || t == nil || i >= len(t.Columns) || t.Columns[i].DataType != pglogrepl.TupleDataTypeText {
			return "", fmt.Errorf("relay: outbox insert without column %s as text", name)
		}
		return string(t.Columns[i].Data), nil
	}
	var x row
	var errs []error
	parse := func(name string, bits int) int64 {
		v, err := col(name)
		if err != nil {
			errs = append(errs, err)
			return 0
		}
		n, err := strconv.ParseInt(v, 10, bits)
		if err != nil {
			errs = append(errs, fmt.Errorf("relay: outbox %s %q: %w", name, v, err))
		}
		return n
	}
	x.id, x.orderID, x.version = parse("id", 64), parse("aggregate_id", 64), int32(parse("version", 32))
	payload, err := col("payload")
	if err != nil {
		errs = append(errs, err)
	}
	x.payload = []byte(payload)
	return x, errors.Join(errs...)
}

// relayWAL publishes the transactions w holds, deletes their outbox rows
// and then lets the slot forget them.
func (r *Relay) relayWAL(ctx context.Context, s *walStream, w *worker) error {
	if err := r.publish(ctx, w); err != nil {
		r.retry(w)
		return err
	}
	w.ids = w.ids[:0]
	for _, x := range w.rows {
		w.ids = append(w.ids, x.id)
	}
	if err := r.deleteRelayed(ctx, w); err != nil {
		r.retry(w)
		return err
	}
	s.confirmed = max(s.confirmed, s.pending)
	if err := s.sendPosition(ctx, false); err != nil {
		r.retry(w)
		return err
	}
	r.done(w)
	w.rows = w.rows[:0]
	return nil
}

// walVisible bounds how long the relay waits for a decoded commit to become
// visible before it gives up on the batch (which the slot then resends).
const walVisible = 10 * time.Second

// deleteRelayed deletes the outbox rows ids. Logical decoding may stream a
// transaction as soon as its commit record is flushed, before the
// committing backend has made it visible to other snapshots: a DELETE
// then misses rows that are committed (seen here on a busy 2-core host,
// and the outbox kept two rows forever). So the rows not deleted are
// deleted again, every millisecond, until every one is gone.
func (r *Relay) deleteRelayed(ctx context.Context, w *worker) error {
	ids := w.ids
	left := slices.Clone(ids)
	deadline := time.Now().Add(walVisible)
	for first := true; ; first = false {
		// A row a DELETE did not find may also be gone already: the slot
		// resends what it was not told was relayed (after a failure
		// between a delete and the position update, or a server restart
		// that forgot the position). Its transaction is then visible, and
		// was so before the next DELETE took its snapshot: a row whose
		// transaction was visible before a DELETE that did not find it is
		// gone.
		var gone []int64
		if !first {
			var err error
			if gone, err = r.visible(ctx, w, left); err != nil {
				return err
			}
		}
		rows, err := r.pool.Query(ctx, r.deleteIDs, left)
		if err != nil {
			r.c.dbErrors.Add(1)
			return fmt.Errorf("relay: delete %d relayed outbox rows (they will be published again): %w", len(ids), err)
		}
		deleted, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			r.c.dbErrors.Add(1)
			return fmt.Errorf("relay: delete %d relayed outbox rows (they will be published again): %w", len(ids), err)
		}
		left = slices.DeleteFunc(left, func(id int64) bool { return slices.Contains(deleted, id) || slices.Contains(gone, id) })
		if len(left) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("relay: outbox rows %v decoded as committed but not visible after %s (they will be published again)", left, walVisible)
		}
		if !signal.Sleep(ctx, time.Millisecond) {
			return ctx.Err()
		}
	}
}

// visibleSQL lists which of the transactions ($1: 32-bit xids of this
// epoch or the one before) a new snapshot sees as committed.
const visibleSQL = `
SELECT x FROM unnest($1::bigint[]) x,
     LATERAL (SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint AS xmax) s,
     LATERAL (SELECT (s.xmax >> 32 << 32) | x AS full) f
WHERE pg_visible_in_snapshot(
    (CASE WHEN f.full > s.xmax THEN f.full - 4294967296 ELSE f.full END)::text::xid8, pg_current_snapshot())`

// visible returns the ids among left whose inserting transaction a new
// snapshot sees.
func (r *Relay) visible(ctx context.Context, w *worker, left []int64) ([]int64, error) {
	xidOf := map[int64]int64{}
	var xids []int64
	for _, x := range w.rows {
		if slices.Contains(left, x.id) {
			xidOf[x.id] = int64(x.xid)
			xids = append(xids, int64(x.xid))
		}
	}
	rows, err := r.pool.Query(ctx, visibleSQL, xids)
	if err != nil {
		r.c.dbErrors.Add(1)
		return nil, fmt.Errorf("relay: check which decoded transactions are visible: %w", err)
	}
	visible, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		r.c.dbErrors.Add(1)
		return nil, fmt.Errorf("relay: check which decoded transactions are visible: %w", err)
	}
	var ids []int64
	for _, id := range left {
		if slices.Contains(visible, xidOf[id]) {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// sendPosition tells the server what the slot may forget: the end of the
// last relayed transaction, or, when idle (nothing decoded and not yet
// relayed), the server's WAL end.
func (s *walStream) sendPosition(ctx context.Context, idle bool) error {
	if idle {
		s.confirmed = max(s.confirmed, s.serverEnd)
	}
	s.nextState = time.Now().Add(walStatusEvery)
	err := pglogrepl.SendStandbyStatusUpdate(ctx, s.conn, pglogrepl.StandbyStatusUpdate{
		WALWritePosition: s.confirmed, WALFlushPosition: s.confirmed, WALApplyPosition: s.confirmed,
	})
	if err != nil {
		return fmt.Errorf("relay: confirm position %s to the slot: %w", s.confirmed, err)
	}
	return nil
}
