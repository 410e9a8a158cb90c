package datagen

import (
	"context"
	"encoding/hex"
	"io"
	"strings"
	"testing"
	"time"
)

func TestAppendRow(t *testing.T) {
	t.Parallel()
	ts := time.Date(2000, 1, 1, 0, 0, 1, 500_000_000, time.UTC)
	got, err := appendRow(nil, []any{int64(-2), int32(7), int16(3), "héllo", ts, nil})
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Join([]string{
		"0006",                         // 6 fields
		"00000008", "fffffffffffffffe", // int8 -2
		"00000004", "00000007", // int4 7
		"00000002", "0003", // int2 3
		"00000006", hex.EncodeToString([]byte("héllo")), // text, UTF-8 bytes
		"00000008", "000000000016e360", // timestamptz: 1.5 s after 2000-01-01 in µs
		"ffffffff", // NULL
	}, "")
	if h := hex.EncodeToString(got); h != want {
		t.Errorf("appendRow =\n%s\nwant\n%s", h, want)
	}
	if _, err := appendRow(nil, []any{3.5}); err == nil || !strings.Contains(err.Error(), "cannot encode float64") {
		t.Errorf("appendRow(float64) error = %v", err)
	}
}

func TestCopyReaderStream(t *testing.T) {
	t.Parallel()
	g, err := New(Config{Orders: 5000, Products: 50, Seed: 3, Today: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	for _, tab := range g.Tables() {
		var reported int64
		r := newCopyReader(context.Background(), tab.Source(), func(n int64) { reported += n })
		// ReadAll's reads start small and grow: partial chunks get read.
		data, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(data), copyHeader) || !strings.HasSuffix(string(data), "\xff\xff") {
			t.Errorf("%s: stream lacks the binary COPY header or trailer", tab.Name)
		}
		if reported != tab.Rows || r.rows != tab.Rows {
			t.Errorf("%s: reported %d rows, encoded %d, want %d", tab.Name, reported, r.rows, tab.Rows)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := io.ReadAll(newCopyReader(ctx, g.Tables()[0].Source(), nil)); err == nil {
		t.Error("a cancelled copy reader kept generating")
	}
}

// BenchmarkGenerateOrderLines measures generating and encoding order lines,
// the bulk of a load, without a database.
func BenchmarkGenerateOrderLines(b *testing.B) {
	g, err := New(Config{Orders: 100_000, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	var tab Table
	for _, t := range g.Tables() {
		if t.Name == "order_lines" {
			tab = t
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		n, err := io.Copy(io.Discard, newCopyReader(context.Background(), tab.Source(), nil))
		if err != nil {
			b.Fatal(err)
		}
		b.SetBytes(n)
	}
	b.ReportMetric(float64(tab.Rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
