package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/domain"
)

// Type names what produced an event.
type Type string

// The event types: one per command kind, and OrderSnapshot for the state of
// an order that existed before the topic was seeded.
const (
	OrderCreated   Type = "order_created"
	LineAdded      Type = "line_added"
	OrderConfirmed Type = "order_confirmed"
	OrderShipped   Type = "order_shipped"
	OrderCancelled Type = "order_cancelled"
	OrderSnapshot  Type = "order_snapshot"
)

// Valid reports whether t is one of the defined types.
func (t Type) Valid() bool {
	switch t {
	case OrderCreated, LineAdded, OrderConfirmed, OrderShipped, OrderCancelled, OrderSnapshot:
		return true
	}
	return false
}

// OrderEvent is the state of one order right after a command, and what the
// command replaced. Its JSON field names are the wire format (see
// package outbox, which builds the same object in SQL).
type OrderEvent struct {
	Type Type `json:"type"`
	// OrderID and Version identify the event (see Ref).
	OrderID int64 `json:"order_id"`
	Version int32 `json:"version"`
	// The order's read-model row after the command.
	CustomerID    int64         `json:"customer_id"`
	Number        string        `json:"number"`
	CreatedAt     time.Time     `json:"created_at"`
	Status        domain.Status `json:"status"`
	StatusLabel   string        `json:"status_label"`
	TotalCents    int64         `json:"total_cents"`
	ItemCount     int64         `json:"item_count"`
	FirstImageURL string        `json:"first_image_url"`
	// PrevStatus is the order's status before the command, empty when the
	// event creates the order (order_created, order_snapshot): daily_sales
	// moves the order from (PrevStatus, PrevTotalCents) to (Status,
	// TotalCents) on the day of CreatedAt.
	PrevStatus     domain.Status `json:"prev_status"`
	PrevTotalCents int64         `json:"prev_total_cents"`
	// EmittedAt is the database clock when the command wrote the event
	// (clock_timestamp() of its outbox insert), for lag measured across
	// processes against the read model's applied_at.
	EmittedAt time.Time `json:"emitted_at"`
}

// Ref identifies an event: the order and its version after the event.
type Ref struct {
	OrderID int64
	Version int32
}

// Ref returns the event's identity.
func (e *OrderEvent) Ref() Ref { return Ref{OrderID: e.OrderID, Version: e.Version} }

// ErrUndecodable matches (with errors.Is) every error of Decode: the
// message cannot be applied and belongs in the transport's dead-letter
// queue or topic.
var ErrUndecodable = errors.New("undecodable order event")

// Decode parses and checks one message value into e (which it overwrites).
// Errors match ErrUndecodable.
func Decode(value []byte, e *OrderEvent) error {
	*e = OrderEvent{}
	if err := json.Unmarshal(value, e); err != nil {
		return fmt.Errorf("%w: %w", ErrUndecodable, err)
	}
	if err := e.Validate(); err != nil {
		return fmt.Errorf("%w: %w", ErrUndecodable, err)
	}
	return nil
}

// MaxAmount bounds the cents and item counts an event may carry: well
// above any real order, and low enough that a day's sums cannot overflow
// daily_sales' bigint columns.
const MaxAmount = 1 << 40

// Validate checks what a projector relies on, including everything
// PostgreSQL would refuse when the event is applied (a NUL byte in text,
// an amount whose sums overflow): an event that decodes must apply, or it
// would stop the projector instead of being dead-lettered.
func (e *OrderEvent) Validate() error {
	for _, f := range []struct{ name, value string }{
		{"number", e.Number}, {"status_label", e.StatusLabel}, {"first_image_url", e.FirstImageURL},
	} {
		if strings.ContainsRune(f.value, 0) {
			return fmt.Errorf("order %d: %s holds a NUL byte, which PostgreSQL text cannot store", e.OrderID, f.name)
		}
	}
	for _, f := range []struct {
		name  string
		value int64
	}{{"total_cents", e.TotalCents}, {"prev_total_cents", e.PrevTotalCents}, {"item_count", e.ItemCount}} {
		if f.value < 0 || f.value > MaxAmount {
			return fmt.Errorf("order %d: %s must be in [0, %d], got %d", e.OrderID, f.name, int64(MaxAmount), f.value)
		}
	}
	switch {
	case !e.Type.Valid():
		return fmt.Errorf("unknown type %q", e.Type)
	case e.OrderID < 1:
		return fmt.Errorf("order_id must be ≥ 1, got %d", e.OrderID)
	case e.Version < domain.InitialVersion:
		return fmt.Errorf("order %d: version must be ≥ %d, got %d", e.OrderID, domain.InitialVersion, e.Version)
	case !e.Status.Valid():
		return fmt.Errorf("order %d: unknown status %q", e.OrderID, e.Status)
	case e.PrevStatus != "" && !e.PrevStatus.Valid():
		return fmt.Errorf("order %d: unknown prev_status %q", e.OrderID, e.PrevStatus)
	case e.CreatedAt.IsZero():
		return fmt.Errorf("order %d: created_at missing", e.OrderID)
	case e.Number == "":
		return fmt.Errorf("order %d: number missing", e.OrderID)
	}
	return nil
}

// AppendJSON appends e in the wire format to b.
func (e *OrderEvent) AppendJSON(b []byte) []byte {
	b = append(b, `{"type":`...)
	b = strconv.AppendQuote(b, string(e.Type))
	b = append(b, `,"order_id":`...)
	b = strconv.AppendInt(b, e.OrderID, 10)
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, int64(e.Version), 10)
	b = append(b, `,"customer_id":`...)
	b = strconv.AppendInt(b, e.CustomerID, 10)
	b = append(b, `,"number":`...)
	b = appendString(b, e.Number)
	b = append(b, `,"created_at":"`...)
	b = e.CreatedAt.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","status":`...)
	b = appendString(b, string(e.Status))
	b = append(b, `,"status_label":`...)
	b = appendString(b, e.StatusLabel)
	b = append(b, `,"total_cents":`...)
	b = strconv.AppendInt(b, e.TotalCents, 10)
	b = append(b, `,"item_count":`...)
	b = strconv.AppendInt(b, e.ItemCount, 10)
	b = append(b, `,"first_image_url":`...)
	b = appendString(b, e.FirstImageURL)
	b = append(b, `,"prev_status":`...)
	b = appendString(b, string(e.PrevStatus))
	b = append(b, `,"prev_total_cents":`...)
	b = strconv.AppendInt(b, e.PrevTotalCents, 10)
	if !e.EmittedAt.IsZero() {
		b = append(b, `,"emitted_at":"`...)
		b = e.EmittedAt.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	return append(b, '}')
}

// appendString appends s as a JSON string. Plain printable ASCII (the
// common case: numbers, labels, URLs) is copied; anything else goes through
// encoding/json.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			q, _ := json.Marshal(s) // a string always marshals
			return append(b, q...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// AppendKey appends the message key of the order's events (its id in
// decimal) to b.
func AppendKey(b []byte, orderID int64) []byte { return strconv.AppendInt(b, orderID, 10) }
