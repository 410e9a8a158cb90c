package apply

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
	"github.com/cqrsbench/cqrsbench/reference/readmodel"
)

// inboxSQL records the batch's events for consumer $1 and returns those
// not recorded before; a key twice in the batch is returned once. The keys
// come sorted, so concurrent transactions wait for each other's keys in
// one order and cannot deadlock.
const inboxSQL = `
INSERT INTO {{schema}}.inbox (consumer, order_id, version)
SELECT $1, t.order_id, t.version FROM unnest($2::bigint[], $3::int[]) AS t(order_id, version)
ON CONFLICT DO NOTHING
RETURNING order_id, version`

// upsertSQL writes the latest state of each order of the batch unless the
// row already reflects that version or a later one ({{guard}}). Columns
// that never change (customer, number, creation time: all indexed) are not
// updated, keeping the update HOT.
const upsertSQL = `
INSERT INTO {{schema}}.order_read_model AS r
    (order_id, customer_id, number, created_at, status, status_label, total_cents, item_count, first_image_url, version)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::timestamptz[], $5::text[], $6::text[],
                     $7::bigint[], $8::bigint[], $9::text[], $10::int[])
ON CONFLICT (order_id) DO UPDATE SET
    status = excluded.status, status_label = excluded.status_label, total_cents = excluded.total_cents,
    item_count = excluded.item_count, first_image_url = excluded.first_image_url, version = excluded.version,
    applied_at = clock_timestamp()`

// versionGuard keeps upsertSQL from moving a row back to an older version.
const versionGuard = `
WHERE excluded.version > r.version`

// salesSQL adds the batch's net changes to daily_sales. Not version
// guarded: deltas commute, so events of one order applied in any order sum
// up right, and only the inbox keeps a duplicate from counting twice.
const salesSQL = `
INSERT INTO {{schema}}.daily_sales AS d (day, status, label, orders, revenue_cents)
SELECT * FROM unnest($1::date[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])
ON CONFLICT (day, status) DO UPDATE SET
    orders = d.orders + excluded.orders, revenue_cents = d.revenue_cents + excluded.revenue_cents`

// Beginner starts transactions: *pgxpool.Pool and *pgx.Conn satisfy it.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// Counters are what an Applier did since New.
type Counters struct {
	// Applied is events applied to the read models.
	Applied int64
	// Duplicates is events the inbox suppressed (delivered before).
	Duplicates int64
	// Batches is read-model transactions committed.
	Batches int64
	// Retries is transactions run again after a serialization failure or
	// a deadlock (concurrent Apply calls on the same rows).
	Retries int64
	// DBErrors is Apply calls that failed on the database (nothing
	// applied; the caller retries).
	DBErrors int64
	// Crashes is simulated crashes (hook errors).
	Crashes int64
}

type counters struct {
	applied, duplicates, batches, retries, dbErrors, crashes atomic.Int64
}

// Applier applies order events to the flat read models: the projection
// core every transport's consumer shares. It is safe for concurrent use.
type Applier struct {
	cfg                  Config
	inbox, upsert, sales string
	c                    counters
	bufs                 sync.Pool // *batch
}

// New returns an Applier for cfg.
func New(cfg Config) (*Applier, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("projector config: %w", err)
	}
	cfg = cfg.WithDefaults()
	upsert := upsertSQL
	if !cfg.DisableVersionGuard {
		upsert += versionGuard
	}
	return &Applier{
		cfg:   cfg,
		inbox: readmodel.Expand(inboxSQL, cfg.Schema), upsert: readmodel.Expand(upsert, cfg.Schema),
		sales: readmodel.Expand(salesSQL, cfg.Schema),
		bufs:  sync.Pool{New: func() any { return new(batch) }},
	}, nil
}

// Config returns the configuration in use, defaults applied.
func (a *Applier) Config() Config { return a.cfg }

// Counters returns what the Applier did so far.
func (a *Applier) Counters() Counters {
	return Counters{
		Applied: a.c.applied.Load(), Duplicates: a.c.duplicates.Load(), Batches: a.c.batches.Load(),
		Retries: a.c.retries.Load(), DBErrors: a.c.dbErrors.Load(), Crashes: a.c.crashes.Load(),
	}
}

