package pack

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// Read-your-writes on a pack. A command is an owner's when it uses the
// owner parameter of a screen (assign_ticket uses :agent.id, my_tickets'
// owner): the keys it changed in the screen's read model are what that
// owner's screen must show. Whether the read side shows them is asked of
// the executor (Verifier.Current: its row for the key is the projection's
// on the primary), as an application would compare the read side's
// position with its token.

// tokenPoll is how long a read waiting for its owner's writes sleeps
// between checks.
const tokenPoll = 2 * time.Millisecond

// checkTimeout bounds the check of an own-write read.
const checkTimeout = 5 * time.Second

// route is where a screen read goes under the policy.
type route int

const (
	// toReadSide: the architecture's screens, as without a policy.
	toReadSide route = iota
	// toWriteModel: the crud: query on the primary (primary-after-write).
	toWriteModel
	// afterWait: the read side once it shows the owner's writes, or the
	// timeout passed (wait-for-token).
	afterWait
)

// ownWrites applies a session's read-your-writes policy: per screen and
// owner, the keys the owner's commands changed in the screen's read model
// and when the last one returned, kept (as an application keeps them in
// the user's session) until a read shows them.
type ownWrites struct {
	cfg     workload.ReadYourWrites
	mu      sync.Mutex
	pending map[ownerOf]map[string]written // by KeyText

	counts workload.RYWCounters
}

// ownerOf names one owner's screen: the screen and the owner parameter's
// value.
type ownerOf struct{ screen, owner string }

// written is one read-model key an owner's command changed, and when the
// last such command returned.
type written struct {
	key []any
	at  time.Time
}

// token is what an owner wrote that their screen must show.
type token struct {
	rm   *ReadModel
	keys []written
}

// whose returns the owner's screen sc with args reads; false when sc has
// no owner.
func whose(sc *Screen, args map[string]any) (ownerOf, bool) {
	v, ok := args[sc.Owner]
	if sc.Owner == "" || !ok {
		return ownerOf{}, false
	}
	return ownerOf{sc.Name, fmt.Sprint(v)}, true
}

// active reports whether a policy other than none is in force.
func (o *ownWrites) active() bool { return o.cfg.Policy != "" && o.cfg.Policy != workload.RYWNone }

// wrote records, for each screen whose owner c's args name, the keys out
// changed in its read model, committed at.
func (o *ownWrites) wrote(p *Pack, args map[string]any, out Outcome, at time.Time) {
	if !o.active() {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, sc := range p.Screens {
		who, ok := whose(sc, args)
		keys := out.Changed[sc.ReadModel]
		if !ok || len(keys) == 0 {
			continue
		}
		if o.pending == nil {
			o.pending = map[ownerOf]map[string]written{}
		}
		if o.pending[who] == nil {
			o.pending[who] = map[string]written{}
		}
		for _, k := range keys {
			o.pending[who][KeyText(k)] = written{k, at}
		}
	}
}

// horizon is how long a pending key matters: the window within which
// reads go to the primary; twice the timeout for wait-for-token (a read
// that finds a key just before it expires may still wait the whole
// timeout for it, and is counted when it gives up).
func (o *ownWrites) horizon() time.Duration {
	if o.cfg.Policy == workload.RYWPrimaryAfterWrite {
		return o.cfg.Window
	}
	return 2 * o.cfg.Timeout
}

// route says where a read of who's screen sc goes, with the token it
// must show; keys older than the horizon are forgotten first.
func (o *ownWrites) route(p *Pack, sc *Screen, who ownerOf, owned bool) (route, token) {
	if !o.active() || !owned {
		return toReadSide, token{}
	}
	o.mu.Lock()
	t := token{rm: p.ReadModel(sc.ReadModel)}
	for text, w := range o.pending[who] {
		if time.Since(w.at) >= o.horizon() {
			delete(o.pending[who], text)
			continue
		}
		t.keys = append(t.keys, w)
	}
	if len(o.pending[who]) == 0 {
		delete(o.pending, who)
	}
	o.mu.Unlock()
	switch {
	case len(t.keys) == 0:
		return toReadSide, token{}
	case o.cfg.Policy == workload.RYWPrimaryAfterWrite:
		return toWriteModel, t
	}
	return afterWait, t
}

// seen forgets the keys of who's token t once a read showed them, but
// for those a later command wrote again.
func (o *ownWrites) seen(who ownerOf, t token) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, w := range t.keys {
		text := KeyText(w.key)
		if cur, ok := o.pending[who][text]; ok && cur.at.Equal(w.at) {
			delete(o.pending[who], text)
		}
	}
	if len(o.pending[who]) == 0 {
		delete(o.pending, who)
	}
}

