package readmodel

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/domain"
)

// summaryTypes are the column types of a summary row, in order.
var summaryTypes = [...]uint32{
	pgtype.Int8OID, pgtype.TextOID, pgtype.TimestamptzOID, pgtype.TextOID, pgtype.TextOID,
	pgtype.Int8OID, pgtype.Int8OID, pgtype.TextOID, pgtype.Int4OID,
}

// fastSummaries reports whether rows carry summary columns in the binary
// formats decodeSummary reads.
func fastSummaries(rows pgx.Rows) bool {
	fds := rows.FieldDescriptions()
	if len(fds) != len(summaryTypes) {
		return false
	}
	for i, fd := range fds {
		binaryFormat := fd.Format == pgx.BinaryFormatCode
		if fd.DataTypeOID != summaryTypes[i] || (!binaryFormat && fd.DataTypeOID != pgtype.TextOID) {
			return false
		}
	}
	return true
}

// pgEpoch is PostgreSQL's timestamp epoch.
var pgEpochUnixMicros = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixMicro()

// decodeSummary decodes one row's raw binary values. It is the load
// generator's hot path: pgx's generic Scan costs more client CPU per row
// than the query costs the server, which would make cqrsbench, not the
// database, the bottleneck of a read benchmark.
func decodeSummary(vals [][]byte, s *reference.OrderSummary) error {
	if err := decodeSummaryFixed(vals, s); err != nil {
		return err
	}
	s.Number = string(vals[1])
	s.FirstImageURL = string(vals[7])
	return nil
}

// decodeSummaryFixed decodes every column of one row but the free-text ones
// (number and first_image_url, columns 1 and 7), which it leaves to the
// caller: SummaryQuery copies them into one allocation per result rather
// than one per value.
func decodeSummaryFixed(vals [][]byte, s *reference.OrderSummary) error {
	if len(vals) != len(summaryTypes) {
		return fmt.Errorf("%d columns, want %d", len(vals), len(summaryTypes))
	}
	for i, v := range vals {
		if v == nil && i != 7 {
			return fmt.Errorf("column %d is NULL", i)
		}
	}
	if len(vals[0]) != 8 || len(vals[2]) != 8 || len(vals[5]) != 8 || len(vals[6]) != 8 || len(vals[8]) != 4 {
		return fmt.Errorf("unexpected binary widths")
	}
	s.OrderID = int64(binary.BigEndian.Uint64(vals[0]))
	s.CreatedAt = time.UnixMicro(pgEpochUnixMicros + int64(binary.BigEndian.Uint64(vals[2])))
	s.Status = internStatus(vals[3])
	s.StatusLabel = internLabel(vals[4])
	s.TotalCents = int64(binary.BigEndian.Uint64(vals[5]))
	s.ItemCount = int64(binary.BigEndian.Uint64(vals[6]))
	s.Version = int32(binary.BigEndian.Uint32(vals[8]))
	return nil
}

// internStatus returns the shared string of a known status, avoiding an
// allocation per row.
func internStatus(b []byte) domain.Status {
	for _, st := range [...]domain.Status{domain.StatusCart, domain.StatusConfirmed, domain.StatusShipped, domain.StatusCancelled} {
		if string(b) == string(st) {
			return st
		}
	}
	return domain.Status(b)
}

// internLabel returns the shared string of a known label.
func internLabel(b []byte) string {
	for _, st := range [...]domain.Status{domain.StatusCart, domain.StatusConfirmed, domain.StatusShipped, domain.StatusCancelled} {
		if l := st.Label(); string(b) == l {
			return l
		}
	}
	return string(b)
}