// Apply applies events in one transaction begun on db and returns what it
// did; on error nothing was applied, except after a crash simulated by
// Hooks.AfterDBCommit (an error matching ErrCrash with the committed
// Batch). Events may be in any order and hold duplicates; concurrent calls
// may apply events of the same orders, or the same events: a transaction
// that fails with a serialization failure or a deadlock is run again, at
// most Config.MaxRetries times. After the commit the events are reported
// to the Observer at StageApplied. Apply does not modify events.
func (a *Applier) Apply(ctx context.Context, db Beginner, events []event.OrderEvent) (Batch, error) {
	info := Batch{Events: len(events)}
	if len(events) == 0 {
		return info, nil
	}
	b := a.bufs.Get().(*batch)
	defer func() {
		b.events = nil // the caller's
		a.bufs.Put(b)
	}()
	b.prepare(events, a.cfg.DisableInbox)
	for attempt := 0; ; attempt++ {
		var err error
		info, err = a.transact(ctx, db, b)
		if err == nil {
			break
		}
		if errors.Is(err, ErrCrash) {
			a.c.crashes.Add(1)
			return info, err
		}
		if retryable(err) && attempt < a.cfg.MaxRetries && ctx.Err() == nil {
			a.c.retries.Add(1)
			continue
		}
		a.c.dbErrors.Add(1)
		return Batch{Events: len(events)}, err
	}
	a.c.applied.Add(int64(info.Applied))
	a.c.duplicates.Add(int64(info.Duplicates))
	a.c.batches.Add(1)
	if obs := a.cfg.Observer; obs != nil {
		b.refs = b.refs[:0]
		for i := range events {
			b.refs = append(b.refs, events[i].Ref())
		}
		obs.Observe(event.StageApplied, time.Now(), b.refs)
	}
	if h := a.cfg.Hooks.AfterDBCommit; h != nil {
		if err := h(ctx, info); err != nil {
			a.c.crashes.Add(1)
			return info, fmt.Errorf("projector: crashed after the commit of %d events: %w", len(events), asCrash(err))
		}
	}
	return info, nil
}

// retryable reports whether err is a transaction conflict that succeeds
// when run again: serialization_failure or deadlock_detected.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}

