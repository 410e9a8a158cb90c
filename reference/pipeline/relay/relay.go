package relay

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/internal/signal"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/outbox"
)

// Message is one outbox event to publish.
type Message struct {
	// ID is the outbox row's id.
	ID int64
	// Key is the order id in decimal (event.AppendKey): a transport that
	// keeps per-key order (Kafka) keeps an order's events in order.
	Key []byte
	// Value is the event in its wire format (JSON, see package event).
	Value []byte
	// Ref identifies the event.
	Ref event.Ref
}

// Publisher is a transport's producer side. Several relay workers call
// Publish concurrently.
type Publisher interface {
	// Publish sends msgs and returns nil only once the transport confirmed
	// every one (Kafka: acks=all of the idempotent producer; RabbitMQ:
	// publisher confirms). A non-nil error means some may not be
	// confirmed: the relay rolls back and publishes the batch again
	// (at-least-once). msgs holds the batch in outbox id order (ModeWAL:
	// in commit order, which keeps each order's events in order too), a message
	// that Config.DuplicateFraction duplicates right after its original;
	// msgs is only valid during the call (the byte slices may be kept).
	// Publish bounds its own wait for the transport (a delivery timeout)
	// and returns when ctx is done.
	Publish(ctx context.Context, msgs []Message) error
}

// claimSQL claims and deletes the oldest unclaimed rows ($1 of them) in one
// statement; the deletion commits only after the transport confirmed them.
const claimSQL = `
DELETE FROM {{schema}}.outbox WHERE id IN (
    SELECT id FROM {{schema}}.outbox ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
)
RETURNING id, aggregate_id, version, payload`

// cursorSQL takes and deletes the rows after the cursor $1 ($2 of them) in
// one statement, without skipping locked rows: the naive cursor differs
// from claimSQL only in where it starts. Like a claim, the deletion commits
// only after the transport confirmed the rows, so what left the outbox is
// exactly what was published (what an outbox archive trigger copies).
const cursorSQL = `
DELETE FROM {{schema}}.outbox WHERE id IN (
    SELECT id FROM {{schema}}.outbox WHERE id > $1 ORDER BY id LIMIT $2
)
RETURNING id, aggregate_id, version, payload`

// deleteIDsSQL deletes the outbox rows the WAL relay relayed ($1 their ids)
// and returns the ids deleted.
const deleteIDsSQL = `DELETE FROM {{schema}}.outbox WHERE id = ANY($1) RETURNING id`

// pendingSQL reports whether rows with an id up to $1 remain.
const pendingSQL = `SELECT EXISTS (SELECT 1 FROM {{schema}}.outbox WHERE id <= $1)`

// retryDelay is how long a worker or the listener waits after a failure
// before trying again.
const retryDelay = 200 * time.Millisecond

// Counters are what the relays did since New. Claims that failed and were
// retried count again.
type Counters struct {
	// Claimed is outbox rows read by a worker.
	Claimed int64
	// Relayed is rows whose messages the transport confirmed and whose
	// removal committed.
	Relayed int64
	// Published is messages the transport confirmed, duplicates included,
	// and PublishedBytes their keys' and values' bytes.
	Published      int64
	PublishedBytes int64
	// Duplicated is extra messages published by Config.DuplicateFraction.
	Duplicated int64
	// Batches is batches relayed.
	Batches int64
	// PublishErrors is batches whose Publish failed (rolled back, retried).
	PublishErrors int64
	// Retries is batches claimed but not relayed: rolled back after a
	// failed Publish, a failed commit of their removal or a crash, so
	// their rows are claimed and published again. A relay that keeps
	// retrying shows here.
	Retries int64
	// RetriedRows is the rows of those batches.
	RetriedRows int64
	// DBErrors is failed database round trips (retried).
	DBErrors int64
	// Crashes is simulated crashes (Hooks.BeforePublish and AfterConfirm errors).
	Crashes int64
	// Wakeups is notifications received from the outbox trigger.
	Wakeups int64
	// Arms is how often the relays started waiting for notifications
	// (commands notify only then; see outbox.NotifyTriggerSQL).
	Arms int64
}

// Errors returns the relay's error counts as a pipeline reports them
// (reference.PipelineStats.Errors), zero ones included.
func (c Counters) Errors() []reference.ErrorCount {
	return []reference.ErrorCount{
		{Where: "relay database", Count: c.DBErrors},
		{Where: "publish", Count: c.PublishErrors},
		{Where: "relay retry (batch published again)", Count: c.Retries},
		{Where: "relay crash (injected)", Count: c.Crashes},
	}
}

