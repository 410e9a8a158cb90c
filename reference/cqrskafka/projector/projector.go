package projector

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/reference/cqrskafka/event"
	"github.com/cqrsbench/cqrsbench/reference/cqrskafka/internal/signal"
	"github.com/cqrsbench/cqrsbench/reference/domain"
)

// inboxSQL records the batch's events for consumer $1 and returns those
// not recorded before; a key twice in the batch is returned once.
const inboxSQL = `
INSERT INTO {{schema}}.inbox (consumer, order_id, version)
SELECT $1, t.order_id, t.version FROM unnest($2::bigint[], $3::int[]) AS t(order_id, version)
ON CONFLICT DO NOTHING
RETURNING order_id, version`

// upsertSQL writes the latest state of each order of the batch unless the
// row already reflects that version or a later one. Columns that never
// change (customer, number, creation time: all indexed) are not updated,
// keeping the update HOT.
const upsertSQL = `
INSERT INTO {{schema}}.order_read_model AS r
    (order_id, customer_id, number, created_at, status, status_label, total_cents, item_count, first_image_url, version)
SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::timestamptz[], $5::text[], $6::text[],
                     $7::bigint[], $8::bigint[], $9::text[], $10::int[])
ON CONFLICT (order_id) DO UPDATE SET
    status = excluded.status, status_label = excluded.status_label, total_cents = excluded.total_cents,
    item_count = excluded.item_count, first_image_url = excluded.first_image_url, version = excluded.version,
    applied_at = clock_timestamp()
WHERE excluded.version > r.version`

// salesSQL adds the batch's net changes to daily_sales. Not version
// guarded: deltas commute, so events of one order applied in any order sum
// up right, and only the inbox keeps a duplicate from counting twice.
const salesSQL = `
INSERT INTO {{schema}}.daily_sales AS d (day, status, label, orders, revenue_cents)
SELECT * FROM unnest($1::date[], $2::text[], $3::text[], $4::bigint[], $5::bigint[])
ON CONFLICT (day, status) DO UPDATE SET
    orders = d.orders + excluded.orders, revenue_cents = d.revenue_cents + excluded.revenue_cents`

// retryDelay is how long the projector waits before retrying a failed
// database transaction or dead-letter produce.
const retryDelay = 200 * time.Millisecond

// Counters are what a projector did since New.
type Counters struct {
	// Delivered is records received, redeliveries and undecodable ones
	// included.
	Delivered int64
	// Applied is events applied to the read models.
	Applied int64
	// Duplicates is events the inbox suppressed (delivered before).
	Duplicates int64
	// DeadLettered is undecodable records sent to the dead-letter topic.
	DeadLettered int64
	// Batches is read-model transactions committed.
	Batches int64
	// DBErrors is failed read-model transactions (retried).
	DBErrors int64
	// CommitErrors is failed offset commits (the records may be delivered
	// again; the inbox suppresses them).
	CommitErrors int64
	// FetchErrors is errors reported by polls (retried by the client).
	FetchErrors int64
	// DeadLetterErrors is failed produces to the dead-letter topic
	// (retried).
	DeadLetterErrors int64
	// Crashes is simulated crashes (hook errors).
	Crashes int64
	// Runs is group memberships started (Run calls).
	Runs int64
}

type counters struct {
	delivered, applied, duplicates, deadLettered, batches atomic.Int64
	dbErrors, commitErrors, fetchErrors, dlqErrors        atomic.Int64
	crashes, runs                                         atomic.Int64
}

// Projector applies the events of a topic to the flat read models.
type Projector struct {
	cfg                  Config
	pool                 *pgxpool.Pool
	clientOpts           []kgo.Opt
	inbox, upsert, sales string
	c                    counters
	progress             signal.Broadcast
	mu                   sync.Mutex
	positions            map[int32]int64 // partition → next offset applied
	running              atomic.Bool
}

// New returns a projector whose Kafka clients are built from clientOpts
// (seed brokers, TLS, ...) plus the consumer-group options it sets itself.
func New(pool *pgxpool.Pool, clientOpts []kgo.Opt, cfg Config) (*Projector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("projector config: %w", err)
	}
	cfg = cfg.WithDefaults()
	q := pgx.Identifier{cfg.Schema}.Sanitize()
	expand := func(s string) string { return strings.ReplaceAll(s, "{{schema}}", q) }
	return &Projector{
		cfg: cfg, pool: pool, clientOpts: slices.Clone(clientOpts),
		inbox: expand(inboxSQL), upsert: expand(upsertSQL), sales: expand(salesSQL),
		positions: map[int32]int64{},
	}, nil
}

