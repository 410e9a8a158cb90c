package derived

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/pack"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/outbox"
)

// carried is the event-carried core of the outbox architectures of a pack
// (cqrs-rabbitmq, cqrs-kafka): its tables, the commands that write each
// changed key's row as an event to the outbox, and the projector's decode
// and version-guarded apply. Only the transport differs: its runner
// publishes the outbox and hands the events back to handle.
type carried struct {
	base
	observer event.Observer
	noGuard  bool
	hooks    reference.Hooks
	onError  func(error)
	// crash, if set, is wrapped around the hooks' errors: how the
	// transport's consumer tells a simulated crash from a failure.
	crash error
	// Set by setup, per read model: event computes a key's event into the
	// outbox; upsert and remove apply one.
	event, upsert, remove map[string]string

	applied, skipped atomic.Int64
}

// carriedConfig is what the transports' configurations share.
type carriedConfig struct {
	observer event.Observer
	noGuard  bool
	hooks    reference.Hooks
	onError  func(error)
	crash    error
}

// newCarried returns the core on b.
func newCarried(b base, c carriedConfig) carried {
	return carried{base: b, observer: c.observer, noGuard: c.noGuard, hooks: c.hooks, onError: c.onError, crash: c.crash,
		event: map[string]string{}, upsert: map[string]string{}, remove: map[string]string{}}
}