type counters struct {
	claimed, relayed, published, duplicated, batches atomic.Int64
	publishedBytes                                   atomic.Int64
	publishErrors, retries, retriedRows, dbErrors    atomic.Int64
	crashes, wakeups, arms                           atomic.Int64
}

// Relay publishes the rows of an outbox through a Publisher with one or
// more workers.
type Relay struct {
	cfg                    Config
	pool                   *pgxpool.Pool
	pub                    Publisher
	claim, cursor, pending string
	deleteIDs              string
	dupBelow               uint64 // ids whose hash is below are duplicated
	dupAll                 bool

	c        counters
	progress signal.Broadcast
	position atomic.Int64 // naive-cursor: the last id published
	running  atomic.Bool
	armed    atomic.Bool   // a relay waits for notifications (wake.go)
	armReq   chan struct{} // workers → coordinator: please arm
}

// New returns relays for the outbox of cfg.Schema that publish through pub;
// the caller releases pub's resources after Run returned.
func New(pool *pgxpool.Pool, pub Publisher, cfg Config) (*Relay, error) {
	if pub == nil {
		return nil, errors.New("relay: no publisher")
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("relay config: %w", err)
	}
	cfg = cfg.WithDefaults()
	q := pgx.Identifier{cfg.Schema}.Sanitize()
	expand := func(s string) string { return strings.ReplaceAll(s, "{{schema}}", q) }
	r := &Relay{
		cfg: cfg, pool: pool, pub: pub,
		claim: expand(claimSQL), cursor: expand(cursorSQL), pending: expand(pendingSQL), deleteIDs: expand(deleteIDsSQL),
		armReq: make(chan struct{}, 1),
	}
	if cfg.DuplicateFraction >= 1 {
		r.dupAll = true
	} else {
		r.dupBelow = uint64(cfg.DuplicateFraction * math.MaxUint64)
	}
	return r, nil
}

// Config returns the configuration in use, defaults applied.
func (r *Relay) Config() Config { return r.cfg }

// Counters returns what the relays did so far.
func (r *Relay) Counters() Counters {
	return Counters{
		Claimed: r.c.claimed.Load(), Relayed: r.c.relayed.Load(), Published: r.c.published.Load(), PublishedBytes: r.c.publishedBytes.Load(),
		Duplicated: r.c.duplicated.Load(), Batches: r.c.batches.Load(), PublishErrors: r.c.publishErrors.Load(),
		Retries: r.c.retries.Load(), RetriedRows: r.c.retriedRows.Load(), DBErrors: r.c.dbErrors.Load(),
		Crashes: r.c.crashes.Load(), Wakeups: r.c.wakeups.Load(), Arms: r.c.arms.Load(),
	}
}

// Run runs the workers, and the listener and coordinator that wake them,
// until ctx is done; it returns nil then. Failures are retried, reported to
// Config.OnError and counted, never returned. Run may be called again after
// it returned (a naive cursor keeps its position).
func (r *Relay) Run(ctx context.Context) error {
	if !r.running.CompareAndSwap(false, true) {
		return errors.New("relay: Run called while running")
	}
	defer r.running.Store(false)
	if r.cfg.Mode == ModeWAL {
		r.runWAL(ctx)
		return nil
	}
	wakes := make([]chan struct{}, r.cfg.Relays)
	for i := range wakes {
		wakes[i] = make(chan struct{}, 1)
	}
	var wg sync.WaitGroup
	notify := !r.cfg.DisableNotify && r.cfg.Channel != ""
	if notify {
		k1, k2 := outbox.WakeLock(r.cfg.Channel)
		w := &waker{r: r, wakes: wakes, heard: make(chan struct{}, 1), k1: k1, k2: k2}
		wg.Go(func() { w.listen(ctx) })
		wg.Go(func() { w.coordinate(ctx) })
	}
	for i := range wakes {
		wg.Go(func() { r.work(ctx, wakes[i], notify) })
	}
	wg.Wait()
	return nil
}

// wakeAll wakes every idle worker; a worker that is busy finds the wake-up
// when it is done and claims again.
func wakeAll(wakes []chan struct{}) {
	for _, w := range wakes {
		select {
		case w <- struct{}{}:
		default:
		}
	}
}

