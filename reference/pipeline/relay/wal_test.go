package relay_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/outbox"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/relay"
)

// recorder is a Publisher that keeps what it was given: the transport is
// not what these tests are about (the scenario tests run the WAL relay on
// Kafka and RabbitMQ).
type recorder struct {
	mu  sync.Mutex
	ids []int64
}

func (r *recorder) Publish(_ context.Context, msgs []relay.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range msgs {
		r.ids = append(r.ids, m.ID)
	}
	return nil
}

func (r *recorder) published() []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ids)
}

// walCluster starts PostgreSQL with settings and creates an outbox in
// schema "w".
func walCluster(t *testing.T, settings map[string]string) *pgxpool.Pool {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	if _, err := pglocal.FindBinDir(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	c, err := pglocal.Start(t.Context(), pglocal.Options{Settings: settings})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	pool, err := pgxpool.New(t.Context(), c.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	if _, err := pool.Exec(t.Context(), "CREATE SCHEMA w"); err != nil {
		t.Fatal(err)
	}
	if err := outbox.Create(t.Context(), pool, "w", ""); err != nil {
		t.Fatal(err)
	}
	return pool
}

// insertEvents commits n outbox rows, one transaction each, and returns
// the highest id.
func insertEvents(t *testing.T, pool *pgxpool.Pool, n int) int64 {
	t.Helper()
	var id int64
	for i := range n {
		err := pool.QueryRow(t.Context(), `INSERT INTO w.outbox (aggregate_id, type, version, payload)
			VALUES ($1, 'order_created', 1, '{"n": 1}') RETURNING id`, i+1).Scan(&id)
		if err != nil {
			t.Fatal(err)
		}
	}
	return id
}

// TestWALRelayResumesFromItsSlot relays commits decoded from the WAL,
// crashes once — after the transport's confirmation of a batch, or before
// publishing one — and resumes from the slot: every event is published,
// in commit order, the batch confirmed before the crash twice, the one
// never published once; the outbox ends empty; Drop removes the slot.
func TestWALRelayResumesFromItsSlot(t *testing.T) {
	pool := walCluster(t, nil)
	for _, beforePublish := range []bool{false, true} {
		name := map[bool]string{false: "after the ack", true: "before publishing"}[beforePublish]
		t.Run(name, func(t *testing.T) { walRelayCrash(t, pool, beforePublish) })
	}
}

func walRelayCrash(t *testing.T, pool *pgxpool.Pool, beforePublish bool) {
	ctx := t.Context()
	if _, err := pool.Exec(ctx, "TRUNCATE w.outbox RESTART IDENTITY"); err != nil {
		t.Fatal(err)
	}
	pub := &recorder{}
	var crashes sync.Once
	crash := func(context.Context, []int64) error {
		err := error(nil)
		crashes.Do(func() { err = relay.ErrCrash })
		return err
	}
	hooks := relay.Hooks{AfterConfirm: crash}
	if beforePublish {
		hooks = relay.Hooks{BeforePublish: crash}
	}
	r, err := relay.New(pool, pub, relay.Config{Schema: "w", Mode: relay.ModeWAL, Hooks: hooks})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Prepare(ctx); err != nil {
		t.Fatal(err)
	}
	before := insertEvents(t, pool, 5) // committed before the relay runs: the slot keeps them
	if st, ok, err := relay.ReadSlot(ctx, pool, "w"); err != nil || !ok || st.Active || st.BehindBytes <= 0 || st.RetainedBytes < st.BehindBytes || st.WALStatus != "reserved" {
		t.Errorf("slot before the relay runs: %+v, %v, %v; want it there, no relay connected, the 5 events' WAL behind and kept (reserved)", st, ok, err)
	}
	run, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(run) }()
	last := insertEvents(t, pool, 45)
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := r.WaitPublished(wctx, last); err != nil {
		t.Fatal(err)
	}
	stop()
	<-done

	got := pub.published()
	distinct := slices.Compact(slices.Sorted(slices.Values(got)))
	if len(distinct) != int(last) || distinct[0] != 1 || before != 5 {
		t.Fatalf("published %d distinct ids of %d: %v", len(distinct), last, got)
	}
	c := r.Counters()
	switch {
	case c.Crashes != 1 || c.Retries != 1:
		t.Errorf("counters %+v; want one crash, its batch retried", c)
	case !beforePublish && len(got) <= int(last):
		t.Errorf("%d published for %d events; want the batch confirmed before the crash published again", len(got), last)
	case beforePublish && len(got) != int(last):
		t.Errorf("%d published for %d events; want each once: the crashed batch was never published", len(got), last)
	}
	firstSeen := map[int64]bool{}
	var order []int64
	for _, id := range got {
		if !firstSeen[id] {
			firstSeen[id] = true
			order = append(order, id)
		}
	}
	if !slices.IsSorted(order) {
		t.Errorf("first publications out of commit order: %v", order)
	}
	var left int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM w.outbox").Scan(&left); err != nil || left != 0 {
		t.Errorf("%d outbox rows left (%v), want the relayed rows deleted", left, err)
	}
	if err := r.Drop(ctx); err != nil {
		t.Fatal(err)
	}
	if st, ok, err := relay.ReadSlot(ctx, pool, "w"); err != nil || ok {
		t.Errorf("slot after Drop: %+v, %v, %v; want none", st, ok, err)
	}
	var slots int
	if err := pool.QueryRow(ctx, "SELECT count(*) FROM pg_replication_slots").Scan(&slots); err != nil || slots != 0 {
		t.Errorf("%d replication slots left after Drop (%v), want none: a slot keeps the server's WAL", slots, err)
	}
}

// TestWALRelayNeedsLogicalDecoding: on a server with wal_level=replica,
// Prepare says which setting to change.
func TestWALRelayNeedsLogicalDecoding(t *testing.T) {
	pool := walCluster(t, map[string]string{"wal_level": "replica"})
	r, err := relay.New(pool, &recorder{}, relay.Config{Schema: "w", Mode: relay.ModeWAL})
	if err != nil {
		t.Fatal(err)
	}
	err = r.Prepare(t.Context())
	if !errors.Is(err, relay.ErrWALLevel) {
		t.Fatalf("Prepare on wal_level=replica: %v, want ErrWALLevel", err)
	}
	t.Log(err)
}