// setup makes each read model a table with the projection's columns and a
// primary key on its key, filled from the write model, and creates the
// key-version table (write side), the applied-version table (read side)
// and the outbox, with its relays' wake-up trigger.
func (s *carried) setup(ctx context.Context) error {
	var taken *string
	if err := s.pool.QueryRow(ctx, "SELECT to_regclass($1)::text", pgx.Identifier{s.schema, "outbox"}.Sanitize()).Scan(&taken); err != nil {
		return fmt.Errorf("%s setup: %w", s.name, err)
	}
	if taken != nil {
		return fmt.Errorf("%s setup: the pack's write model has a table named outbox, which the relays need: rename it", s.name)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := createKeyVersions(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE `+pgx.Identifier{AppliedVersions}.Sanitize()+
			` (read_model text, key jsonb, version bigint NOT NULL, PRIMARY KEY (read_model, key))`); err != nil {
			return fmt.Errorf("create %s: %w", AppliedVersions, err)
		}
		for _, rm := range s.pack.ReadModels {
			if err := createReadModel(ctx, tx, rm); err != nil {
				return err
			}
			if err := s.prepare(ctx, tx, rm); err != nil {
				return err
			}
		}
		return outbox.Create(ctx, tx, s.schema, outbox.Channel(s.schema))
	})
	if err != nil {
		return fmt.Errorf("%s setup: %w", s.name, err)
	}
	return nil
}

// poisoned is a message of a batch that is poison: its index, and why.
type poisoned struct {
	i   int
	err error
}

// handle is the projector's side of both transports: decode the n
// messages of a batch (body(i); id(i) names one in errors), received at
// received, and apply them in one transaction. It returns once they are
// committed, with the messages that do not decode or name a read model the
// pack has not (to be dead-lettered), or with an error to have the batch
// delivered again.
func (s *carried) handle(ctx context.Context, n int, body func(int) []byte, id func(int) string, received time.Time) ([]poisoned, error) {
	events := make([]keyEvent, 0, n)
	var poison []poisoned
	for i := range n {
		var e keyEvent
		err := json.Unmarshal(body(i), &e)
		if err == nil && s.upsert[e.ReadModel] == "" {
			err = fmt.Errorf("no read model %q", e.ReadModel)
		}
		if err != nil {
			poison = append(poison, poisoned{i, err})
			s.report(fmt.Errorf("%s: dead-letter message %q: %w", s.name, id(i), err))
			continue
		}
		events = append(events, e)
	}
	var refs []event.Ref
	if s.observer != nil && len(events) > 0 {
		for i := range events {
			refs = append(refs, events[i].ref())
		}
		s.observer.Observe(event.StageDelivered, received, refs)
	}
	if err := s.apply(ctx, events); err != nil {
		return nil, fmt.Errorf("%s: apply %d events: %w", s.name, len(events), err)
	}
	if len(refs) > 0 {
		s.observer.Observe(event.StageApplied, time.Now(), refs) // a key's older events too: its row holds them
	}
	return poison, nil
}

// AppliedVersions is the table, in the read side of an event-carried
// architecture's schema, that holds the version of every read-model key
// the projector last applied: its version guard.
const AppliedVersions = "cqrsbench_applied_versions"

// column is a column of a read model's table.
type column struct{ name, typ string }

// prepare builds rm's statements from its table's columns.
func (s *carried) prepare(ctx context.Context, tx pgx.Tx, rm *pack.ReadModel) error {
	table := pgx.Identifier{rm.Name}.Sanitize()
	rows, err := tx.Query(ctx, `SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
		WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum`, table)
	if err != nil {
		return fmt.Errorf("read model %s: columns: %w", rm.Name, err)
	}
	var cols []column
	var c column
	if _, err := pgx.ForEachRow(rows, []any{&c.name, &c.typ}, func() error { cols = append(cols, c); return nil }); err != nil {
		return fmt.Errorf("read model %s: columns: %w", rm.Name, err)
	}
	var keyObj, where, names, match []string
	for i, k := range rm.Key {
		j := slices.IndexFunc(cols, func(c column) bool { return c.name == k })
		if j < 0 {
			return fmt.Errorf("read model %s: key column %s is not in its projection", rm.Name, k)
		}
		q, param := pgx.Identifier{k}.Sanitize(), fmt.Sprintf("$%d::%s", i+3, cols[j].typ)
		keyObj = append(keyObj, "'"+strings.ReplaceAll(k, "'", "''")+"', "+param)
		where = append(where, q+" = "+param)
		match = append(match, "t."+q+" = k."+q)
	}
	for _, c := range cols {
		names = append(names, c.name)
	}
	// $1 the read model, $2 the key's text, $3… the key's values. The
	// statement runs after the one that locked the key and counted its
	// version, so its snapshot holds every command that held the lock
	// before.
	s.event[rm.Name] = `INSERT INTO outbox (aggregate_id, type, version, payload)
SELECT h.route, $1::text, v.version::int,
       jsonb_build_object('read_model', $1::text, 'key', jsonb_build_object(` + strings.Join(keyObj, ", ") + `),
           'version', v.version, 'route', h.route,
           'row', (SELECT to_jsonb(p) FROM (` + rm.Projection.Text + `) p WHERE ` + strings.Join(where, " AND ") + `))
FROM ` + pgx.Identifier{pack.KeyVersions}.Sanitize() + ` v
CROSS JOIN LATERAL (SELECT hashtextextended($1::text || ' ' || $2::text, 0) AS route) h
WHERE v.read_model = $1::text AND v.key = $2::text
RETURNING aggregate_id, version`
	s.upsert[rm.Name] = "INSERT INTO " + table + " SELECT * FROM jsonb_populate_record(NULL::" + table + ", $1::jsonb) " + upsertClause(rm, names)
	s.remove[rm.Name] = "DELETE FROM " + table + " t USING jsonb_populate_record(NULL::" + table + ", $1::jsonb) k WHERE " +
		strings.Join(match, " AND ")
	return nil
}

// Run implements pack.Executor: the command's statements, then, per changed
// key in lock order, the key's lock and version, and its event (the key's
// row by the projection, or null) into the outbox; one transaction.
func (s *carried) Run(ctx context.Context, cmd *pack.Command, args map[string]any) (pack.Outcome, error) {
	var out pack.Outcome
	var refs []event.Ref // the events, for the Observer
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if out, err = pack.RunStatements(ctx, tx, cmd, args); err != nil {
			return err
		}
		var b pgx.Batch
		for _, rm := range slices.Sorted(maps.Keys(out.Changed)) {
			sql, ok := s.event[rm]
			if !ok {
				return fmt.Errorf("%s: read model %s is not set up (Setup first)", s.name, rm)
			}
			for _, key := range out.Changed[rm] {
				text := pack.KeyText(key)
				b.Queue(lockSQL, rm, text)
				b.Queue(sql, append([]any{rm, text}, key...)...)
			}
		}
		if b.Len() == 0 {
			return nil
		}
		br := tx.SendBatch(ctx, &b)
		refs = refs[:0]
		for range b.Len() / 2 {
			var ref event.Ref
			if _, err := br.Exec(); err != nil {
				_ = br.Close()
				return err
			}
			if err := br.QueryRow().Scan(&ref.OrderID, &ref.Version); err != nil {
				_ = br.Close()
				return err
			}
			refs = append(refs, ref)
		}
		return br.Close()
	})
	if err == nil && s.observer != nil && len(refs) > 0 {
		s.observer.Observe(event.StageCommitted, time.Now(), refs)
	}
	return out, err
}

// Show implements pack.Executor with the screen's flat query on its read
// model.
func (s *carried) Show(ctx context.Context, sc *pack.Screen, args map[string]any) (int, error) {
	return s.show(ctx, sc.Name, sc.Flat, args)
}

// keyEvent is an event of the outbox: a read-model key's row (null: no
// row) as of the key's version.
type keyEvent struct {
	ReadModel string          `json:"read_model"`
	Key       json.RawMessage `json:"key"`
	Version   int64           `json:"version"`
	Row       json.RawMessage `json:"row"`
	// Route is the outbox's aggregate_id: with Version, the event's
	// event.Ref for the Observer.
	Route int64 `json:"route"`
}

// ref is e's event.Ref: the stages of one event are observed by it.
func (e *keyEvent) ref() event.Ref { return event.Ref{OrderID: e.Route, Version: int32(e.Version)} }

// guardSQL records that a key's version $3 is applied unless a version as
// new or newer is; it returns a row when it did.
var guardSQL = `INSERT INTO ` + pgx.Identifier{AppliedVersions}.Sanitize() + ` AS a (read_model, key, version) VALUES ($1, $2::jsonb, $3)
	ON CONFLICT (read_model, key) DO UPDATE SET version = EXCLUDED.version WHERE a.version < EXCLUDED.version
	RETURNING true`

// apply applies events in one transaction. With the version guard, only
// the newest event of each key counts, and only if it is newer than the
// version applied before: the guard rows are written first, in one order
// (read model, key), so concurrent workers neither deadlock nor write a
// key's row in an order other than its versions'; the rows are then
// written by statements whose snapshots follow the guards' locks.
// Without it, every event's row is written in delivery order.
func (s *carried) apply(ctx context.Context, events []keyEvent) error {
	if len(events) == 0 {
		return nil
	}
	var applied int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		apply := events
		if !s.noGuard {
			var err error
			if apply, err = s.guard(ctx, tx, events); err != nil {
				return err
			}
		}
		var b pgx.Batch
		for _, e := range apply {
			if string(e.Row) == "null" || len(e.Row) == 0 {
				b.Queue(s.remove[e.ReadModel], string(e.Key))
			} else {
				b.Queue(s.upsert[e.ReadModel], string(e.Row))
			}
		}
		if b.Len() > 0 {
			if err := tx.SendBatch(ctx, &b).Close(); err != nil {
				return err
			}
		}
		applied = len(apply)
		if h := s.hooks.BeforeDBCommit; h != nil {
			return s.crashed(h(ctx, reference.Batch{Records: len(events), Applied: applied, Duplicates: len(events) - applied}))
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.applied.Add(int64(applied))
	s.skipped.Add(int64(len(events) - applied))
	if h := s.hooks.AfterDBCommit; h != nil {
		return s.crashed(h(ctx, reference.Batch{Records: len(events), Applied: applied, Duplicates: len(events) - applied}))
	}
	return nil
}

// crashed makes a hook's error match the transport's crash sentinel.
func (s *carried) crashed(err error) error {
	if err == nil || s.crash == nil || errors.Is(err, s.crash) {
		return err
	}
	return fmt.Errorf("%w: %w", s.crash, err)
}

// guard keeps the newest event of each key, records its version where it
// is newer than the one applied, and returns the events it recorded.
func (s *carried) guard(ctx context.Context, tx pgx.Tx, events []keyEvent) ([]keyEvent, error) {
	sorted := slices.Clone(events)
	slices.SortFunc(sorted, func(a, b keyEvent) int {
		return cmp.Or(cmp.Compare(a.ReadModel, b.ReadModel), cmp.Compare(string(a.Key), string(b.Key)), cmp.Compare(b.Version, a.Version))
	})
	newest := slices.CompactFunc(sorted, func(a, b keyEvent) bool {
		return a.ReadModel == b.ReadModel && string(a.Key) == string(b.Key)
	})
	var b pgx.Batch
	for _, e := range newest {
		b.Queue(guardSQL, e.ReadModel, string(e.Key), e.Version)
	}
	br := tx.SendBatch(ctx, &b)
	var apply []keyEvent
	for _, e := range newest {
		var ok bool
		switch err := br.QueryRow().Scan(&ok); {
		case errors.Is(err, pgx.ErrNoRows):
		case err != nil:
			_ = br.Close()
			return nil, err
		default:
			apply = append(apply, e)
		}
	}
	return apply, br.Close()
}

// poisonValue is an undecodable event: its read model is not a string
// (reference.Poisonable).
const poisonValue = `{"read_model":1,"key":{},"version":1,"row":null}`

func (s *carried) report(err error) {
	if s.onError != nil {
		s.onError(err)
	}
}

// Current implements pack.Verifier: the prober waits until the projector
// has brought the key's row in line with the projection.
func (r *carried) Current(ctx context.Context, rm *pack.ReadModel, key []any) (bool, error) {
	return r.current(ctx, rm, key, pgx.Identifier{rm.Name}.Sanitize())
}
