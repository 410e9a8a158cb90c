// Package writemodel executes the domain's commands on the normalized write
// model of one schema, the source of truth of every architecture.
//
// Each command is one SQL statement built from data-modifying CTEs, so it
// runs as one implicit transaction in one round trip; add_line is a pipelined
// batch of two statements (lock the order, then insert the line with a fresh
// snapshot), still one transaction and one round trip. An architecture adds
// its own writes to the same transaction through an Extension: extra CTEs
// appended inside the command's WITH clause.
//
// CTEs an extension can read:
//
//	create_order   o (the inserted orders row), l (the inserted order_lines rows)
//	add_line       p (id, prev_status, customer_id), u (the updated orders row), l (the inserted line)
//	transitions    p (id, prev_status, customer_id), u (the updated orders row and prev_status)
//
// Inside the statement, plain reads of order_lines do not see the line being
// inserted (one snapshot): the total after add_line is the sum of the
// existing lines plus l's. {{schema}} in an extension is replaced by the
// quoted schema name.
package writemodel

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/domain"
)

// DB is what Execute needs: *pgxpool.Pool and *pgx.Conn satisfy it.
type DB interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// Extension holds extra CTEs (each starting with ", name AS (") appended to
// a command's WITH clause, committed in the same transaction.
type Extension struct {
	Create     string
	AddLine    string
	Transition string
	// LockBeforeTransition runs a transition as a pipelined batch: lock
	// the order, then the transition statement with a fresh snapshot. An
	// extension that reads other rows of the order (e.g. sums its lines)
	// needs it: a one-statement transition that waited for the order's
	// lock re-reads the order row but keeps the snapshot taken before the
	// wait, so it would miss a line added by the transaction it waited for.
	LockBeforeTransition bool
}

// Store executes commands on one schema's write model.
type Store struct {
	createSQL, lockSQL, addLineSQL, transitionSQL string
	lockBeforeTransition                          bool
}

// createSQL inserts an order and its lines. $1 customer, $2 address,
// $3 product ids, $4 quantities, $5 unit prices. The address must belong to
// the customer; otherwise no row is returned.
const createSQL = `
WITH n AS (SELECT nextval(pg_get_serial_sequence('{{schema_literal}}.orders', 'id')) AS id),
o AS (
    INSERT INTO {{schema}}.orders (id, number, customer_id, shipping_address_id, status, created_at, updated_at, version)
    SELECT n.id, 'ORD-' || lpad(n.id::text, 10, '0'), a.customer_id, a.id, 'cart', now(), now(), 1
    FROM n JOIN {{schema}}.addresses a ON a.id = $2 AND a.customer_id = $1
    RETURNING *
),
l AS (
    INSERT INTO {{schema}}.order_lines (order_id, line_no, product_id, quantity, unit_price_cents)
    SELECT o.id, t.line_no, t.product_id, t.quantity, t.unit_price_cents
    FROM o, unnest($3::bigint[], $4::int[], $5::int[]) WITH ORDINALITY AS t(product_id, quantity, unit_price_cents, line_no)
    RETURNING *
){{ext}}
SELECT o.id, o.version, o.customer_id FROM o`

// lockSQL locks the order for add_line, so the next statement of the batch
// (a fresh snapshot) numbers the line after every committed one.
const lockSQL = `SELECT 1 FROM {{schema}}.orders WHERE id = $1 FOR UPDATE`

// addLineSQL appends a line to a cart. $1 order, $2 product, $3 quantity,
// $4 unit price.
const addLineSQL = `
WITH p AS (SELECT id, status AS prev_status, customer_id FROM {{schema}}.orders WHERE id = $1),
u AS (
    UPDATE {{schema}}.orders o SET version = o.version + 1, updated_at = now()
    FROM p WHERE o.id = p.id AND p.prev_status = 'cart'
    RETURNING o.*, p.prev_status
),
l AS (
    INSERT INTO {{schema}}.order_lines (order_id, line_no, product_id, quantity, unit_price_cents)
    SELECT u.id, (SELECT coalesce(max(line_no), 0) + 1 FROM {{schema}}.order_lines WHERE order_id = u.id), $2, $3, $4
    FROM u
    RETURNING *
){{ext}}
SELECT p.prev_status, u.version, p.customer_id FROM p LEFT JOIN u ON true`

// transitionSQL moves an order to $2 if its status is in $3.
const transitionSQL = `
WITH p AS (SELECT id, status AS prev_status, customer_id FROM {{schema}}.orders WHERE id = $1 FOR UPDATE),
u AS (
    UPDATE {{schema}}.orders o SET status = $2, version = o.version + 1, updated_at = now()
    FROM p WHERE o.id = p.id AND p.prev_status = ANY($3::text[])
    RETURNING o.*, p.prev_status
){{ext}}
SELECT p.prev_status, u.version, p.customer_id FROM p LEFT JOIN u ON true`

// New prepares the statements for schema with ext's CTEs.
func New(schema string, ext Extension) (*Store, error) {
	if err := domain.ValidateSchemaName(schema); err != nil {
		return nil, err
	}
	expand := func(sql, ext string) string {
		sql = strings.Replace(sql, "{{ext}}", ext, 1)
		sql = strings.ReplaceAll(sql, "{{schema_literal}}", pgx.Identifier{schema}.Sanitize())
		return strings.ReplaceAll(sql, "{{schema}}", pgx.Identifier{schema}.Sanitize())
	}
	return &Store{
		createSQL:     expand(createSQL, ext.Create),
		lockSQL:       expand(lockSQL, ""),
		addLineSQL:    expand(addLineSQL, ext.AddLine),
		transitionSQL: expand(transitionSQL, ext.Transition),

		lockBeforeTransition: ext.LockBeforeTransition,
	}, nil
}

