package relay

import (
	"context"
	"fmt"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"github.com/cqrsbench/cqrsbench/reference/internal/signal"
)

// How relays are woken (see outbox.NotifyTriggerSQL): NOTIFY is not free. Every
// notifying commit takes a database-wide lock and holds it through its WAL
// flush, which defeats group commit: on 2 cores with 8 clients, create_order
// ran about 45% slower with a NOTIFY per command than without. A busy relay
// does not need to be woken, so commands notify only while a relay is
// "armed": idle and waiting for a notification.
//
// Armed means that the relays' coordinator connection holds a session-level
// advisory lock (outbox.WakeLock) exclusively. The outbox trigger tries to take it
// shared for its transaction: when that fails a relay is armed and the
// command notifies; when it succeeds the command skips NOTIFY and holds the
// shared lock until it commits. A worker that finds the outbox empty asks to
// arm; the coordinator arms with pg_try_advisory_lock, which succeeds only
// when no command that skipped NOTIFY is still uncommitted, and then wakes
// the workers for one more look, so no such command's row is left behind.
// The first notification disarms (commands stop notifying); workers keep
// polling every ActivePollInterval while they find rows, and arm again once
// they find none. Under load the relays poll and commands never notify; at
// low load every command wakes an armed relay at once.
//
// While the listener is not listening (connecting, reconnecting) nothing is
// armed and workers poll. Only one relay process can be armed at a time on
// an outbox; others poll.

// waker is the listener and the arming coordinator of one Run.
type waker struct {
	r         *Relay
	wakes     []chan struct{}
	heard     chan struct{} // listener → coordinator: a notification or a reconnect
	listening atomic.Bool
	k1, k2    int32
}

// listen holds a dedicated connection that LISTENs on the channel,
// reconnecting after failures.
func (w *waker) listen(ctx context.Context) {
	for ctx.Err() == nil {
		err := w.listenOnce(ctx)
		w.listening.Store(false)
		w.signal()
		if ctx.Err() != nil {
			return
		}
		w.r.report(fmt.Errorf("relay listener: %w", err))
		if !signal.Sleep(ctx, retryDelay) {
			return
		}
	}
}

func (w *waker) listenOnce(ctx context.Context) error {
	conn, err := pgx.ConnectConfig(ctx, w.r.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{w.r.cfg.Channel}.Sanitize()); err != nil {
		return fmt.Errorf("listen on %s: %w", w.r.cfg.Channel, err)
	}
	w.listening.Store(true)
	for {
		if _, err := conn.WaitForNotification(ctx); err != nil {
			return fmt.Errorf("wait for notification: %w", err)
		}
		w.r.c.wakeups.Add(1)
		w.signal()
	}
}

// signal tells the coordinator the listener heard something.
func (w *waker) signal() {
	select {
	case w.heard <- struct{}{}:
	default:
	}
}

// coordinate arms on the workers' request and disarms (and wakes the
// workers) on every notification, holding the lock on its own connection.
func (w *waker) coordinate(ctx context.Context) {
	var conn *pgx.Conn
	armed := false
	drop := func() {
		if conn != nil {
			conn.Close(context.WithoutCancel(ctx))
			conn = nil
		}
		armed = false
		w.r.armed.Store(false)
	}
	defer drop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.heard:
			if armed {
				armed = false
				w.r.armed.Store(false)
				if _, err := conn.Exec(ctx, "SELECT pg_advisory_unlock($1, $2)", w.k1, w.k2); err != nil {
					drop() // closing the connection releases the lock
				}
			}
			wakeAll(w.wakes)
		case <-w.r.armReq:
			if armed || !w.listening.Load() {
				continue
			}
			if conn == nil {
				c, err := pgx.ConnectConfig(ctx, w.r.pool.Config().ConnConfig.Copy())
				if err != nil {
					w.r.report(fmt.Errorf("relay wake coordinator: connect: %w", err))
					continue
				}
				conn = c
			}
			var ok bool
			if err := conn.QueryRow(ctx, "SELECT pg_try_advisory_lock($1, $2)", w.k1, w.k2).Scan(&ok); err != nil {
				w.r.report(fmt.Errorf("relay wake coordinator: arm: %w", err))
				drop()
				continue
			}
			if ok {
				armed = true
				w.r.armed.Store(true)
				w.r.c.arms.Add(1)
				wakeAll(w.wakes) // rows of commands that committed while arming
			}
		}
	}
}
