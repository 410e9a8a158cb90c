package readmodel

import (
	"context"
	"encoding/binary"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference"
)

// SummaryQuery is a prepared list_orders query returning summary rows
// (order_id, number, created_at, status, status_label, total_cents,
// item_count, first_image_url, version) for one bigint parameter.
//
// Run executes it on the wire protocol directly (pgconn's ExecPrepared with
// binary results decoded by hand): list_orders is the load generator's
// hottest path, and pgx's generic Rows machinery cost more client CPU per
// call than the query costs the server on a 2-core machine, which would make
// cqrsbench, not the database, the bottleneck. Every architecture runs its
// list_orders through it, so client costs are equal across them.
type SummaryQuery struct {
	name, sql string
}

// NewSummaryQuery names a query; name must be unique per SQL text.
func NewSummaryQuery(name, sql string) SummaryQuery { return SummaryQuery{name: name, sql: sql} }

// allBinary asks for every result column in binary format (text columns are
// the same bytes either way).
var allBinary = []int16{pgx.BinaryFormatCode}

// Run executes the query with arg on a connection of pool.
func (q SummaryQuery) Run(ctx context.Context, pool *pgxpool.Pool, arg int64) ([]reference.OrderSummary, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: acquire connection: %w", q.name, err)
	}
	defer conn.Release()
	// Prepare is a map lookup once the connection has the statement.
	sd, err := conn.Conn().Prepare(ctx, q.name, q.sql)
	if err != nil {
		return nil, fmt.Errorf("%s: prepare: %w", q.name, err)
	}
	var param [8]byte
	binary.BigEndian.PutUint64(param[:], uint64(arg))
	rr := conn.Conn().PgConn().ExecPrepared(ctx, sd.Name, [][]byte{param[:]}, allBinary, allBinary)
	out := make([]reference.OrderSummary, 0, reference.ListOrdersLimit)
	for rr.NextRow() {
		var s reference.OrderSummary
		if err := decodeSummary(rr.Values(), &s); err != nil {
			_, _ = rr.Close()
			return nil, fmt.Errorf("%s: decode row: %w", q.name, err)
		}
		out = append(out, s)
	}
	if _, err := rr.Close(); err != nil {
		return nil, fmt.Errorf("%s: %w", q.name, err)
	}
	return out, nil
}
