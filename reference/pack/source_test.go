package pack_test

import (
	"context"
	"errors"
	"iter"
	"net"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cqrsbench/cqrsbench/reference/pack"
)

// TestOpenSnapshotIsReadOnly: the source's transaction is READ ONLY and
// REPEATABLE READ, so the server refuses any write (SQLSTATE 25006).
func TestOpenSnapshotIsReadOnly(t *testing.T) {
	pool := shared.Pool(t)
	conn, tx, err := pack.OpenSnapshot(t.Context(), pool.Config().ConnString())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = conn.Close(t.Context()) }()
	defer func() { _ = tx.Rollback(t.Context()) }()
	var readOnly, isolation string
	if err := tx.QueryRow(t.Context(), "SELECT current_setting('transaction_read_only'), current_setting('transaction_isolation')").Scan(&readOnly, &isolation); err != nil {
		t.Fatal(err)
	}
	if readOnly != "on" || isolation != "repeatable read" {
		t.Errorf("transaction_read_only %s, transaction_isolation %s: want on, repeatable read", readOnly, isolation)
	}
	_, err = tx.Exec(t.Context(), "CREATE TEMP TABLE written (i int)")
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); !ok || pgErr.Code != "25006" {
		t.Errorf("a write in the snapshot: %v, want SQLSTATE 25006 (read_only_sql_transaction)", err)
	}
}

// TestOpenSnapshotHidesThePassword: an unparsable DSN is an *Error
// (exit 2) whose message, and every error reachable from it by
// errors.Unwrap, holds the DSN's password masked, never in clear; no
// *pgconn.ParseConfigError (whose ConnString holds it) is reachable.
func TestOpenSnapshotHidesThePassword(t *testing.T) {
	for _, dsn := range []string{
		"postgres://u:s3cret@127.0.0.1:bad/db",
		"postgres://u:s3cret@127.0.0.1:5432/db?sslmode=nope",
		"host=127.0.0.1 port=bad user=u password=s3cret",
		"host=127.0.0.1 user=u password='s3cret' connect_timeout=x",
	} {
		_, _, err := pack.OpenSnapshot(t.Context(), dsn)
		var perr *pack.Error
		if !errors.As(err, &perr) || perr.ExitCode() != 2 {
			t.Errorf("%s: %v, want a *pack.Error (exit 2)", dsn, err)
		}
		var raw *pgconn.ParseConfigError
		if errors.As(err, &raw) {
			t.Errorf("%s: the driver's ParseConfigError is reachable, its ConnString holding the password", dsn)
		}
		for e := range unwrapped(err) {
			if strings.Contains(e.Error(), "s3cret") {
				t.Errorf("%s: %T says the password: %v", dsn, e, e)
			}
		}
	}
}

// TestUnreachableSourceHidesThePassword: a source that refuses the
// connection is an *UnavailableError (exit 3) from which no
// *pgconn.ConnectError (whose Config holds the password) is reachable;
// one whose context ended still says so to errors.Is.
func TestUnreachableSourceHidesThePassword(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close() // nothing listens there now
	dsn := "postgres://u:s3cret@" + addr + "/db?connect_timeout=5"
	_, _, err = pack.OpenSnapshot(t.Context(), dsn)
	var unavailable *pack.UnavailableError
	if !errors.As(err, &unavailable) || unavailable.ExitCode() != 3 {
		t.Fatalf("%v, want a *pack.UnavailableError (exit 3)", err)
	}
	var raw *pgconn.ConnectError
	if errors.As(err, &raw) {
		t.Errorf("the driver's ConnectError is reachable, its Config holding the password")
	}
	for e := range unwrapped(err) {
		if strings.Contains(e.Error(), "s3cret") {
			t.Errorf("%T says the password: %v", e, e)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, _, err := pack.OpenSnapshot(ctx, dsn); !errors.Is(err, context.Canceled) {
		t.Errorf("with a cancelled context: %v, want it to match context.Canceled", err)
	}
}

// unwrapped yields err and every error errors.Unwrap, or an Unwrap()
// []error, reaches from it.
func unwrapped(err error) iter.Seq[error] {
	return func(yield func(error) bool) {
		todo := []error{err}
		for len(todo) > 0 {
			e := todo[0]
			todo = todo[1:]
			if e == nil {
				continue
			}
			if !yield(e) {
				return
			}
			switch u := e.(type) {
			case interface{ Unwrap() error }:
				todo = append(todo, u.Unwrap())
			case interface{ Unwrap() []error }:
				todo = append(todo, u.Unwrap()...)
			}
		}
	}
}