// UseReadYourWrites implements workload.ReadYourWriter.
func (s *session) UseReadYourWrites(cfg workload.ReadYourWrites) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	if _, ok := s.exec.(WriteModelReader); cfg.Policy == workload.RYWPrimaryAfterWrite && !ok {
		return fmt.Errorf("read_your_writes %s: architecture %s cannot serve a screen from the write model", cfg.Policy, s.exec.Name())
	}
	s.ryw.cfg = cfg
	return nil
}

// ReadYourWritesStats implements workload.ReadYourWriter.
func (s *session) ReadYourWritesStats() workload.RYWStats { return s.ryw.counts.Stats() }

// show runs screen sc with args under the policy. own, for a sequence's
// read, is the token of its command: show then also returns whether the
// read missed it, as a function that waits for the answer. A read of the
// read side (after a wait or not) is checked for own as it starts, on
// another connection, and the answer is awaited after the operation, so
// the check adds no latency; the check and the query start together, so a
// write that lands between their snapshots can be counted either way. A
// read of the write model on the primary shows own.
func (s *session) show(ctx context.Context, sc *Screen, args map[string]any, own *token) (missed func() bool, err error) {
	who, owned := whose(sc, args)
	r, t := s.ryw.route(s.pack, sc, who, owned)
	switch r {
	case toWriteModel:
		s.ryw.counts.Redirected.Add(1)
		_, err = s.exec.(WriteModelReader).ShowWriteModel(ctx, sc, args)
		return func() bool { return false }, err
	case afterWait:
		s.waitFor(ctx, who, t)
	}
	missed = func() bool { return false }
	if own != nil {
		held := make(chan bool, 1)
		go func() {
			// Bounded on its own: the operation may return (and its
			// context end) first.
			ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), checkTimeout)
			defer cancel()
			ok, err := s.holds(ctx, *own)
			held <- ok || err != nil // a failed check is not counted as a miss
		}()
		missed = func() bool { return !<-held }
	}
	if _, err := s.exec.Show(ctx, sc, args); err != nil {
		return nil, err
	}
	return missed, nil
}

// waitFor checks until the read side shows who's token t or the timeout
// passes (counted). A check that fails ends the wait: the read goes
// ahead, as an application would rather show a stale screen than none.
func (s *session) waitFor(ctx context.Context, who ownerOf, t token) {
	deadline := time.Now().Add(s.ryw.cfg.Timeout)
	for tries := 0; ; tries++ {
		ok, err := s.holds(ctx, t)
		if err != nil {
			return
		}
		if ok || time.Now().After(deadline) {
			if tries > 0 {
				s.ryw.counts.Waited.Add(1)
			}
			if ok {
				s.ryw.seen(who, t)
			} else {
				s.ryw.counts.TimedOut.Add(1)
			}
			return
		}
		timer := time.NewTimer(tokenPoll)
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case <-timer.C:
		}
	}
}

// holds reports whether the screens' read side shows every key of t
// (Verifier.Current); an executor that is no Verifier shows them at once.
func (s *session) holds(ctx context.Context, t token) (bool, error) {
	v, ok := s.exec.(Verifier)
	if !ok || t.rm == nil {
		return true, nil
	}
	for _, w := range t.keys {
		if cur, err := v.Current(ctx, t.rm, w.key); err != nil || !cur {
			return false, err
		}
	}
	return true, nil
}