// ErrNotFound means the command names an order, customer or address that
// does not exist (or an address of another customer).
var ErrNotFound = errors.New("not found")

// Execute validates cmd and applies it in one transaction.
func (s *Store) Execute(ctx context.Context, db DB, cmd domain.Command) (reference.Outcome, error) {
	if err := cmd.Validate(); err != nil {
		return reference.Outcome{}, err
	}
	switch c := cmd.(type) {
	case domain.CreateOrder:
		return s.create(ctx, db, c)
	case domain.AddLine:
		return s.addLine(ctx, db, c)
	case domain.Transition:
		return s.transition(ctx, db, c)
	}
	return reference.Outcome{}, fmt.Errorf("execute %T: unknown command", cmd)
}

func (s *Store) create(ctx context.Context, db DB, c domain.CreateOrder) (reference.Outcome, error) {
	products := make([]int64, len(c.Lines))
	quantities := make([]int32, len(c.Lines))
	prices := make([]int32, len(c.Lines))
	for i, l := range c.Lines {
		products[i], quantities[i], prices[i] = l.ProductID, l.Quantity, l.UnitPriceCents
	}
	var out reference.Outcome
	err := db.QueryRow(ctx, s.createSQL, c.CustomerID, c.ShippingAddressID, products, quantities, prices).Scan(&out.OrderID, &out.Version, &out.CustomerID)
	out.Committed = time.Now()
	if errors.Is(err, pgx.ErrNoRows) {
		return out, fmt.Errorf("create_order: address %d of customer %d: %w", c.ShippingAddressID, c.CustomerID, ErrNotFound)
	}
	if err != nil {
		return out, fmt.Errorf("create_order: %w", err)
	}
	return out, nil
}

func (s *Store) addLine(ctx context.Context, db DB, c domain.AddLine) (reference.Outcome, error) {
	prev, version, customer, err := s.lockedCommand(ctx, db, c.OrderID, s.addLineSQL, c.OrderID, c.Line.ProductID, c.Line.Quantity, c.Line.UnitPriceCents)
	out := reference.Outcome{OrderID: c.OrderID, Committed: time.Now(), CustomerID: customer}
	if err != nil {
		return out, fmt.Errorf("add_line to order %d: %w", c.OrderID, err)
	}
	return s.result(out, c, prev, version)
}

func (s *Store) transition(ctx context.Context, db DB, c domain.Transition) (reference.Outcome, error) {
	args := []any{c.Order(), string(c.Target()), allowedFrom(c.Target())}
	var prev *string
	var version *int32
	var customer int64
	var err error
	if s.lockBeforeTransition {
		prev, version, customer, err = s.lockedCommand(ctx, db, c.Order(), s.transitionSQL, args...)
	} else {
		prev, version, customer, err = scanCommand(db.QueryRow(ctx, s.transitionSQL, args...))
	}
	out := reference.Outcome{OrderID: c.Order(), Committed: time.Now(), CustomerID: customer}
	if err != nil {
		return out, fmt.Errorf("%s order %d: %w", c.Kind(), c.Order(), err)
	}
	return s.result(out, c, prev, version)
}

// lockedCommand runs lockSQL for order and then the command statement sql
// in one pipelined batch (one implicit transaction, one round trip), so the
// command's snapshot is taken after the lock is granted.
func (s *Store) lockedCommand(ctx context.Context, db DB, order int64, sql string, args ...any) (prev *string, version *int32, customer int64, err error) {
	b := &pgx.Batch{}
	b.Queue(s.lockSQL, order)
	b.Queue(sql, args...)
	br := db.SendBatch(ctx, b)
	_, lockErr := br.Exec()
	prev, version, customer, scanErr := scanCommand(br.QueryRow())
	closeErr := br.Close()
	return prev, version, customer, firstErr(lockErr, scanErr, closeErr)
}

// scanCommand reads a command's (prev_status, version, customer_id) row;
// no row (the order does not exist) leaves prev nil and is no error.
func scanCommand(row pgx.Row) (prev *string, version *int32, customer int64, err error) {
	var cust *int64
	err = row.Scan(&prev, &version, &cust)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, 0, nil
	}
	if cust != nil {
		customer = *cust
	}
	return prev, version, customer, err
}

// result turns a command's (prev_status, version) row into an outcome or a
// typed error.
func (s *Store) result(out reference.Outcome, cmd domain.Command, prev *string, version *int32) (reference.Outcome, error) {
	id := out.OrderID
	if prev == nil {
		return out, fmt.Errorf("%s: order %d: %w", cmd.Kind(), id, ErrNotFound)
	}
	if version == nil {
		// The status did not allow the command; report it as domain does.
		status := domain.Status(*prev)
		var err error
		switch c := cmd.(type) {
		case domain.AddLine:
			err = domain.CheckAddLine(c, status)
		case domain.Transition:
			err = domain.CheckTransition(c, status)
		}
		if err == nil {
			err = fmt.Errorf("%s: order %d in status %s not applied: %w", cmd.Kind(), id, status, domain.ErrInvalidTransition)
		}
		return out, err
	}
	out.Version = *version
	return out, nil
}

// allowedFrom lists the statuses an order may move to target from.
func allowedFrom(target domain.Status) []string {
	var from []string
	for _, s := range domain.Statuses() {
		if domain.CanTransition(s, target) {
			from = append(from, string(s))
		}
	}
	return from
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// IsRetryable reports whether err is a transient conflict (serialization or
// deadlock) the caller may retry.
func IsRetryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}
