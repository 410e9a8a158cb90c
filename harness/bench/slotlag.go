package bench

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/relay"
)

// slotSampleEvery is how often a WAL relay's slot is sampled during the
// measured load: one query on the primary each time, 4 a second (1% of the
// default suite's 400 ops/s).
const slotSampleEvery = 250 * time.Millisecond

// slotSampler samples the WAL relay's replication slot of a schema: how
// far it is behind, how much WAL the server keeps for it, whether a relay
// is connected. A pipeline whose relay has no slot stops after the first
// sample (one query).
type slotSampler struct {
	done chan struct{}
	mu   sync.Mutex
	lag  results.SlotLag
	seen bool
}

// sampleSlot starts sampling the slot of schema's WAL relay at from, every
// slotSampleEvery, until loadDone is closed or ctx ends.
func sampleSlot(ctx context.Context, pool *pgxpool.Pool, schema string, from time.Time, loadDone <-chan struct{}) *slotSampler {
	s := &slotSampler{done: make(chan struct{})}
	go func() {
		defer close(s.done)
		everyUntil(ctx, from, slotSampleEvery, loadDone, func(ctx context.Context) bool { return s.sample(ctx, pool, schema) })
	}()
	return s
}

// sample reads the slot once; false when there is none to sample. A
// failed read (a restarting server) is skipped.
func (s *slotSampler) sample(ctx context.Context, pool *pgxpool.Pool, schema string) bool {
	st, ok, err := relay.ReadSlot(ctx, pool, schema)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		return true
	}
	if !ok {
		return s.seen // dropped after it was seen: keep looking
	}
	s.seen = true
	l := &s.lag
	l.Samples++
	l.BehindBytesMax = max(l.BehindBytesMax, st.BehindBytes)
	l.RetainedBytesMax = max(l.RetainedBytesMax, st.RetainedBytes)
	if !st.Active {
		l.InactiveSamples++
	}
	l.Lost = l.Lost || st.Lost()
	return true
}

// result waits until the sampler stopped and returns what it measured;
// nil when the relay had no slot.
func (s *slotSampler) result() *results.SlotLag {
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.seen {
		return nil
	}
	l := s.lag
	return &l
}
