package datagen_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/datagen"
	"github.com/cqrsbench/cqrsbench/reference/domain"
)

// day is the fixed Today of the tests' datasets.
var day = time.Date(2026, 3, 14, 0, 0, 0, 0, time.UTC)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  datagen.Config
		want []string // substrings of the error; none when valid
	}{
		{"minimal", datagen.Config{Orders: 1}, nil},
		{"everything", datagen.Config{Orders: 10, Customers: 100, Products: 5, Skew: 1.1, Workers: 4, Today: day}, nil},
		{"negative orders", datagen.Config{Orders: -3}, []string{"orders must be ≥ 1, got -3"}},
		{"no orders", datagen.Config{}, []string{"orders must be ≥ 1, got 0"}},
		{"too many orders", datagen.Config{Orders: 2_000_000_000}, []string{"orders must be ≤ 1000000000, got 2000000000"}},
		{"negative customers", datagen.Config{Orders: 1, Customers: -1}, []string{"customers must be ≥ 1 (or 0 for orders/10), got -1"}},
		{"negative products", datagen.Config{Orders: 1, Products: -5}, []string{"products must be ≥ 1 (or 0 for 10000), got -5"}},
		{"flat skew", datagen.Config{Orders: 1, Skew: 0.5}, []string{"skew must be > 1 and ≤ 10 (or 0 for 2.0), got 0.5"}},
		{"ancient", datagen.Config{Orders: 1, Today: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC)}, []string{"today must be in 2001 or later"}},
		{"all wrong", datagen.Config{Orders: -1, Workers: 100}, []string{"orders must be ≥ 1, got -1", "workers must be ≤ 64, got 100"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.cfg.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %q, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestConfigWithDefaults(t *testing.T) {
	t.Parallel()
	got := datagen.Config{Orders: 1_000_000, Today: time.Date(2026, 3, 14, 23, 30, 0, 0, time.FixedZone("X", -3*3600))}.WithDefaults()
	want := datagen.Config{Orders: 1_000_000, Customers: 100_000, Products: 10_000, Skew: datagen.DefaultSkew, Workers: 2,
		Today: time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC)}
	if got != want {
		t.Errorf("WithDefaults() = %+v, want %+v", got, want)
	}
	if c := (datagen.Config{Orders: 3}).WithDefaults(); c.Customers != 1 || c.Today.IsZero() || c.Today.Location() != time.UTC {
		t.Errorf("WithDefaults() of 3 orders = %+v, want 1 customer and today's UTC midnight", c)
	}
}

func TestOrderNumber(t *testing.T) {
	t.Parallel()
	for id, want := range map[int64]string{1: "ORD-0000000001", 123456: "ORD-0000123456", 9_999_999_999: "ORD-9999999999"} {
		if got := datagen.OrderNumber(id); got != want {
			t.Errorf("OrderNumber(%d) = %q, want %q", id, got, want)
		}
	}
}

// digest hashes every row of every table, as the values a Source returns.
func digest(t *testing.T, g *datagen.Generator) map[string]string {
	t.Helper()
	sums := map[string]string{}
	for _, tab := range g.Tables() {
		h := sha256.New()
		src := tab.Source()
		var n int64
		for src.Next() {
			vals, err := src.Values()
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				fmt.Fprintf(h, "%T:%v|", v, v)
			}
			h.Write([]byte{'\n'})
			n++
		}
		if err := src.Err(); err != nil {
			t.Fatal(err)
		}
		if n != tab.Rows {
			t.Errorf("%s: source gave %d rows, Rows = %d", tab.Name, n, tab.Rows)
		}
		sums[tab.Name] = hex.EncodeToString(h.Sum(nil))
	}
	return sums
}

