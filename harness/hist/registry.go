package hist

import (
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Registry collects named histograms recorded by many Recorders and merges
// them on Tick. It is safe for concurrent use.
//
// Recording never takes the Registry's lock: it is taken by Tick,
// Cumulative and by a Recorder the first time it records a name.
type Registry struct {
	mu      sync.Mutex
	entries map[string]*entry
}

// entry is one name: the handles of every Recorder that recorded it and the
// merged totals. Guarded by Registry.mu.
type entry struct {
	handles    []*Handle
	cumulative *hdrhistogram.PackedHistogram
	clamped    int64
}

// NewRegistry returns an empty Registry.
func NewRegistry() *Registry {
	return &Registry{entries: make(map[string]*entry)}
}

// NewRecorder returns a Recorder for one worker. A Recorder is owned by one
// goroutine; give every worker its own.
func (r *Registry) NewRecorder() *Recorder {
	return &Recorder{reg: r, handles: make(map[string]*Handle)}
}

// register adds a new handle for name.
func (r *Registry) register(name string) *Handle {
	h := &Handle{cur: New(), spare: New()}
	r.mu.Lock()
	defer r.mu.Unlock()
	e := r.entries[name]
	if e == nil {
		e = &entry{cumulative: New()}
		r.entries[name] = e
	}
	e.handles = append(e.handles, h)
	return h
}

// Tick moves what every handle recorded since the previous Tick into the
// cumulative histograms and returns, per name, a snapshot of that interval
// alone. Names registered but idle in the interval have an empty snapshot.
//
// Each handle's lock is held only to swap its histogram for an empty one;
// merging happens outside it, so a Tick delays a recording worker by a
// pointer swap at most.
func (r *Registry) Tick() map[string]Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]Snapshot, len(r.entries))
	for name, e := range r.entries {
		interval := New()
		var clamped int64
		for _, h := range e.handles {
			clamped += h.swap()
			// The spare is only touched here, under r.mu.
			interval.Merge(h.spare)
			h.spare.Reset()
		}
		e.cumulative.Merge(interval)
		e.clamped += clamped
		out[name] = newSnapshot(interval, clamped)
	}
	return out
}

// Cumulative returns, per name, a snapshot of everything merged by Tick so
// far. Values recorded after the last Tick are not included: call Tick
// first for a complete total.
func (r *Registry) Cumulative() map[string]Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]Snapshot, len(r.entries))
	for name, e := range r.entries {
		out[name] = newSnapshot(e.cumulative.Clone(), e.clamped)
	}
	return out
}

// Recorder is one worker's set of handles, one per name. It is not safe for
// concurrent use: each worker owns its Recorder, so no lock is shared between
// workers while recording.
type Recorder struct {
	reg     *Registry
	handles map[string]*Handle
}

// Handle returns the handle for name, registering it on first use. Hot loops
// should keep the handle rather than look it up on every record.
func (w *Recorder) Handle(name string) *Handle {
	h := w.handles[name]
	if h == nil {
		h = w.reg.register(name)
		w.handles[name] = h
	}
	return h
}

// Record records d under name.
func (w *Recorder) Record(name string, d time.Duration) {
	w.Handle(name).Record(d)
}

// Handle records one name for one worker. Its methods are safe for
// concurrent use, but its lock is meant to be contended only by the Registry's
// Tick.
type Handle struct {
	mu      sync.Mutex
	cur     *hdrhistogram.PackedHistogram // guarded by mu
	clamped int64                         // guarded by mu
	spare   *hdrhistogram.PackedHistogram // touched only by Registry.Tick under Registry.mu
}

// Record records d, in microseconds rounded up (see Micros). A duration
// above MaxValue is recorded as MaxValue and counted as clamped.
func (h *Handle) Record(d time.Duration) {
	us, clamped := Micros(d)
	h.mu.Lock()
	// us is within [0, MaxValue], so RecordValue cannot fail.
	_ = h.cur.RecordValue(us)
	if clamped {
		h.clamped++
	}
	h.mu.Unlock()
}

// swap exchanges the current and spare histograms and returns the clamped
// count of the interval. The caller holds Registry.mu.
func (h *Handle) swap() (clamped int64) {
	h.mu.Lock()
	h.cur, h.spare = h.spare, h.cur
	clamped, h.clamped = h.clamped, 0
	h.mu.Unlock()
	return clamped
}