// work is one relay worker: it relays batches back to back while they come
// full, polls every ActivePollInterval while it finds rows, and once it
// finds none asks to be armed (notify) and waits for a wake-up, or
// ActivePollInterval until armed, PollInterval once armed (see wake.go).
func (r *Relay) work(ctx context.Context, wake <-chan struct{}, notify bool) {
	timer := time.NewTimer(0) // look at once
	defer timer.Stop()
	var w worker
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
			if r.cfg.Linger > 0 && !signal.Sleep(ctx, r.cfg.Linger) {
				return
			}
		case <-timer.C:
		}
		n := 0
		for ctx.Err() == nil {
			var err error
			n, err = r.cycle(ctx, &w)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				r.report(err)
				if !errors.Is(err, ErrCrash) && !signal.Sleep(ctx, retryDelay) {
					return
				}
				continue
			}
			if n < r.cfg.BatchSize {
				break
			}
		}
		wait := r.cfg.ActivePollInterval
		if n == 0 {
			if notify && !r.armed.Load() {
				select {
				case r.armReq <- struct{}{}:
				default:
				}
			} else {
				wait = r.cfg.PollInterval
			}
		}
		timer.Reset(wait)
	}
}

// worker holds a worker's reusable buffers.
type worker struct {
	rows []row
	msgs []Message
	ids  []int64
	refs []event.Ref
}

// row is one outbox row.
type row struct {
	id, orderID int64
	version     int32
	payload     []byte
	xid         uint32 // the WAL relay: the inserting transaction
}

