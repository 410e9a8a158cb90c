package projector

import (
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

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/cqrsbench/cqrsbench/reference/internal/signal"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/apply"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
)

// retryDelay is how long the projector waits before retrying a failed
// database transaction or dead-letter produce.
const retryDelay = 200 * time.Millisecond

// commitInterval is how often the offsets of applied records are committed,
// in the background. A commit in the poll loop, after every poll, cost a
// round trip to the group coordinator before the next poll: records that
// arrived meanwhile waited for it (a trickle of small polls — the WAL
// relay at 200 ops/s — waited 7.8 ms at p50 between Kafka's ack and the
// projector's poll, against 0.07 ms without it). Committing later only
// means more records are delivered again after a crash; the inbox
// suppresses them.
const commitInterval = 100 * time.Millisecond

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
	// DBErrors is failed read-model transactions (retried): the
	// Handler's errors other than crashes.
	DBErrors int64
	// Retries is read-model transactions run again at once after a
	// serialization failure or a deadlock (apply.Counters.Retries).
	Retries int64
	// CommitErrors is failed offset commits (the records may be delivered
	// again; the inbox suppresses them).
	CommitErrors int64
	// FetchErrors is errors reported by polls (retried by the client).
	FetchErrors int64
	// DeadLetterErrors is failed produces to the dead-letter topic
	// (retried).
	DeadLetterErrors int64
	// Crashes is simulated crashes (Handler errors matching
	// apply.ErrCrash: the hooks').
	Crashes int64
	// Runs is group memberships started (Run calls).
	Runs int64
}

type counters struct {
	delivered, deadLettered, commitErrors, fetchErrors, dlqErrors, runs atomic.Int64
	handlerErrors, crashes                                              atomic.Int64
}

// Projector applies the events of a topic to read models: the flat read
// models of the shop with the projection core, or those of its Handler.
type Projector struct {
	cfg        Config
	pool       *pgxpool.Pool
	clientOpts []kgo.Opt
	handle     Handler
	applier    *apply.Applier // the shop's core; nil with a Handler
	orders     batch          // the shop's decode buffers
	c          counters
	progress   signal.Broadcast
	mu         sync.Mutex
	positions  map[int32]int64 // partition → next offset applied
	running    atomic.Bool
}

// New returns a projector whose Kafka clients are built from clientOpts
// (seed brokers, TLS, ...) plus the consumer-group options it sets itself.
// Without cfg.Handler it applies the shop's order events on pool with the
// projection core; with one, pool is unused (nil is fine).
func New(pool *pgxpool.Pool, clientOpts []kgo.Opt, cfg Config) (*Projector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("projector config: %w", err)
	}
	cfg = cfg.WithDefaults()
	p := &Projector{cfg: cfg, pool: pool, clientOpts: slices.Clone(clientOpts), handle: cfg.Handler, positions: map[int32]int64{}}
	if p.handle == nil {
		var err error
		if p.applier, err = apply.New(cfg.Apply); err != nil {
			return nil, err
		}
		p.handle = p.applyOrders
	}
	return p, nil
}

// Config returns the configuration in use, defaults applied (those of
// Config.Apply too).
func (p *Projector) Config() Config {
	c := p.cfg
	if p.applier != nil {
		c.Apply = p.applier.Config()
	}
	return c
}

// Counters returns what the projector did so far. With a Handler, Applied,
// Duplicates, Batches and Retries are the Handler's to count (zero here).
func (p *Projector) Counters() Counters {
	c := Counters{
		Delivered: p.c.delivered.Load(), DeadLettered: p.c.deadLettered.Load(), DBErrors: p.c.handlerErrors.Load(),
		CommitErrors: p.c.commitErrors.Load(), FetchErrors: p.c.fetchErrors.Load(),
		DeadLetterErrors: p.c.dlqErrors.Load(), Crashes: p.c.crashes.Load(), Runs: p.c.runs.Load(),
	}
	if p.applier != nil {
		a := p.applier.Counters()
		c.Applied, c.Duplicates, c.Batches, c.DBErrors, c.Retries = a.Applied, a.Duplicates, a.Batches, a.DBErrors, a.Retries
	}
	return c
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
// (it returns an error matching apply.ErrCrash, having left the group without
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
		// Commit only what handle marked as applied, every
		// commitInterval, off the poll loop.
		kgo.AutoCommitMarks(),
		kgo.AutoCommitInterval(commitInterval),
		kgo.AutoCommitCallback(r.autoCommitted),
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
}

// revoked commits what was applied (marked), unless the member crashed.
func (r *run) revoked(ctx context.Context, cl *kgo.Client, _ map[string][]int32) {
	if r.crashed.Load() {
		return
	}
	r.commitMarked(ctx, "on revoke")
}

