package relay

import (
	"context"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/jackc/pgx/v5"

	"github.com/cqrsbench/cqrsbench/reference/cqrskafka/internal/signal"
)

// How relays are woken (see NotifyTriggerSQL): NOTIFY is not free. Every
// notifying commit takes a database-wide lock and holds it through its WAL
// flush, which defeats group commit: on 2 cores with 8 clients, create_order
// ran about 45% slower with a NOTIFY per command than without. A busy relay
// does not need to be woken, so commands notify only while a relay is
// "armed": idle and waiting for a notification.
//
// Armed means that the relays' coordinator connection holds a session-level
// advisory lock (WakeLock) exclusively. The outbox trigger tries to take it
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

// WakeLock returns the advisory lock key (a pair of int4) that arms the
// relays of channel.
func WakeLock(channel string) (int32, int32) {
	h := fnv.New64a()
	h.Write([]byte("cqrsbench relay wake " + channel))
	v := h.Sum64()
	return int32(v >> 32), int32(v)
}

// notifyTriggerSQL creates the outbox trigger: {{schema}} is the quoted
// schema, {{channel}} the channel as a literal, {{k1}} and {{k2}} the
// WakeLock.
const notifyTriggerSQL = `
CREATE FUNCTION {{schema}}.outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A relay waiting for notifications holds this lock exclusively (see
    -- package reference/cqrskafka/relay); otherwise relays poll, and the
    -- command skips NOTIFY, which serializes commits.
    IF NOT pg_try_advisory_xact_lock_shared({{k1}}, {{k2}}) THEN
        PERFORM pg_notify({{channel}}, '');
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER outbox_notify AFTER INSERT ON {{schema}}.outbox
    FOR EACH ROW EXECUTE FUNCTION {{schema}}.outbox_notify()`

// NotifyTriggerSQL returns the SQL that creates the trigger on
// schema.outbox that wakes relays listening on channel: a row trigger
// (statement triggers fire for commands that insert nothing too) that
// notifies only while a relay is armed (see the package's wake protocol in
// wake.go). PostgreSQL delivers a notification at commit, when the row is
// visible, and folds identical ones of a transaction into one.
func NotifyTriggerSQL(schema, channel string) string {
	k1, k2 := WakeLock(channel)
	return strings.NewReplacer(
		"{{schema}}", pgx.Identifier{schema}.Sanitize(),
		"{{channel}}", "'"+strings.ReplaceAll(channel, "'", "''")+"'",
		"{{k1}}", strconv.Itoa(int(k1)), "{{k2}}", strconv.Itoa(int(k2)),
	).Replace(notifyTriggerSQL)
}

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