// transact runs the batch's one read-model transaction.
func (a *Applier) transact(ctx context.Context, db Beginner, b *batch) (Batch, error) {
	info := Batch{Events: len(b.events)}
	tx, err := db.Begin(ctx)
	if err != nil {
		return info, fmt.Errorf("projector: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit it is a no-op

	b.fresh = b.fresh[:0]
	if a.cfg.DisableInbox {
		for i := range b.events {
			b.fresh = append(b.fresh, i)
		}
	} else if err := a.filterInbox(ctx, tx, b); err != nil {
		return info, err
	}
	info.Applied, info.Duplicates = len(b.fresh), len(b.events)-len(b.fresh)

	b.buildUpsert()
	b.buildSales()
	pb := &pgx.Batch{}
	if len(b.rm.ids) > 0 {
		rm := &b.rm
		pb.Queue(a.upsert, rm.ids, rm.customers, rm.numbers, rm.created, rm.statuses, rm.labels,
			rm.totals, rm.items, rm.images, rm.versions)
	}
	if len(b.skeys) > 0 {
		days := make([]time.Time, len(b.skeys))
		statuses, labels := make([]string, len(b.skeys)), make([]string, len(b.skeys))
		orders, revenue := make([]int64, len(b.skeys)), make([]int64, len(b.skeys))
		for i, k := range b.skeys {
			d := b.sales[k]
			days[i] = time.Unix(k.day*86400, 0).UTC()
			statuses[i], labels[i] = string(k.status), k.status.Label()
			orders[i], revenue[i] = d.orders, d.revenue
		}
		pb.Queue(a.sales, days, statuses, labels, orders, revenue)
	}
	if pb.Len() > 0 {
		if err := tx.SendBatch(ctx, pb).Close(); err != nil {
			return info, fmt.Errorf("projector: apply %d events: %w", len(b.fresh), err)
		}
	}
	if h := a.cfg.Hooks.BeforeDBCommit; h != nil {
		if err := h(ctx, info); err != nil {
			return info, fmt.Errorf("projector: crashed before the commit of %d events: %w", len(b.events), asCrash(err))
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return info, fmt.Errorf("projector: commit %d events: %w", len(b.fresh), err)
	}
	return info, nil
}

// batch holds the reusable buffers of one Apply.
type batch struct {
	events []event.OrderEvent // the caller's, during Apply
	byRef  []int              // indices into events, by (order id, version)
	fresh  []int              // indices into events of events to apply
	refs   []event.Ref

	inboxIDs  []int64
	inboxVers []int32
	returned  map[event.Ref]int

	latest map[int64]int // order → index into events of its latest version
	order  []int         // indices of events to upsert, by order id

	rm    rmArrays
	sales map[saleKey]*saleDelta
	skeys []saleKey
}

type rmArrays struct {
	ids, customers, totals, items []int64
	numbers, statuses, labels     []string
	images                        []string
	created                       []time.Time
	versions                      []int32
}

// saleKey is a daily_sales row: day (days since the Unix epoch, UTC) and
// status.
type saleKey struct {
	day    int64
	status domain.Status
}

type saleDelta struct{ orders, revenue int64 }

// prepare takes the events of one Apply and, unless the inbox is
// disabled, orders their inbox keys.
func (b *batch) prepare(events []event.OrderEvent, noInbox bool) {
	b.events = events
	if noInbox {
		return
	}
	b.byRef = b.byRef[:0]
	for i := range events {
		b.byRef = append(b.byRef, i)
	}
	slices.SortFunc(b.byRef, func(i, j int) int {
		x, y := &events[i], &events[j]
		return cmp.Or(cmp.Compare(x.OrderID, y.OrderID), cmp.Compare(x.Version, y.Version))
	})
	b.inboxIDs, b.inboxVers = b.inboxIDs[:0], b.inboxVers[:0]
	for _, i := range b.byRef {
		b.inboxIDs = append(b.inboxIDs, events[i].OrderID)
		b.inboxVers = append(b.inboxVers, events[i].Version)
	}
}

// filterInbox inserts the batch's event ids into the inbox, in key order,
// and keeps in b.fresh the events not seen before (the first of several
// copies in the batch).
func (a *Applier) filterInbox(ctx context.Context, tx pgx.Tx, b *batch) error {
	rows, err := tx.Query(ctx, a.inbox, a.cfg.Consumer, b.inboxIDs, b.inboxVers)
	if err != nil {
		return fmt.Errorf("projector: inbox insert of %d events: %w", len(b.events), err)
	}
	if b.returned == nil {
		b.returned = make(map[event.Ref]int, len(b.events))
	}
	clear(b.returned)
	var ref event.Ref
	_, err = pgx.ForEachRow(rows, []any{&ref.OrderID, &ref.Version}, func() error {
		b.returned[ref]++
		return nil
	})
	if err != nil {
		return fmt.Errorf("projector: inbox insert of %d events: %w", len(b.events), err)
	}
	for i := range b.events {
		ref := b.events[i].Ref()
		if b.returned[ref] > 0 {
			b.returned[ref]--
			b.fresh = append(b.fresh, i)
		}
	}
	return nil
}

// buildUpsert fills b.rm with the latest fresh version of each order, in
// order id order (a stable lock order).
func (b *batch) buildUpsert() {
	if b.latest == nil {
		b.latest = make(map[int64]int, len(b.fresh))
	}
	clear(b.latest)
	for _, i := range b.fresh {
		e := &b.events[i]
		if j, ok := b.latest[e.OrderID]; !ok || b.events[j].Version < e.Version {
			b.latest[e.OrderID] = i
		}
	}
	b.order = b.order[:0]
	for _, i := range b.latest {
		b.order = append(b.order, i)
	}
	slices.SortFunc(b.order, func(i, j int) int { return cmp.Compare(b.events[i].OrderID, b.events[j].OrderID) })
	rm := &b.rm
	rm.ids, rm.customers, rm.totals, rm.items = rm.ids[:0], rm.customers[:0], rm.totals[:0], rm.items[:0]
	rm.numbers, rm.statuses, rm.labels, rm.images = rm.numbers[:0], rm.statuses[:0], rm.labels[:0], rm.images[:0]
	rm.created, rm.versions = rm.created[:0], rm.versions[:0]
	for _, i := range b.order {
		e := &b.events[i]
		rm.ids, rm.customers = append(rm.ids, e.OrderID), append(rm.customers, e.CustomerID)
		rm.totals, rm.items = append(rm.totals, e.TotalCents), append(rm.items, e.ItemCount)
		rm.numbers, rm.statuses = append(rm.numbers, e.Number), append(rm.statuses, string(e.Status))
		rm.labels, rm.images = append(rm.labels, e.StatusLabel), append(rm.images, e.FirstImageURL)
		rm.created, rm.versions = append(rm.created, e.CreatedAt), append(rm.versions, e.Version)
	}
}

// buildSales nets the fresh events' daily_sales changes per (day, status),
// in key order (a stable lock order): each event moves its order from
// (PrevStatus, PrevTotalCents) to (Status, TotalCents) on its creation
// day.
func (b *batch) buildSales() {
	if b.sales == nil {
		b.sales = map[saleKey]*saleDelta{}
	}
	clear(b.sales)
	add := func(k saleKey, orders, revenue int64) {
		d := b.sales[k]
		if d == nil {
			d = &saleDelta{}
			b.sales[k] = d
		}
		d.orders += orders
		d.revenue += revenue
	}
	for _, i := range b.fresh {
		e := &b.events[i]
		day := floorDiv(e.CreatedAt.Unix(), 86400)
		if e.PrevStatus != "" {
			add(saleKey{day, e.PrevStatus}, -1, -e.PrevTotalCents)
		}
		add(saleKey{day, e.Status}, 1, e.TotalCents)
	}
	b.skeys = b.skeys[:0]
	for k, d := range b.sales {
		if d.orders != 0 || d.revenue != 0 {
			b.skeys = append(b.skeys, k)
		}
	}
	slices.SortFunc(b.skeys, func(x, y saleKey) int {
		return cmp.Or(cmp.Compare(x.day, y.day), strings.Compare(string(x.status), string(y.status)))
	})
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && a < 0 {
		q--
	}
	return q
}

// asCrash makes a hook's error match ErrCrash.
func asCrash(err error) error {
	if errors.Is(err, ErrCrash) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrCrash, err)
}
