package bench

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/hist"
	"github.com/cqrsbench/cqrsbench/harness/results"
)

// replicaSampleEvery is how often the replica's lag is sampled during the
// measured load: two queries each time (the primary's WAL position, the
// replica's replay position and time), 8 queries a second, 2% of the
// default suite's 400 ops/s. The prober measures the lag a reader sees
// write by write; these samples say how far behind the replica was.
const replicaSampleEvery = 250 * time.Millisecond

// replicaSampler samples how far a streaming replica is behind its
// primary, from the end of the warmup until the load ends.
type replicaSampler struct {
	done    chan struct{}
	mu      sync.Mutex
	samples int64
	queries int64
	behind  int64 // the most WAL bytes not yet replayed in a sample
	rec     *hist.Recorder
	reg     *hist.Registry
}

// sampleReplica starts sampling replica's lag behind primary at from,
// every replicaSampleEvery, until loadDone is closed or ctx ends; result
// waits for the sampler to stop.
func sampleReplica(ctx context.Context, primary, replica *pgxpool.Pool, from time.Time, loadDone <-chan struct{}) *replicaSampler {
	reg := hist.NewRegistry()
	s := &replicaSampler{done: make(chan struct{}), reg: reg, rec: reg.NewRecorder()}
	go func() {
		defer close(s.done)
		everyUntil(ctx, from, replicaSampleEvery, loadDone, func(ctx context.Context) bool { s.sample(ctx, primary, replica); return true })
	}()
	return s
}

// sampleTimeout bounds one sample's queries: a server that does not answer
// (restarting, paused) costs the sampler a sample, not the rest of the run.
const sampleTimeout = time.Second

// everyUntil calls sample at from and then every period until it returns
// false, loadDone is closed or ctx ends; each call's context ends after
// sampleTimeout.
func everyUntil(ctx context.Context, from time.Time, period time.Duration, loadDone <-chan struct{}, sample func(context.Context) bool) {
	wait := time.NewTimer(time.Until(from))
	defer wait.Stop()
	select {
	case <-ctx.Done():
		return
	case <-loadDone:
		return
	case <-wait.C:
	}
	tick := time.NewTicker(period)
	defer tick.Stop()
	once := func() bool {
		sctx, cancel := context.WithTimeout(ctx, sampleTimeout)
		defer cancel()
		return sample(sctx)
	}
	for once() {
		select {
		case <-ctx.Done():
			return
		case <-loadDone:
			return
		case <-tick.C:
		}
	}
}

// sample reads the primary's WAL position, then on the replica how many
// bytes of it are not replayed yet and how long ago the last transaction
// it replayed committed on the primary. A failed read (a restarting
// server) is skipped: the prober and the stale reads still count.
func (s *replicaSampler) sample(ctx context.Context, primary, replica *pgxpool.Pool) {
	var lsn string
	err := primary.QueryRow(ctx, "SELECT pg_current_wal_lsn()::text").Scan(&lsn)
	s.mu.Lock()
	s.queries++
	s.mu.Unlock()
	if err != nil {
		return
	}
	var behind *int64
	var age *float64 // seconds; NULL before the replica replayed any transaction
	err = replica.QueryRow(ctx, `SELECT greatest(pg_wal_lsn_diff($1::pg_lsn, pg_last_wal_replay_lsn()), 0)::bigint,
		extract(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8`, lsn).Scan(&behind, &age)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.queries++
	if err != nil || behind == nil {
		return
	}
	s.samples++
	s.behind = max(s.behind, *behind)
	switch {
	case *behind == 0:
		// Caught up: the time since the last replayed commit is the
		// primary's idle gap between commits, not lag.
		s.rec.Record("age", 0)
	case age != nil:
		s.rec.Record("age", time.Duration(max(*age, 0)*float64(time.Second)))
	}
}

// result waits until the sampler stopped and returns what it measured.
func (s *replicaSampler) result() (*results.ReplicaLag, error) {
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	r := &results.ReplicaLag{Samples: s.samples, Queries: s.queries, BytesBehindMax: s.behind}
	var err error
	r.ReplayAge, err = results.StatsFrom(s.reg.Tick()["age"])
	return r, err
}
