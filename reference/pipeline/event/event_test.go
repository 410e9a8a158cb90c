package event_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/event"
)

func sample() event.OrderEvent {
	return event.OrderEvent{
		Type: event.LineAdded, OrderID: 1234, Version: 3, CustomerID: 77, Number: "ORD-0000001234",
		CreatedAt: time.Date(2025, 3, 4, 23, 59, 58, 123456000, time.UTC), Status: domain.StatusCart,
		StatusLabel: "In your cart", TotalCents: 45_678, ItemCount: 4,
		FirstImageURL: "https://img.example.com/products/12/1.jpg", PrevStatus: domain.StatusCart,
		PrevTotalCents: 40_000, EmittedAt: time.Date(2025, 3, 5, 10, 0, 0, 1000, time.UTC),
	}
}

func TestAppendJSONDecodesBack(t *testing.T) {
	t.Parallel()
	odd := sample()
	odd.Number = `ORD-"quoted"\ <ü>`
	odd.PrevStatus, odd.PrevTotalCents, odd.Type = "", 0, event.OrderCreated
	odd.EmittedAt = time.Time{}
	for _, want := range []event.OrderEvent{sample(), odd} {
		b := want.AppendJSON(nil)
		var got event.OrderEvent
		if err := event.Decode(b, &got); err != nil {
			t.Fatalf("Decode(%s): %v", b, err)
		}
		if !got.CreatedAt.Equal(want.CreatedAt) || !got.EmittedAt.Equal(want.EmittedAt) {
			t.Errorf("times: got %v %v, want %v %v", got.CreatedAt, got.EmittedAt, want.CreatedAt, want.EmittedAt)
		}
		got.CreatedAt, got.EmittedAt, want.CreatedAt, want.EmittedAt = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("round trip of %s:\n got %+v\nwant %+v", b, got, want)
		}
	}
}

// TestDecodesPostgresJSONB decodes an event as PostgreSQL's jsonb prints it
// (keys sorted by length, spaces, a numeric offset in timestamps).
func TestDecodesPostgresJSONB(t *testing.T) {
	t.Parallel()
	const payload = `{"type": "order_confirmed", "number": "ORD-0000000042", "status": "confirmed", "version": 4, ` +
		`"order_id": 42, "created_at": "2025-03-04T23:59:58.123456+00:00", "emitted_at": "2025-03-05T12:00:00.5+02:00", ` +
		`"item_count": 2, "customer_id": 9, "prev_status": "cart", "total_cents": 1999, "status_label": "Confirmed", ` +
		`"first_image_url": "", "prev_total_cents": 1999}`
	var e event.OrderEvent
	if err := event.Decode([]byte(payload), &e); err != nil {
		t.Fatal(err)
	}
	if e.Ref() != (event.Ref{OrderID: 42, Version: 4}) || e.Status != domain.StatusConfirmed || e.PrevStatus != domain.StatusCart {
		t.Errorf("decoded %+v", e)
	}
	if got := e.CreatedAt.UTC().Format(time.DateOnly); got != "2025-03-04" {
		t.Errorf("created_at day = %s, want 2025-03-04", got)
	}
	if !e.EmittedAt.Equal(time.Date(2025, 3, 5, 10, 0, 0, 5e8, time.UTC)) {
		t.Errorf("emitted_at = %v", e.EmittedAt)
	}
}

func TestDecodeRejects(t *testing.T) {
	t.Parallel()
	valid := string(func() []byte { e := sample(); return e.AppendJSON(nil) }())
	tests := []struct{ name, value, want string }{
		{"not json", "\x00\x01garbage", "invalid character"},
		{"empty", "", "unexpected end"},
		{"array", "[1,2]", "cannot unmarshal array"},
		{"unknown type", strings.Replace(valid, `"line_added"`, `"order_deleted"`, 1), "unknown type"},
		{"bad status", strings.Replace(valid, `"status":"cart"`, `"status":"lost"`, 1), "unknown status"},
		{"bad prev status", strings.Replace(valid, `"prev_status":"cart"`, `"prev_status":"gone"`, 1), "unknown prev_status"},
		{"no order", strings.Replace(valid, `"order_id":1234`, `"order_id":0`, 1), "order_id must be"},
		{"no version", strings.Replace(valid, `"version":3`, `"version":0`, 1), "version must be"},
		{"no number", strings.Replace(valid, `"ORD-0000001234"`, `""`, 1), "number missing"},
		{"wrong field type", strings.Replace(valid, `"total_cents":45678`, `"total_cents":"lots"`, 1), "cannot unmarshal"},
		{"NUL in text", strings.Replace(valid, `"ORD-0000001234"`, `"ORD-\u0000"`, 1), "NUL byte"},
		{"negative total", strings.Replace(valid, `"total_cents":45678`, `"total_cents":-1`, 1), "total_cents must be in"},
		{"total that overflows sums", strings.Replace(valid, `"total_cents":45678`, `"total_cents":9223372036854775807`, 1), "total_cents must be in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var e event.OrderEvent
			err := event.Decode([]byte(tt.value), &e)
			if !errors.Is(err, event.ErrUndecodable) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Decode(%q) = %v, want ErrUndecodable mentioning %q", tt.value, err, tt.want)
			}
		})
	}
}

func TestStageNames(t *testing.T) {
	t.Parallel()
	var names []string
	for _, s := range event.Stages() {
		names = append(names, s.String())
	}
	if got := strings.Join(names, ","); got != "committed,claimed,confirmed,delivered,applied" {
		t.Errorf("stage names = %s", got)
	}
}

func BenchmarkDecode(b *testing.B) {
	e := sample()
	value := e.AppendJSON(nil)
	b.SetBytes(int64(len(value)))
	b.ReportAllocs()
	var got event.OrderEvent
	for b.Loop() {
		if err := event.Decode(value, &got); err != nil {
			b.Fatal(err)
		}
	}
}