// Config returns the configuration in use, defaults applied.
func (p *Projector) Config() Config { return p.cfg }

// Counters returns what the projector did so far.
func (p *Projector) Counters() Counters {
	return Counters{
		Delivered: p.c.delivered.Load(), Applied: p.c.applied.Load(), Duplicates: p.c.duplicates.Load(),
		DeadLettered: p.c.deadLettered.Load(), Batches: p.c.batches.Load(), DBErrors: p.c.dbErrors.Load(),
		CommitErrors: p.c.commitErrors.Load(), FetchErrors: p.c.fetchErrors.Load(),
		DeadLetterErrors: p.c.dlqErrors.Load(), Crashes: p.c.crashes.Load(), Runs: p.c.runs.Load(),
	}
}

// Positions returns, per partition of the topic, the offset after the last
// record whose batch this projector applied (committed to the database).
func (p *Projector) Positions() map[int32]int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.positions)
}

// ResetPositions forgets the positions, for a replay from earlier offsets.
func (p *Projector) ResetPositions() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.positions)
}

// Changed returns a channel closed when the next batch has been applied.
func (p *Projector) Changed() <-chan struct{} { return p.progress.C() }

// Run joins the consumer group with a new client and applies what it
// polls until ctx is done (it returns nil then) or a hook simulates a crash
// (it returns an error matching ErrCrash, having left the group without
// committing the offsets of the crashed batch). Database failures are
// retried; Run may be called again after it returned, as a restarted
// projector process would.
func (p *Projector) Run(ctx context.Context) error {
	if !p.running.CompareAndSwap(false, true) {
		return errors.New("projector: Run called while running")
	}
	defer p.running.Store(false)
	p.c.runs.Add(1)
	r := &run{p: p}
	opts := append(slices.Clone(p.clientOpts),
		kgo.ConsumerGroup(p.cfg.Group),
		kgo.ConsumeTopics(p.cfg.Topic),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		// Only from committed offsets (Setup and Rebuild commit them): a
		// partition without one is refused, not replayed from the start.
		kgo.ConsumeResetOffset(kgo.NewOffset().AtCommitted()),
		kgo.OnPartitionsRevoked(r.revoked),
		kgo.OnPartitionsLost(func(context.Context, *kgo.Client, map[string][]int32) {}), // commits would fail
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("projector: kafka client: %w", err)
	}
	r.cl = cl
	defer cl.CloseAllowingRebalance()
	for {
		fetches := cl.PollRecords(ctx, p.cfg.MaxPollRecords)
		if ctx.Err() != nil || fetches.IsClientClosed() {
			return nil
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			p.c.fetchErrors.Add(1)
			// franz-go does not export this error; its text is stable.
			if strings.Contains(err.Error(), "no prior committed offset") {
				err = fmt.Errorf("%w: the group lost its offsets (expired or deleted); the partition is not replayed from the start, "+
					"which would apply the snapshot events again, outside the inbox: rebuild the read models", err)
			}
			p.report(fmt.Errorf("projector: fetch %s[%d]: %w", topic, partition, err))
		})
		if recs := fetches.Records(); len(recs) > 0 {
			if err := r.handle(ctx, recs); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
		cl.AllowRebalance()
	}
}

// run is one group membership.
type run struct {
	p       *Projector
	cl      *kgo.Client
	crashed atomic.Bool
	b       batch

	mu          sync.Mutex
	uncommitted []*kgo.Record // applied, offsets not committed yet
}

// revoked commits what was applied, unless the member crashed.
func (r *run) revoked(ctx context.Context, cl *kgo.Client, _ map[string][]int32) {
	if r.crashed.Load() {
		return
	}
	r.mu.Lock()
	recs := r.uncommitted
	r.mu.Unlock()
	if len(recs) == 0 {
		return
	}
	if err := cl.CommitRecords(ctx, recs...); err != nil {
		r.p.c.commitErrors.Add(1)
		r.p.report(fmt.Errorf("projector: commit on revoke: %w", err))
		return
	}
	r.mu.Lock()
	r.uncommitted = nil
	r.mu.Unlock()
}

