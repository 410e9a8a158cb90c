package shop

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// tokenPoll is how long a read waiting for its owner's token sleeps
// between tries.
const tokenPoll = 2 * time.Millisecond

// ownWrites applies a session's read-your-writes policy: it keeps each
// customer's commands that no read has shown yet (the order, its version,
// whether the command created it, when it returned), as an application
// keeps them in the user's session, and serves the customer's list
// accordingly.
type ownWrites struct {
	cfg     workload.ReadYourWrites
	mu      sync.Mutex
	pending map[int64][]ownWrite // by customer, one per order

	counts workload.RYWCounters
}

// ownWrite is one of a customer's commands a read must show: the token.
type ownWrite struct {
	order   int64
	version int32
	created bool
	at      time.Time
}

// UseReadYourWrites implements workload.ReadYourWriter.
func (s *session) UseReadYourWrites(cfg workload.ReadYourWrites) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if cfg.Policy == workload.RYWPrimaryAfterWrite && s.writeModel == nil {
		return fmt.Errorf("read_your_writes %s: the session has no connection pool to read the write model with", cfg.Policy)
	}
	s.ryw.cfg = cfg
	return nil
}

// ReadYourWritesStats implements workload.ReadYourWriter.
func (s *session) ReadYourWritesStats() workload.RYWStats { return s.ryw.counts.Stats() }

// active reports whether a policy other than none is in force.
func (o *ownWrites) active() bool { return o.cfg.Policy != "" && o.cfg.Policy != workload.RYWNone }

// wrote remembers out, whose command created its order if created, among
// its customer's writes to show.
func (o *ownWrites) wrote(out reference.Outcome, created bool) {
	if !o.active() {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.pending == nil {
		o.pending = map[int64][]ownWrite{}
	}
	w := ownWrite{order: out.OrderID, version: out.Version, created: created, at: time.Now()}
	ws := o.pending[out.CustomerID]
	if i := slices.IndexFunc(ws, func(p ownWrite) bool { return p.order == w.order }); i >= 0 {
		w.created = w.created || ws[i].created
		w.version = max(w.version, ws[i].version)
		ws[i] = w
	} else {
		ws = append(ws, w)
	}
	o.pending[out.CustomerID] = ws
}

// token returns customer's writes no read has shown yet, forgetting
// those older than the policy cares for: the window; twice the timeout
// for wait-for-token (a read that finds a write just before that may
// still wait the whole timeout for it, and is counted when it gives up).
func (o *ownWrites) token(customer int64) []ownWrite {
	if !o.active() {
		return nil
	}
	horizon := 2 * o.cfg.Timeout
	if o.cfg.Policy == workload.RYWPrimaryAfterWrite {
		horizon = o.cfg.Window
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	ws := slices.DeleteFunc(o.pending[customer], func(w ownWrite) bool { return time.Since(w.at) >= horizon })
	if len(ws) == 0 {
		delete(o.pending, customer)
		return nil
	}
	o.pending[customer] = ws
	return slices.Clone(ws)
}

// seen forgets customer's writes in shown once a read showed them (a
// later command on the same order stays).
func (o *ownWrites) seen(customer int64, shown []ownWrite) {
	o.mu.Lock()
	defer o.mu.Unlock()
	ws := slices.DeleteFunc(o.pending[customer], func(p ownWrite) bool { return slices.Contains(shown, p) })
	if len(ws) == 0 {
		delete(o.pending, customer)
	} else {
		o.pending[customer] = ws
	}
}

// list reads customer's orders under the policy: from the write model
// within the window after their last command (primary-after-write), or
// from the read side until it shows their writes (wait-for-token), else
// from the read side.
func (o *ownWrites) list(ctx context.Context, s *session, customer int64) ([]reference.OrderSummary, error) {
	ws := o.token(customer)
	switch {
	case len(ws) > 0 && o.cfg.Policy == workload.RYWPrimaryAfterWrite:
		o.counts.Redirected.Add(1)
		return s.writeModel.ListOrders(ctx, customer)
	case len(ws) > 0 && o.cfg.Policy == workload.RYWWaitForToken:
		return o.waitFor(ctx, s.arch, customer, ws)
	}
	return s.arch.ListOrders(ctx, customer)
}

// waitFor reads customer's list until it shows every write of ws or the
// timeout passes; it returns the last read.
func (o *ownWrites) waitFor(ctx context.Context, arch Architecture, customer int64, ws []ownWrite) ([]reference.OrderSummary, error) {
	deadline := time.Now().Add(o.cfg.Timeout)
	for tries := 0; ; tries++ {
		rows, err := arch.ListOrders(ctx, customer)
		if err != nil {
			return nil, err
		}
		var shown []ownWrite
		for _, w := range ws {
			if showsOrPassed(rows, w) {
				shown = append(shown, w)
			}
		}
		all := len(shown) == len(ws)
		if all || time.Now().After(deadline) {
			if tries > 0 {
				o.counts.Waited.Add(1)
			}
			o.seen(customer, shown)
			if !all {
				o.counts.TimedOut.Add(1)
			}
			return rows, nil
		}
		timer := time.NewTimer(tokenPoll)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-timer.C:
		}
	}
}

// showsOrPassed reports whether a list of rows shows w (its order at w's
// version or later), or never will: a full list sorts w's order below
// it. A command on an order it did not create changed one the read side
// had: absent from a full list, it sorts below. A new order sorts below
// only when the list's oldest order was created after the command (the
// dataset holds orders from later today than the run's commands).
func showsOrPassed(rows []reference.OrderSummary, w ownWrite) bool {
	i := slices.IndexFunc(rows, func(r reference.OrderSummary) bool { return r.OrderID == w.order })
	if i >= 0 {
		return rows[i].Version >= w.version
	}
	if len(rows) < reference.ListOrdersLimit {
		return false
	}
	return !w.created || w.at.Before(rows[len(rows)-1].CreatedAt)
}
