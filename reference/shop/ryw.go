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
// customer's last command (the order, its version, when it returned), as
// an application keeps it in the user's session, and serves the
// customer's list accordingly.
type ownWrites struct {
	cfg  workload.ReadYourWrites
	mu   sync.Mutex
	last map[int64]ownWrite // by customer

	counts workload.RYWCounters
}

// ownWrite is a customer's last command: the token.
type ownWrite struct {
	order   int64
	version int32
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

// wrote remembers out as its customer's last command.
func (o *ownWrites) wrote(out reference.Outcome) {
	if !o.active() {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.last == nil {
		o.last = map[int64]ownWrite{}
	}
	o.last[out.CustomerID] = ownWrite{order: out.OrderID, version: out.Version, at: time.Now()}
}

// token returns customer's last command, if any is kept.
func (o *ownWrites) token(customer int64) (ownWrite, bool) {
	if !o.active() {
		return ownWrite{}, false
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	w, ok := o.last[customer]
	return w, ok
}

// seen forgets customer's token w once a read showed it (unless a later
// command replaced it): later reads need not wait for it.
func (o *ownWrites) seen(customer int64, w ownWrite) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.last[customer] == w {
		delete(o.last, customer)
	}
}

// list reads customer's orders under the policy: from the write model
// within the window after their command (primary-after-write), or from
// the read side until it shows their last command (wait-for-token), else
// from the read side.
func (o *ownWrites) list(ctx context.Context, s *session, customer int64) ([]reference.OrderSummary, error) {
	w, ok := o.token(customer)
	switch {
	case ok && o.cfg.Policy == workload.RYWPrimaryAfterWrite && time.Since(w.at) < o.cfg.Window:
		o.counts.Redirected.Add(1)
		return s.writeModel.ListOrders(ctx, customer)
	case ok && o.cfg.Policy == workload.RYWWaitForToken:
		return o.waitFor(ctx, s.arch, customer, w)
	}
	return s.arch.ListOrders(ctx, customer)
}

// waitFor reads customer's list until it shows w (the order at w's
// version or later) or the timeout passes; it returns the last read.
func (o *ownWrites) waitFor(ctx context.Context, arch Architecture, customer int64, w ownWrite) ([]reference.OrderSummary, error) {
	deadline := time.Now().Add(o.cfg.Timeout)
	for tries := 0; ; tries++ {
		rows, err := arch.ListOrders(ctx, customer)
		if err != nil {
			return nil, err
		}
		shows := slices.ContainsFunc(rows, func(r reference.OrderSummary) bool { return r.OrderID == w.order && r.Version >= w.version })
		// A full screen whose oldest order was created after the command
		// never shows it: that order sorts below.
		offScreen := len(rows) >= reference.ListOrdersLimit && w.at.Before(rows[len(rows)-1].CreatedAt)
		if shows || offScreen || time.Now().After(deadline) {
			if tries > 0 {
				o.counts.Waited.Add(1)
			}
			if shows || offScreen {
				o.seen(customer, w)
			} else {
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