// batch holds the reusable buffers of one poll's processing.
type batch struct {
	events  []event.OrderEvent
	fresh   []int   // indices into events of events to apply
	errs    []error // per record of the poll, from decode
	dead    []*kgo.Record
	reasons []error
	refs    []event.Ref

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

// handle processes one poll: decode, dead-letter, apply, commit offsets.
func (r *run) handle(ctx context.Context, recs []*kgo.Record) error {
	p, b := r.p, &r.b
	polled := time.Now()
	p.c.delivered.Add(int64(len(recs)))
	b.decode(recs)
	obs := p.cfg.Observer
	if obs != nil {
		b.refs = b.refs[:0]
		for i := range b.events {
			b.refs = append(b.refs, b.events[i].Ref())
		}
		obs.Observe(event.StageConsumed, polled, b.refs)
	}
	if len(b.dead) > 0 {
		if err := r.deadLetter(ctx); err != nil {
			return err
		}
	}
	var info Batch
	for {
		var err error
		info, err = r.apply(ctx)
		if err == nil {
			break
		}
		if errors.Is(err, ErrCrash) {
			r.crashed.Store(true)
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.c.dbErrors.Add(1)
		p.report(err)
		if !signal.Sleep(ctx, retryDelay) {
			return ctx.Err()
		}
	}
	info.Records, info.DeadLettered = len(recs), len(b.dead)
	p.c.applied.Add(int64(info.Applied))
	p.c.duplicates.Add(int64(info.Duplicates))
	p.c.deadLettered.Add(int64(info.DeadLettered))
	p.c.batches.Add(1)
	if h := p.cfg.Hooks.AfterDBCommit; h != nil {
		if err := h(ctx, info); err != nil {
			r.crashed.Store(true)
			p.c.crashes.Add(1)
			return fmt.Errorf("projector: crashed after the commit of %d events: %w", len(recs), asCrash(err))
		}
	}

	p.mu.Lock()
	for _, rec := range recs {
		if rec.Topic == p.cfg.Topic {
			p.positions[rec.Partition] = max(p.positions[rec.Partition], rec.Offset+1)
		}
	}
	p.mu.Unlock()
	r.mu.Lock()
	r.uncommitted = recs
	r.mu.Unlock()
	p.progress.Notify()
	if obs != nil {
		obs.Observe(event.StageApplied, time.Now(), b.refs)
	}

	if err := r.cl.CommitRecords(ctx, recs...); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.c.commitErrors.Add(1)
		p.report(fmt.Errorf("projector: commit offsets (the batch may be delivered again): %w", err))
		return nil
	}
	r.mu.Lock()
	r.uncommitted = nil
	r.mu.Unlock()
	return nil
}

// parallelDecodeMin is the smallest poll decoded on several goroutines.
const parallelDecodeMin = 2048

// decode decodes recs into b.events, and the undecodable ones into b.dead
// and b.reasons, keeping the records' order. Large polls (a backlog) are
// decoded on GOMAXPROCS goroutines: decoding is a fifth of a projector's
// time, spent while the database waits.
func (b *batch) decode(recs []*kgo.Record) {
	b.events = slices.Grow(b.events[:0], len(recs))[:len(recs)]
	b.errs = slices.Grow(b.errs[:0], len(recs))[:len(recs)]
	decodeRange := func(lo, hi int) {
		for i := lo; i < hi; i++ {
			b.errs[i] = event.Decode(recs[i].Value, &b.events[i])
		}
	}
	if workers := runtime.GOMAXPROCS(0); workers > 1 && len(recs) >= parallelDecodeMin {
		var wg sync.WaitGroup
		per := (len(recs) + workers - 1) / workers
		for lo := 0; lo < len(recs); lo += per {
			wg.Go(func() { decodeRange(lo, min(lo+per, len(recs))) })
		}
		wg.Wait()
	} else {
		decodeRange(0, len(recs))
	}
	b.dead, b.reasons = b.dead[:0], b.reasons[:0]
	n := 0
	for i, err := range b.errs {
		if err != nil {
			b.dead, b.reasons = append(b.dead, recs[i]), append(b.reasons, err)
			continue
		}
		b.events[n] = b.events[i]
		n++
	}
	b.events = b.events[:n]
}

// deadLetter produces the undecodable records to the dead-letter topic,
// retrying until the broker acknowledges them.
func (r *run) deadLetter(ctx context.Context) error {
	p, b := r.p, &r.b
	recs := make([]*kgo.Record, len(b.dead))
	for i, rec := range b.dead {
		recs[i] = &kgo.Record{
			Topic: p.cfg.DeadLetterTopic, Key: rec.Key, Value: rec.Value,
			Headers: append(slices.Clone(rec.Headers),
				kgo.RecordHeader{Key: "cqrsbench-error", Value: []byte(b.reasons[i].Error())},
				kgo.RecordHeader{Key: "cqrsbench-source", Value: fmt.Appendf(nil, "%s/%d/%d", rec.Topic, rec.Partition, rec.Offset)},
			),
		}
	}
	for {
		err := r.cl.ProduceSync(ctx, recs...).FirstErr()
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.c.dlqErrors.Add(1)
		p.report(fmt.Errorf("projector: produce %d records to dead-letter topic %s: %w", len(recs), p.cfg.DeadLetterTopic, err))
		if !signal.Sleep(ctx, retryDelay) {
			return ctx.Err()
		}
	}
}

// apply runs the batch's one read-model transaction.
func (r *run) apply(ctx context.Context) (Batch, error) {
	p, b := r.p, &r.b
	var info Batch
	if len(b.events) == 0 {
		return info, nil
	}
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return info, fmt.Errorf("projector: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after Commit it is a no-op

	b.fresh = b.fresh[:0]
	if p.cfg.DisableInbox {
		for i := range b.events {
			b.fresh = append(b.fresh, i)
		}
	} else if err := r.filterInbox(ctx, tx); err != nil {
		return info, err
	}
	info.Applied, info.Duplicates = len(b.fresh), len(b.events)-len(b.fresh)

	r.buildUpsert()
	r.buildSales()
	pb := &pgx.Batch{}
	if len(b.rm.ids) > 0 {
		pb.Queue(p.upsert, b.rm.ids, b.rm.customers, b.rm.numbers, b.rm.created, b.rm.statuses, b.rm.labels,
			b.rm.totals, b.rm.items, b.rm.images, b.rm.versions)
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
		pb.Queue(p.sales, days, statuses, labels, orders, revenue)
	}
	if pb.Len() > 0 {
		if err := tx.SendBatch(ctx, pb).Close(); err != nil {
			return info, fmt.Errorf("projector: apply %d events: %w", len(b.fresh), err)
		}
	}
	if h := p.cfg.Hooks.BeforeDBCommit; h != nil {
		if err := h(ctx, info); err != nil {
			p.c.crashes.Add(1)
			return info, fmt.Errorf("projector: crashed before the commit of %d events: %w", len(b.events), asCrash(err))
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return info, fmt.Errorf("projector: commit %d events: %w", len(b.fresh), err)
	}
	return info, nil
}

// filterInbox inserts the batch's event ids into the inbox and keeps in
// b.fresh the events not seen before (the first of several copies in the
// batch).
func (r *run) filterInbox(ctx context.Context, tx pgx.Tx) error {
	p, b := r.p, &r.b
	b.inboxIDs, b.inboxVers = b.inboxIDs[:0], b.inboxVers[:0]
	for i := range b.events {
		b.inboxIDs = append(b.inboxIDs, b.events[i].OrderID)
		b.inboxVers = append(b.inboxVers, b.events[i].Version)
	}
	rows, err := tx.Query(ctx, p.inbox, p.cfg.Consumer, b.inboxIDs, b.inboxVers)
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
func (r *run) buildUpsert() {
	b := &r.b
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

// buildSales nets the fresh events' daily_sales changes per (day, status):
// each event moves its order from (PrevStatus, PrevTotalCents) to (Status,
// TotalCents) on its creation day.
func (r *run) buildSales() {
	b := &r.b
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

func (p *Projector) report(err error) {
	if p.cfg.OnError != nil {
		p.cfg.OnError(err)
	}
}