// cycle relays one batch and returns its size: it claims (naive-cursor:
// takes the rows after the cursor) and deletes rows in one transaction,
// publishes them, and commits only after the transport confirmed them.
func (r *Relay) cycle(ctx context.Context, w *worker) (int, error) {
	tx, err := r.pool.Begin(ctx)
	if err != nil {
		r.c.dbErrors.Add(1)
		return 0, fmt.Errorf("relay: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit it is a no-op
	claim, args := r.claim, []any{r.cfg.BatchSize}
	if r.cfg.Mode == ModeNaiveCursor {
		claim, args = r.cursor, []any{r.position.Load(), r.cfg.BatchSize}
	}
	if err := r.read(ctx, tx, w, claim, args...); err != nil {
		return 0, err
	}
	if len(w.rows) == 0 {
		return 0, nil
	}
	// DELETE ... RETURNING does not order: publish in id order, so the
	// events of one order keep their order where the transport keeps it.
	slices.SortFunc(w.rows, func(a, b row) int { return cmp.Compare(a.id, b.id) })
	if err := r.publish(ctx, w); err != nil {
		r.retry(w)
		return 0, err
	}
	if err := tx.Commit(ctx); err != nil {
		r.c.dbErrors.Add(1)
		r.retry(w)
		return 0, fmt.Errorf("relay: commit removal of %d confirmed rows (they will be published again): %w", len(w.rows), err)
	}
	// The naive cursor moves past every row it read, and so past any row
	// of a smaller id not committed yet: skipped for good.
	r.position.Store(w.rows[len(w.rows)-1].id)
	r.done(w)
	return len(w.rows), nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// read runs a claim or cursor query into w.rows.
func (r *Relay) read(ctx context.Context, db querier, w *worker, sql string, args ...any) error {
	w.rows = w.rows[:0]
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		r.c.dbErrors.Add(1)
		return fmt.Errorf("relay: claim outbox rows: %w", err)
	}
	var x row
	_, err = pgx.ForEachRow(rows, []any{&x.id, &x.orderID, &x.version, &x.payload}, func() error {
		w.rows = append(w.rows, x)
		x.payload = nil // scanning allocates a new slice per row
		return nil
	})
	if err != nil {
		r.c.dbErrors.Add(1)
		return fmt.Errorf("relay: claim outbox rows: %w", err)
	}
	r.c.claimed.Add(int64(len(w.rows)))
	return nil
}

// publish publishes w.rows, duplicates included, through the Publisher
// and runs the AfterConfirm hook.
func (r *Relay) publish(ctx context.Context, w *worker) error {
	obs := r.cfg.Observer
	w.ids, w.refs = w.ids[:0], w.refs[:0]
	for _, x := range w.rows {
		w.ids = append(w.ids, x.id)
		if obs != nil {
			w.refs = append(w.refs, event.Ref{OrderID: x.orderID, Version: x.version})
		}
	}
	if obs != nil {
		obs.Observe(event.StageClaimed, time.Now(), w.refs)
	}
	if h := r.cfg.Hooks.BeforePublish; h != nil {
		if err := h(ctx, w.ids); err != nil {
			return r.crashed(fmt.Errorf("relay: crashed before publishing %d rows: %w", len(w.rows), err))
		}
	}
	clear(w.msgs) // drop the previous batch's payloads
	w.msgs = w.msgs[:0]
	dups := 0
	dupOn := r.cfg.Hooks.DuplicatesOn == nil || r.cfg.Hooks.DuplicatesOn()
	for _, x := range w.rows {
		m := Message{ID: x.id, Key: event.AppendKey(nil, x.orderID), Value: x.payload, Ref: event.Ref{OrderID: x.orderID, Version: x.version}}
		w.msgs = append(w.msgs, m)
		if dupOn && r.duplicate(x.id) {
			w.msgs = append(w.msgs, m)
			dups++
		}
	}
	if err := r.pub.Publish(ctx, w.msgs); err != nil {
		r.c.publishErrors.Add(1)
		return fmt.Errorf("relay: publish %d messages (the rows stay in the outbox): %w", len(w.msgs), err)
	}
	r.c.published.Add(int64(len(w.msgs)))
	var size int64
	for _, m := range w.msgs {
		size += int64(len(m.Key) + len(m.Value))
	}
	r.c.publishedBytes.Add(size)
	r.c.duplicated.Add(int64(dups))
	if obs != nil {
		obs.Observe(event.StageConfirmed, time.Now(), w.refs)
	}
	if h := r.cfg.Hooks.AfterConfirm; h != nil {
		if err := h(ctx, w.ids); err != nil {
			return r.crashed(fmt.Errorf("relay: crashed after the confirmation of %d rows: %w", len(w.rows), err))
		}
	}
	return nil
}

// crashed counts a simulated crash a hook returned (err wraps the hook's
// error) and returns err, matching ErrCrash.
func (r *Relay) crashed(err error) error {
	r.c.crashes.Add(1)
	if !errors.Is(err, ErrCrash) {
		err = fmt.Errorf("%w: %w", ErrCrash, err)
	}
	return err
}

// retry counts a claimed batch that was not relayed: its rows will be
// claimed and published again.
func (r *Relay) retry(w *worker) {
	r.c.retries.Add(1)
	r.c.retriedRows.Add(int64(len(w.rows)))
}

// done counts a relayed batch and wakes WaitPublished.
func (r *Relay) done(w *worker) {
	r.c.relayed.Add(int64(len(w.rows)))
	r.c.batches.Add(1)
	r.progress.Notify()
}

// duplicate reports whether the event of outbox row id is published twice.
func (r *Relay) duplicate(id int64) bool {
	if r.dupAll {
		return true
	}
	return r.dupBelow != 0 && uint64(id)*0x9e3779b97f4a7c15 < r.dupBelow
}

// WaitPublished returns once every outbox row with an id up to upto that is
// committed has been published (skip-locked: no such row is left in the
// outbox; naive-cursor: the cursor passed upto, whatever it skipped). It
// checks on every relayed batch, and every poll interval for relays in
// other processes.
func (r *Relay) WaitPublished(ctx context.Context, upto int64) error {
	tick := time.NewTicker(r.cfg.PollInterval)
	defer tick.Stop()
	for {
		changed := r.progress.C()
		done, err := r.published(ctx, upto)
		if err != nil {
			return err
		}
		if done {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for the relays to publish outbox rows up to id %d: %w", upto, ctx.Err())
		case <-changed:
		case <-tick.C:
		}
	}
}

func (r *Relay) published(ctx context.Context, upto int64) (bool, error) {
	if r.cfg.Mode == ModeNaiveCursor {
		return r.position.Load() >= upto, nil
	}
	var pending bool
	if err := r.pool.QueryRow(ctx, r.pending, upto).Scan(&pending); err != nil {
		return false, fmt.Errorf("check the outbox: %w", err)
	}
	return !pending, nil
}

// Position returns the naive cursor: the highest outbox id published (0 in
// skip-locked mode).
func (r *Relay) Position() int64 { return r.position.Load() }

func (r *Relay) report(err error) {
	if r.cfg.OnError != nil {
		r.cfg.OnError(err)
	}
}
