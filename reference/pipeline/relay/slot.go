package relay

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// SlotStatus is how far the WAL relay's replication slot is behind the
// server's WAL, and what the server keeps for it.
type SlotStatus struct {
	// BehindBytes is the WAL written since the slot's confirmed position:
	// what the relay has not yet confirmed relayed (its lag, in bytes).
	BehindBytes int64
	// RetainedBytes is the WAL the server keeps for the slot (since its
	// restart position): it grows for as long as the relay is down.
	RetainedBytes int64
	// Active reports whether a relay was connected to the slot.
	Active bool
	// WALStatus is pg_replication_slots.wal_status: "reserved" or
	// "extended" (kept), "unreserved" (past max_slot_wal_keep_size, about
	// to be removed) or "lost" (removed: the relay cannot resume).
	WALStatus string
}

// Lost reports whether the slot is past max_slot_wal_keep_size: the
// server removes, or removed, WAL the relay has not read.
func (s SlotStatus) Lost() bool { return s.WALStatus == "unreserved" || s.WALStatus == "lost" }

// Querier runs a query returning one row (a pool, a connection).
type Querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// ReadSlot reads the status of the WAL relay's slot for the outbox of
// schema; ok is false when there is none (the relay of schema is not a WAL
// relay, or is not prepared).
func ReadSlot(ctx context.Context, db Querier, schema string) (_ SlotStatus, ok bool, _ error) {
	var s SlotStatus
	// wal_status is read through to_jsonb: PostgreSQL before 13 has no such
	// column (nor max_slot_wal_keep_size), and the status is then "".
	err := db.QueryRow(ctx, `SELECT coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn), 0)::bigint,
		coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn), 0)::bigint, active, coalesce(to_jsonb(s) ->> 'wal_status', '')
		FROM pg_replication_slots s WHERE slot_name = $1`, slotName(schema)).Scan(&s.BehindBytes, &s.RetainedBytes, &s.Active, &s.WALStatus)
	if errors.Is(err, pgx.ErrNoRows) {
		return s, false, nil
	}
	if err != nil {
		return s, false, fmt.Errorf("relay: read slot %s: %w", slotName(schema), err)
	}
	return s, true, nil
}
