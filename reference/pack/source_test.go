package pack_test

import (
	"errors"
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