func newGenerator(t *testing.T, cfg datagen.Config) *datagen.Generator {
	t.Helper()
	g, err := datagen.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestGeneratorIsDeterministic(t *testing.T) {
	t.Parallel()
	cfg := datagen.Config{Orders: 20_000, Products: 500, Seed: 42, Today: day}
	a := digest(t, newGenerator(t, cfg))
	b := digest(t, newGenerator(t, cfg))
	if len(a) != 6 {
		t.Fatalf("hashed %d tables, want 6", len(a))
	}
	for name, sum := range a {
		if b[name] != sum {
			t.Errorf("%s differs between two generations of the same config", name)
		}
	}
	// A later time on the same day is the same dataset.
	late := cfg
	late.Today = day.Add(23 * time.Hour)
	if c := digest(t, newGenerator(t, late)); !maps(c, a) {
		t.Errorf("a different time on the same day changed the data")
	}

	other := cfg
	other.Seed = 43
	c := digest(t, newGenerator(t, other))
	for name, sum := range a {
		if c[name] == sum {
			t.Errorf("%s is identical for seeds 42 and 43", name)
		}
	}
}

func maps(a, b map[string]string) bool {
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return len(a) == len(b)
}

// orderRow is an orders row as the generator produces it.
type orderRow struct {
	id, customer, address int64
	number                string
	status                domain.Status
	created, updated      time.Time
	version               int32
}

func collectOrders(t *testing.T, g *datagen.Generator) []orderRow {
	t.Helper()
	var out []orderRow
	for _, tab := range g.Tables() {
		if tab.Name != "orders" {
			continue
		}
		src := tab.Source()
		for src.Next() {
			v, _ := src.Values()
			out = append(out, orderRow{v[0].(int64), v[2].(int64), v[3].(int64), v[1].(string),
				domain.Status(v[4].(string)), v[5].(time.Time), v[6].(time.Time), v[7].(int32)})
		}
	}
	return out
}

func TestGeneratedDataIsConsistent(t *testing.T) {
	t.Parallel()
	cfg := datagen.Config{Orders: 30_000, Products: 1000, Seed: 7, Today: day}
	g := newGenerator(t, cfg)
	from, to := g.Window()
	if !from.Equal(day.AddDate(0, 0, -90)) || !to.Equal(day.AddDate(0, 0, 1)) {
		t.Fatalf("Window() = %v, %v", from, to)
	}

	lines := map[int64]int{} // order id → lines
	added := map[int64]int{}
	for _, tab := range g.Tables() {
		src := tab.Source()
		switch tab.Name {
		case "order_lines":
			var prevOrder, prevLine int64
			for src.Next() {
				v, _ := src.Values()
				order, line, product, qty, price := v[0].(int64), int64(v[1].(int16)), v[2].(int64), v[3].(int32), v[4].(int32)
				if order == prevOrder && line != prevLine+1 || order != prevOrder && (order != prevOrder+1 || line != 1) {
					t.Fatalf("line (%d, %d) follows (%d, %d)", order, line, prevOrder, prevLine)
				}
				prevOrder, prevLine = order, line
				if product < 1 || product > int64(cfg.Products) || qty < 1 || qty > domain.MaxQuantity || price < 0 || price > g.ProductPriceCents(product) {
					t.Fatalf("bad line %v", v)
				}
				lines[order]++
			}
		case "product_images":
			seen := map[[2]int64]bool{}
			for src.Next() {
				v, _ := src.Values()
				key := [2]int64{v[1].(int64), int64(v[2].(int16))}
				if seen[key] || key[1] < 1 || key[1] > 3 {
					t.Fatalf("bad image %v", v)
				}
				seen[key] = true
			}
		}
	}
	for id, n := range lines {
		if n < domain.MinCreateLines || n > domain.MaxCreateLines {
			t.Fatalf("order %d has %d lines", id, n)
		}
	}

	orders := collectOrders(t, g)
	if len(orders) != cfg.Orders || len(lines) != cfg.Orders {
		t.Fatalf("%d orders with lines, %d rows; want %d", len(lines), len(orders), cfg.Orders)
	}
	statusByAge := map[bool]map[domain.Status]int{true: {}, false: {}} // recent (< 2 days) → counts
	for i, o := range orders {
		if o.id != int64(i+1) || o.number != datagen.OrderNumber(o.id) {
			t.Fatalf("order %d: id %d number %s", i+1, o.id, o.number)
		}
		if i > 0 && o.created.Before(orders[i-1].created) {
			t.Fatalf("order %d created before order %d", o.id, o.id-1)
		}
		if o.created.Before(from) || !o.created.Before(to) || o.updated.Before(o.created) || !o.updated.Before(to) {
			t.Fatalf("order %d: created %v updated %v outside [%v, %v)", o.id, o.created, o.updated, from, to)
		}
		if o.created.Nanosecond()%1000 != 0 {
			t.Fatalf("order %d: created_at %v has sub-microsecond precision", o.id, o.created)
		}
		if !slices.Contains(g.AddressesOf(o.customer), o.address) {
			t.Fatalf("order %d ships to address %d, not one of customer %d's %v", o.id, o.address, o.customer, g.AddressesOf(o.customer))
		}
		// version = 1 (create) + add_lines + transitions; a cancelled order
		// may or may not have been confirmed first.
		transitions := map[domain.Status]int32{domain.StatusCart: 0, domain.StatusConfirmed: 1, domain.StatusShipped: 2, domain.StatusCancelled: 1}[o.status]
		maxAdds := int32(lines[o.id] - 1)
		if o.status == domain.StatusCancelled {
			maxAdds++
		}
		adds := o.version - domain.InitialVersion - transitions
		if !o.status.Valid() || adds < 0 || adds > maxAdds {
			t.Fatalf("order %d: status %s, version %d, %d lines: inconsistent", o.id, o.status, o.version, lines[o.id])
		}
		if adds > 0 {
			added[o.id] = int(adds)
		}
		statusByAge[to.Sub(o.created) < 48*time.Hour][o.status]++
	}
	old, recent := statusByAge[false], statusByAge[true]
	oldDone := float64(old[domain.StatusShipped]+old[domain.StatusCancelled]) / float64(sum(old))
	recentOpen := float64(recent[domain.StatusCart]+recent[domain.StatusConfirmed]) / float64(sum(recent))
	if oldDone < 0.9 || recentOpen < 0.5 {
		t.Errorf("status mix: older orders %v (%.0f%% shipped or cancelled), last two days %v (%.0f%% open)",
			old, 100*oldDone, recent, 100*recentOpen)
	}
	if len(added) < cfg.Orders/10 {
		t.Errorf("only %d orders grew by add_line", len(added))
	}
}

func sum(m map[domain.Status]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func TestOrdersPerCustomerAreSkewed(t *testing.T) {
	t.Parallel()
	cfg := datagen.Config{Orders: 200_000, Products: 100, Seed: 1, Today: day}
	g := newGenerator(t, cfg)
	perCustomer := make([]int, g.Config().Customers+1)
	for _, o := range collectOrders(t, g) {
		perCustomer[o.customer]++
	}
	counts := slices.Clone(perCustomer[1:])
	slices.Sort(counts)
	n := len(counts)
	median, p90, top := counts[n/2], counts[n*9/10], counts[n-1]
	few := 0
	for _, c := range counts {
		if c >= 1 && c <= 3 {
			few++
		}
	}
	zero, top1 := 0, 0
	for i, c := range counts {
		if c == 0 {
			zero++
		}
		if i >= n-n/100 {
			top1 += c
		}
	}
	t.Logf("orders per customer of %d: median %d, p90 %d, max %d; %d customers with 1-3 orders, %d with none; top 1%% hold %.0f%% of orders",
		n, median, p90, top, few, zero, 100*float64(top1)/float64(cfg.Orders))
	if median > 5 || top < 100 || few < n/4 {
		t.Errorf("not skewed: median %d (want ≤ 5), max %d (want ≥ 100), %d of %d customers with 1-3 orders (want ≥ 1/4)", median, top, few, n)
	}
}