// commitMarked commits the offsets of every record applied so far, and
// waits for the commit.
func (r *run) commitMarked(ctx context.Context, when string) {
	if err := r.cl.CommitMarkedOffsets(ctx); err != nil && ctx.Err() == nil {
		r.p.c.commitErrors.Add(1)
		r.p.report(fmt.Errorf("projector: commit offsets %s (records applied since the last commit may be delivered again): %w", when, err))
	}
}

// autoCommitted counts and reports a failed background commit (the next
// one commits the same offsets or later ones).
func (r *run) autoCommitted(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
	if err == nil && resp != nil {
		for _, t := range resp.Topics {
			for _, p := range t.Partitions {
				if err = kerr.ErrorForCode(p.ErrorCode); err != nil {
					break
				}
			}
		}
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		r.p.c.commitErrors.Add(1)
		r.p.report(fmt.Errorf("projector: commit offsets (records applied since the last commit may be delivered again): %w", err))
	}
}

// batch holds the reusable buffers of the shop's Handler.
type batch struct {
	events []event.OrderEvent
	errs   []error // per record of the poll, from decode
	dead   []Dead
	refs   []event.Ref
}

// applyOrders is the shop's Handler: decode, then apply with the
// projection core; records that do not decode are dead-lettered.
func (p *Projector) applyOrders(ctx context.Context, recs []*kgo.Record) ([]Dead, error) {
	b := &p.orders
	polled := time.Now()
	b.decode(recs)
	if obs := p.cfg.Apply.Observer; obs != nil {
		b.refs = b.refs[:0]
		for i := range b.events {
			b.refs = append(b.refs, b.events[i].Ref())
		}
		obs.Observe(event.StageDelivered, polled, b.refs)
	}
	if _, err := p.applier.Apply(ctx, p.pool, b.events); err != nil {
		return nil, err
	}
	return b.dead, nil
}

// handle processes one poll: the Handler (retried until it succeeds or
// crashes), the dead letters, then the offsets.
func (r *run) handle(ctx context.Context, recs []*kgo.Record) error {
	p := r.p
	p.c.delivered.Add(int64(len(recs)))
	var dead []Dead
	for {
		var err error
		if dead, err = p.handle(ctx, recs); err == nil {
			break
		}
		if errors.Is(err, apply.ErrCrash) {
			// The simulated crash loses this poll's offsets only:
			// those of the polls before it, applied and marked, are
			// committed first, so that exactly this poll is delivered
			// again (a real crash would also lose any marked since
			// the last background commit; the inbox suppresses those
			// alike).
			r.commitMarked(ctx, "before the simulated crash")
			p.c.crashes.Add(1)
			r.crashed.Store(true)
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		p.c.handlerErrors.Add(1)
		p.report(err)
		if !signal.Sleep(ctx, retryDelay) {
			return ctx.Err()
		}
	}
	if len(dead) > 0 {
		if err := r.deadLetter(ctx, dead); err != nil {
			return err
		}
		p.c.deadLettered.Add(int64(len(dead)))
	}

	p.mu.Lock()
	for _, rec := range recs {
		if rec.Topic == p.cfg.Topic {
			p.positions[rec.Partition] = max(p.positions[rec.Partition], rec.Offset+1)
		}
	}
	p.mu.Unlock()
	// Applied: the background commit (or the revoke's) commits them.
	r.cl.MarkCommitRecords(recs...)
	p.progress.Notify()
	return nil
}

// parallelDecodeMin is the smallest poll decoded on several goroutines.
const parallelDecodeMin = 2048

// decode decodes recs into b.events, and the undecodable ones into
// b.dead, keeping the records' order. Large polls (a backlog) are
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
	b.dead = b.dead[:0]
	n := 0
	for i, err := range b.errs {
		if err != nil {
			b.dead = append(b.dead, Dead{Record: recs[i], Reason: err})
			continue
		}
		b.events[n] = b.events[i]
		n++
	}
	b.events = b.events[:n]
}

// deadLetter produces the dead records to the dead-letter topic,
// retrying until the broker acknowledges them.
func (r *run) deadLetter(ctx context.Context, dead []Dead) error {
	p := r.p
	recs := make([]*kgo.Record, len(dead))
	for i, d := range dead {
		rec := d.Record
		recs[i] = &kgo.Record{
			Topic: p.cfg.DeadLetterTopic, Key: rec.Key, Value: rec.Value,
			Headers: append(slices.Clone(rec.Headers),
				kgo.RecordHeader{Key: "cqrsbench-error", Value: []byte(d.Reason.Error())},
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

func (p *Projector) report(err error) {
	if p.cfg.OnError != nil {
		p.cfg.OnError(err)
	}
}
