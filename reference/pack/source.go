package pack

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/jackc/pgx/v5"
)

// UnavailableError says a source database (of `data.from:` or of
// cqrsbench init) cannot be reached: its ExitCode is 3, as for any service
// that is unavailable.
type UnavailableError struct {
	// Where names the database without its password (host, port, name).
	Where string
	// Err is the driver's error reduced to its message (pgx writes it
	// without the password) and, when the context ended it, that: the
	// driver's own error holds the parsed config, password included.
	Err error
}

// driverError is a connection error's message and whether a context
// ended it.
type driverError struct {
	msg string
	ctx error // context.Canceled, context.DeadlineExceeded or nil
}

func (e *driverError) Error() string { return e.msg }
func (e *driverError) Unwrap() error { return e.ctx }

// withoutConfig returns err as a *driverError: nothing reachable from it
// holds the connection's config.
func withoutConfig(err error) error {
	d := &driverError{msg: err.Error()}
	for _, c := range []error{context.Canceled, context.DeadlineExceeded} {
		if errors.Is(err, c) {
			d.ctx = c
		}
	}
	return d
}

// Error says what failed and what to check.
func (e *UnavailableError) Error() string {
	return fmt.Sprintf("source database %s unavailable: %v\n  fix: check the DSN's host, port, user and password, and that the server accepts connections from here", e.Where, e.Err)
}

// Unwrap returns the driver's error.
func (e *UnavailableError) Unwrap() error { return e.Err }

// ExitCode is 3: a service is unavailable.
func (e *UnavailableError) ExitCode() int { return 3 }

// ExpandDSN replaces ${VAR} and $VAR in dsn by the environment's values,
// so that a pack can name a source without holding its password.
func ExpandDSN(dsn string) string { return os.ExpandEnv(dsn) }

// DescribeDSN names the database of dsn without its password:
// "host:port/dbname", or "(an unparsable DSN)".
func DescribeDSN(dsn string) string {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return "(an unparsable DSN)"
	}
	return fmt.Sprintf("%s:%d/%s", cfg.Host, cfg.Port, cfg.Database)
}

// OpenSnapshot connects to the source database dsn and begins a READ ONLY
// REPEATABLE READ transaction on it: every read of the source sees one
// snapshot, and the server refuses any write. The transaction writes
// values as text in the forms of SetTextFormats, whatever the source
// role's or database's defaults. An unparsable DSN is an *Error (exit 2);
// a connection that fails is an *UnavailableError. Close the returned
// connection after ending tx.
func OpenSnapshot(ctx context.Context, dsn string) (*pgx.Conn, pgx.Tx, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// Only the message, which pgx writes with the password masked: the
		// error itself holds the DSN as given, password included.
		return nil, nil, &Error{Msg: "source DSN: " + err.Error() + "; write postgres://user@host:5432/dbname (the password from $PGPASSWORD or ~/.pgpass)"}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, nil, &UnavailableError{Where: DescribeDSN(dsn), Err: withoutConfig(err)}
	}
	tx, err := conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, nil, &UnavailableError{Where: DescribeDSN(dsn), Err: withoutConfig(err)}
	}
	if err := SetTextFormats(ctx, tx); err != nil {
		_ = tx.Rollback(context.WithoutCancel(ctx))
		_ = conn.Close(context.WithoutCancel(ctx))
		return nil, nil, fmt.Errorf("set the source's text formats: %w", err)
	}
	return conn, tx, nil
}

// SetTextFormats sets, for the rest of tx, the settings that decide how
// values are written as text and read back from it: DateStyle ISO with
// YMD, IntervalStyle postgres, TimeZone UTC, extra_float_digits 3. A
// session's defaults come from its role, its database and its DSN; with
// these fixed, text written by one session (COPY TO, a catalog's
// statistics) means the same in another (COPY FROM), where a source with
// DateStyle 'SQL, DMY' would write 03/04/2025 for April 3rd, read as
// March 4th by a target with MDY.
func SetTextFormats(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, "SET LOCAL DateStyle TO 'ISO, YMD'; SET LOCAL IntervalStyle TO 'postgres'; SET LOCAL TimeZone TO 'UTC'; SET LOCAL extra_float_digits TO 3")
	return err
}
