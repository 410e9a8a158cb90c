package bench

import (
	"sync"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// tracker remembers the writes committed during a run, per owner, so a
// later read of that owner's screen can be classified as fresh or stale.
type tracker struct {
	mu      sync.RWMutex // reads (every query) share it
	byOwner map[int64][]workload.Write
}

func newTracker() *tracker { return &tracker{byOwner: map[int64][]workload.Write{}} }

// committed records a write whose command returned at w.Committed.
func (t *tracker) committed(w workload.Write) {
	t.mu.Lock()
	t.byOwner[w.Owner] = append(t.byOwner[w.Owner], w)
	t.mu.Unlock()
}

// createdInRun reports whether the entity was created during the run (so it
// is among its owner's newest and the owner's screen must show it).
func (t *tracker) createdInRun(owner, entity int64) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, w := range t.byOwner[owner] {
		if w.Entity == entity && w.Created {
			return true
		}
	}
	return false
}

// classify says whether read r missed a write committed before it started,
// and how old the oldest missed write was then. A write counts when its
// entity is shown (its version must be reached) or was created in this run
// among the owner's r.Newest latest creations, after the full screen's
// floor (it must be shown).
func (t *tracker) classify(r workload.Read) (stale bool, age time.Duration) {
	t.mu.RLock()
	writes := t.byOwner[r.Owner]
	t.mu.RUnlock()
	creates := 0
	for i := len(writes) - 1; i >= 0; i-- {
		w := writes[i]
		if w.Created {
			creates++
		}
		if !w.Committed.Before(r.Started) {
			continue
		}
		v, shown := r.Version(w.Entity)
		belowFloor := !r.Floor.IsZero() && w.Committed.Before(r.Floor)
		missed := shown && v < w.Version || !shown && w.Created && creates <= r.Newest && !belowFloor
		if missed {
			stale = true
			age = max(age, r.Started.Sub(w.Committed))
		}
	}
	return stale, age
}
