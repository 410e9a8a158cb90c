package bench

import (
	"sync"
	"time"

	"github.com/cqrsbench/cqrsbench/reference"
)

// write is one committed version of an order.
type write struct {
	order     int64
	version   int32
	committed time.Time
	create    bool
}

// tracker remembers the writes committed during a run, per customer, so a
// later read of that customer's orders can be classified as fresh or stale.
type tracker struct {
	mu         sync.RWMutex // reads (every list_orders) share it
	byCustomer map[int64][]write
}

func newTracker() *tracker { return &tracker{byCustomer: map[int64][]write{}} }

// committed records a write whose command returned at w.committed.
func (t *tracker) committed(customer int64, w write) {
	t.mu.Lock()
	t.byCustomer[customer] = append(t.byCustomer[customer], w)
	t.mu.Unlock()
}

// createdInRun reports whether the order was created during the run (so it
// is among its customer's newest and list_orders must show it).
func (t *tracker) createdInRun(customer, order int64) bool {
	t.mu.RLock()
	defer t.mu.RUnlock()
	for _, w := range t.byCustomer[customer] {
		if w.order == order && w.create {
			return true
		}
	}
	return false
}

// classify says whether a list_orders read of customer that started at
// started and returned rows missed a write committed before it started, and
// how old the oldest missed write was then. A write counts when its order is
// in the rows (its version must be reached) or was created in this run and
// is among the customer's ListOrdersLimit newest creations (it must be
// there).
func (t *tracker) classify(customer int64, started time.Time, rows []reference.OrderSummary) (stale bool, age time.Duration) {
	t.mu.RLock()
	writes := t.byCustomer[customer]
	t.mu.RUnlock()
	if len(writes) == 0 {
		return false, 0
	}
	seen := make(map[int64]int32, len(rows))
	for _, r := range rows {
		seen[r.OrderID] = r.Version
	}
	creates := 0
	for i := len(writes) - 1; i >= 0; i-- {
		w := writes[i]
		if w.create {
			creates++
		}
		if !w.committed.Before(started) {
			continue
		}
		v, present := seen[w.order]
		missed := present && v < w.version || !present && w.create && creates <= reference.ListOrdersLimit
		if missed {
			stale = true
			age = max(age, started.Sub(w.committed))
		}
	}
	return stale, age
}
