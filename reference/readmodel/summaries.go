package readmodel

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference"
)

// SummaryQuery is a prepared list_orders query returning summary rows
// (order_id, number, created_at, status, status_label, total_cents,
// item_count, first_image_url, version) for one bigint parameter.
//
// Run executes it on the wire protocol directly (pgconn's ExecStatement with
// binary results decoded by hand): list_orders is the load generator's
// hottest path, and pgx's generic Rows machinery cost more client CPU per
// call than the query costs the server on a 2-core machine, which would make
// cqrsbench, not the database, the bottleneck. Every architecture runs its
// list_orders through it, so client costs are equal across them.
//
// Like pgx's own Query on a cached statement, Run sends Bind, Execute and
// Sync and no Describe: the statement's description, cached on the
// connection at Prepare, gives the columns. Per call it allocates the
// result slice and one string holding every row's free text, whatever the
// row count, and nothing per row.
type SummaryQuery struct {
	name, sql string
	scratch   *sync.Pool // of *summaryScratch
}

// NewSummaryQuery names a query; name must be unique per SQL text.
func NewSummaryQuery(name, sql string) SummaryQuery {
	return SummaryQuery{name: name, sql: sql, scratch: &sync.Pool{New: func() any { return new(summaryScratch) }}}
}

// allBinary asks for every result column in binary format (text columns are
// the same bytes either way).
var allBinary = []int16{pgx.BinaryFormatCode}

// summaryScratch is Run's working memory, reused across calls through the
// query's pool so a call allocates only what it returns.
type summaryScratch struct {
	param  [8]byte
	params [1][]byte
	rows   []reference.OrderSummary // decoded rows, free text not yet set
	lens   [][2]int                 // per row: lengths of number and first_image_url
	text   []byte                   // every row's number and first_image_url, back to back
}

// maxPooledRows bounds the scratch kept for reuse, so one huge result does
// not stay in memory.
const maxPooledRows = 4 * reference.ListOrdersLimit

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
	if err := checkSummaryFields(sd.Fields); err != nil {
		return nil, fmt.Errorf("%s: %w", q.name, err)
	}
	sc := q.scratch.Get().(*summaryScratch)
	defer q.putScratch(sc)
	binary.BigEndian.PutUint64(sc.param[:], uint64(arg))
	sc.params[0] = sc.param[:]
	rr := conn.Conn().PgConn().ExecStatement(ctx, sd, sc.params[:], allBinary, allBinary)
	for rr.NextRow() {
		vals := rr.Values()
		var s reference.OrderSummary
		if err := decodeSummaryFixed(vals, &s); err != nil {
			_, _ = rr.Close()
			return nil, fmt.Errorf("%s: decode row: %w", q.name, err)
		}
		sc.rows = append(sc.rows, s)
		sc.lens = append(sc.lens, [2]int{len(vals[1]), len(vals[7])})
		sc.text = append(append(sc.text, vals[1]...), vals[7]...)
	}
	if _, err := rr.Close(); err != nil {
		return nil, fmt.Errorf("%s: %w", q.name, err)
	}
	return sc.result(), nil
}

// result returns the rows decoded into sc, with their free text cut from
// one string.
func (sc *summaryScratch) result() []reference.OrderSummary {
	out := make([]reference.OrderSummary, len(sc.rows))
	text := string(sc.text)
	off := 0
	for i, s := range sc.rows {
		numberEnd := off + sc.lens[i][0]
		urlEnd := numberEnd + sc.lens[i][1]
		s.Number, s.FirstImageURL = text[off:numberEnd], text[numberEnd:urlEnd]
		out[i] = s
		off = urlEnd
	}
	return out
}

func (q SummaryQuery) putScratch(sc *summaryScratch) {
	if cap(sc.rows) > maxPooledRows {
		return
	}
	sc.rows, sc.lens, sc.text = sc.rows[:0], sc.lens[:0], sc.text[:0]
	sc.params[0] = nil
	q.scratch.Put(sc)
}

// checkSummaryFields reports an error unless fields are the columns of a
// summary row, which Run decodes by position.
func checkSummaryFields(fields []pgconn.FieldDescription) error {
	if len(fields) != len(summaryTypes) {
		return fmt.Errorf("statement returns %d columns, want the %d of a summary row", len(fields), len(summaryTypes))
	}
	for i, f := range fields {
		if f.DataTypeOID != summaryTypes[i] {
			return fmt.Errorf("column %d (%s) has type OID %d, want %d", i+1, f.Name, f.DataTypeOID, summaryTypes[i])
		}
	}
	return nil
}
