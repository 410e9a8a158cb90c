package datagen

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
)

// copyChunk is how many bytes of COPY data copyReader encodes ahead.
const copyChunk = 256 << 10

// pgEpochUS is 2000-01-01 00:00:00 UTC in unix microseconds: binary
// timestamps count from there.
const pgEpochUS = 946_684_800_000_000

// copyHeader starts a binary COPY stream: signature, flags, extension length.
const copyHeader = "PGCOPY\n\xff\r\n\x00\x00\x00\x00\x00\x00\x00\x00\x00"

// copyReader encodes the rows of a pgx.CopyFromSource as a PostgreSQL binary
// COPY stream on demand, so that rows are generated only as fast as the
// server takes them. Unlike pgx.Conn.CopyFrom it lets the caller write the
// COPY statement, which Load needs for FREEZE.
type copyReader struct {
	ctx    context.Context
	src    pgx.CopyFromSource
	buf    []byte
	off    int
	done   bool
	rows   int64
	onRows func(rows int64) // called with the rows encoded since the last call, every progressEvery rows
	unrep  int64
}

func newCopyReader(ctx context.Context, src pgx.CopyFromSource, onRows func(int64)) *copyReader {
	r := &copyReader{ctx: ctx, src: src, buf: make([]byte, 0, copyChunk+4096), onRows: onRows}
	r.buf = append(r.buf, copyHeader...)
	return r
}

// Read implements io.Reader.
func (r *copyReader) Read(p []byte) (int, error) {
	for len(r.buf)-r.off < len(p) && !r.done {
		if r.off > 0 {
			r.buf = append(r.buf[:0], r.buf[r.off:]...)
			r.off = 0
		}
		if err := r.fill(); err != nil {
			return 0, err
		}
	}
	n := copy(p, r.buf[r.off:])
	r.off += n
	if n == 0 && r.done {
		return 0, io.EOF
	}
	return n, nil
}

// fill encodes rows until copyChunk bytes are buffered or the source ends.
func (r *copyReader) fill() error {
	if err := r.ctx.Err(); err != nil {
		return err
	}
	for len(r.buf) < copyChunk {
		if !r.src.Next() {
			if err := r.src.Err(); err != nil {
				return fmt.Errorf("generate row %d: %w", r.rows+1, err)
			}
			r.buf = binary.BigEndian.AppendUint16(r.buf, 0xffff) // trailer
			r.done = true
			r.report()
			return nil
		}
		vals, err := r.src.Values()
		if err != nil {
			return fmt.Errorf("generate row %d: %w", r.rows+1, err)
		}
		if r.buf, err = appendRow(r.buf, vals); err != nil {
			return fmt.Errorf("encode row %d: %w", r.rows+1, err)
		}
		r.rows++
		if r.unrep++; r.unrep == progressEvery {
			r.report()
		}
	}
	return nil
}

func (r *copyReader) report() {
	if r.onRows != nil && r.unrep > 0 {
		r.onRows(r.unrep)
	}
	r.unrep = 0
}

// appendRow appends one tuple in binary COPY format. Each value's Go type
// selects the PostgreSQL type: int64 bigint, int32 int, int16 smallint,
// string text, time.Time timestamptz, nil NULL.
func appendRow(b []byte, vals []any) ([]byte, error) {
	b = binary.BigEndian.AppendUint16(b, uint16(len(vals)))
	for i, v := range vals {
		switch v := v.(type) {
		case int64:
			b = binary.BigEndian.AppendUint32(b, 8)
			b = binary.BigEndian.AppendUint64(b, uint64(v))
		case int32:
			b = binary.BigEndian.AppendUint32(b, 4)
			b = binary.BigEndian.AppendUint32(b, uint32(v))
		case int16:
			b = binary.BigEndian.AppendUint32(b, 2)
			b = binary.BigEndian.AppendUint16(b, uint16(v))
		case string:
			b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
			b = append(b, v...)
		case time.Time:
			b = binary.BigEndian.AppendUint32(b, 8)
			b = binary.BigEndian.AppendUint64(b, uint64(v.UnixMicro()-pgEpochUS))
		case nil:
			b = binary.BigEndian.AppendUint32(b, 0xffffffff)
		default:
			return b, fmt.Errorf("column %d: cannot encode %T", i+1, v)
		}
	}
	return b, nil
}
