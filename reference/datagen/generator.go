package datagen

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/cqrsbench/cqrsbench/reference/domain"
)

// Time units in microseconds, PostgreSQL's timestamp resolution.
const (
	usSecond = int64(time.Second / time.Microsecond)
	usMinute = 60 * usSecond
	usHour   = 60 * usMinute
	usDay    = 24 * usHour
)

// Salts separating the random streams of the tables and decisions, so that
// each can be generated independently (and concurrently) of the others.
const (
	saltCustomerWeights = 0x9e3779b97f4a7c15 + iota
	saltCustomers
	saltAddressCount
	saltAddresses
	saltProducts
	saltProductWeights
	saltImageCount
	saltOrders
	saltLineCount
	saltLines
)

// Table is one table of a generated dataset, ready for COPY.
type Table struct {
	// Name is the table's name in the write model.
	Name string
	// Columns are the columns each row fills, in order.
	Columns []string
	// Rows is the exact number of rows the table gets.
	Rows int64
	// rows creates a fresh source positioned before the first row.
	rows func() pgx.CopyFromSource
}

// Source returns a new pgx.CopyFromSource that generates the table's rows
// on the fly, in id order, holding one row at a time. Values returns
// int64 for bigint, int32 for int, int16 for smallint, string for text and
// time.Time (UTC, microsecond precision) for timestamptz columns; the slice
// is reused by the next call to Next. Each call starts from the first row.
func (t Table) Source() pgx.CopyFromSource { return t.rows() }

// Generator generates a deterministic dataset for a Config. It is safe for
// concurrent use: each Source keeps its own state.
type Generator struct {
	cfg Config
	// startUS and endUS bound the orders' created_at (unix microseconds):
	// HistoryDays days before Today up to the end of Today.
	startUS, endUS int64

	customerCum []int64 // cumulative customer weights, index = id-1
	addrFirst   []int64 // first address id of customer id at index id-1; addrFirst[C] = addresses+1
	productCum  []int64 // cumulative product popularity, index = id-1
	priceCents  []int32 // product prices, index = id-1
	images      int64
	lines       int64

	words words
}

// words are the vocabularies names, streets and products are made of.
type words struct {
	first, last, streets, cities, countries, adjectives, materials, nouns []string
}

// New prepares a generator for cfg (after WithDefaults). It computes the
// per-customer and per-product tables (a few bytes per customer and
// product) and the exact row counts; rows themselves are generated only
// when a Source is read.
func New(cfg Config) (*Generator, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("dataset config: %w", err)
	}
	g := &Generator{
		cfg:     cfg,
		startUS: cfg.Today.AddDate(0, 0, -HistoryDays).UnixMicro(),
		endUS:   cfg.Today.AddDate(0, 0, 1).UnixMicro(),
		words: words{
			first:      strings.Fields(firstNames),
			last:       strings.Fields(lastNames),
			streets:    strings.Fields(streetNames),
			cities:     strings.Split(cityNames, ","),
			countries:  strings.Fields(countryCodes),
			adjectives: strings.Fields(productAdjectives),
			materials:  strings.Fields(productMaterials),
			nouns:      strings.Fields(productNouns),
		},
	}
	g.customerCum = zipfCumulative(g.seed(saltCustomerWeights), cfg.Customers, cfg.Skew, maxWeight)
	// Products: a milder popularity skew, best sellers exist but no product
	// dominates.
	g.productCum = zipfCumulative(g.seed(saltProductWeights), cfg.Products, 2.5, 100)

	g.addrFirst = make([]int64, cfg.Customers+1)
	next := int64(1)
	for c := range cfg.Customers {
		g.addrFirst[c] = next
		next += g.addressCount(int64(c + 1))
	}
	g.addrFirst[cfg.Customers] = next

	g.priceCents = make([]int32, cfg.Products)
	r := newRowRand()
	for p := range cfg.Products {
		id := int64(p + 1)
		r.seed(g.seed(saltProducts), id)
		g.priceCents[p] = r.price()
		g.images += g.imageCount(id)
	}
	for o := int64(1); o <= int64(cfg.Orders); o++ {
		g.lines += g.lineCount(o)
	}
	return g, nil
}

// Config returns the generator's configuration, with defaults applied.
func (g *Generator) Config() Config { return g.cfg }

// ProductPriceCents returns the list price of product id (1 to
// Config.Products): the unit price of most order lines of that product and
// the price new orders should use.
func (g *Generator) ProductPriceCents(id int64) int32 { return g.priceCents[id-1] }

// AddressesOf returns the address ids of customer id (1 to
// Config.Customers); the first is the one most orders ship to.
func (g *Generator) AddressesOf(id int64) []int64 {
	var ids []int64
	for a := g.addrFirst[id-1]; a < g.addrFirst[id]; a++ {
		ids = append(ids, a)
	}
	return ids
}

// Window returns the time range of the orders' created_at: from HistoryDays
// days before Today's midnight (inclusive) to the end of Today (exclusive).
func (g *Generator) Window() (from, to time.Time) {
	return time.UnixMicro(g.startUS).UTC(), time.UnixMicro(g.endUS).UTC()
}

// Tables returns the tables of the dataset in load order: referenced tables
// before the tables that reference them. status_labels is not among them:
// domain.CreateWriteModel seeds it.
func (g *Generator) Tables() []Table {
	return []Table{
		{Name: "customers", Columns: []string{"id", "name", "email", "created_at"},
			Rows: int64(g.cfg.Customers), rows: func() pgx.CopyFromSource { return g.customerSource() }},
		{Name: "addresses", Columns: []string{"id", "customer_id", "line1", "city", "postal_code", "country"},
			Rows: g.addrFirst[g.cfg.Customers] - 1, rows: func() pgx.CopyFromSource { return g.addressSource() }},
		{Name: "products", Columns: []string{"id", "sku", "name", "price_cents"},
			Rows: int64(g.cfg.Products), rows: func() pgx.CopyFromSource { return g.productSource() }},
		{Name: "product_images", Columns: []string{"id", "product_id", "position", "url"},
			Rows: g.images, rows: func() pgx.CopyFromSource { return g.imageSource() }},
		{Name: "orders", Columns: []string{"id", "number", "customer_id", "shipping_address_id", "status", "created_at", "updated_at", "version"},
			Rows: int64(g.cfg.Orders), rows: func() pgx.CopyFromSource { return g.orderSource() }},
		{Name: "order_lines", Columns: []string{"order_id", "line_no", "product_id", "quantity", "unit_price_cents"},
			Rows: g.lines, rows: func() pgx.CopyFromSource { return g.lineSource() }},
	}
}

// seed derives the key of one random stream from the configured seed.
func (g *Generator) seed(salt uint64) uint64 { return splitmix64(g.cfg.Seed ^ splitmix64(salt)) }

// addressCount returns 1 or 2 (one customer in three has a second address).
func (g *Generator) addressCount(customer int64) int64 {
	if splitmix64(g.seed(saltAddressCount)^uint64(customer))%3 == 0 {
		return 2
	}
	return 1
}

// imageCount returns 1 to 3.
func (g *Generator) imageCount(product int64) int64 {
	return 1 + int64(splitmix64(g.seed(saltImageCount)^uint64(product))%3)
}

// lineCount returns the number of lines of an order: 1 to 5, 3 on average.
// Both the orders and the order_lines streams need it, so it comes from a
// hash of the order id rather than from either stream.
func (g *Generator) lineCount(order int64) int64 {
	switch v := splitmix64(g.seed(saltLineCount)^uint64(order)) % 100; {
	case v < 15:
		return 1
	case v < 35:
		return 2
	case v < 65:
		return 3
	case v < 85:
		return 4
	default:
		return 5
	}
}

// pick returns the 1-based index drawn from cumulative weights cum.
func pick(r *rowRand, cum []int64) int64 {
	u := int64(r.Uint64N(uint64(cum[len(cum)-1])))
	return int64(sort.Search(len(cum), func(i int) bool { return cum[i] > u })) + 1
}

// zipfCumulative draws n weights from a Zipf law P(k) ∝ k^-s, k in 1..kmax,
// and returns their running sums.
func zipfCumulative(seed uint64, n int, s float64, kmax uint64) []int64 {
	r := rand.New(rand.NewPCG(seed, splitmix64(seed)))
	z := rand.NewZipf(r, s, 1, kmax-1)
	cum := make([]int64, n)
	var sum int64
	for i := range cum {
		sum += int64(z.Uint64()) + 1
		cum[i] = sum
	}
	return cum
}

// splitmix64 is a fast, well-mixing 64-bit hash (SplitMix64's finalizer).
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// rowRand is a random stream reseeded for each row: a row's values depend
// only on the seed and the row's id, never on the rows before it.
type rowRand struct {
	pcg *rand.PCG
	*rand.Rand
}

func newRowRand() *rowRand {
	p := rand.NewPCG(0, 0)
	return &rowRand{pcg: p, Rand: rand.New(p)}
}

// seed positions the stream at the start of row id of the stream key.
func (r *rowRand) seed(key uint64, id int64) { r.pcg.Seed(key, splitmix64(key^uint64(id))) }

// between returns a uniform int64 in [lo, hi).
func (r *rowRand) between(lo, hi int64) int64 { return lo + r.Int64N(hi-lo) }

// price returns a list price in cents ending in 99, from a few dollars to a
// few hundred, cheaper products more common.
func (r *rowRand) price() int32 {
	tiers := [...]int64{1_000, 3_000, 10_000, 40_000}
	weights := [...]int{45, 30, 18, 7}
	v := r.IntN(100)
	t := 0
	for v >= weights[t] {
		v -= weights[t]
		t++
	}
	cents := tiers[t]/2 + r.Int64N(tiers[t])
	return int32(cents/100*100 + 99)
}

// word returns a random element of list.
func word(r *rowRand, list []string) string { return list[r.IntN(len(list))] }

// appendPadded appends v in decimal, zero-padded to width digits.
func appendPadded(b []byte, v int64, width int) []byte {
	var tmp [20]byte
	digits := strconv.AppendInt(tmp[:0], v, 10)
	for range width - len(digits) {
		b = append(b, '0')
	}
	return append(b, digits...)
}

// OrderNumber returns the customer-facing number of order id, like
// ORD-0000123456.
func OrderNumber(id int64) string {
	return string(appendPadded([]byte("ORD-"), id, 10))
}

// source is the shared machinery of the row sources: it walks ids 1..n and
// lets row fill vals for each.
type source struct {
	id, n int64
	vals  []any
	row   func(id int64, vals []any)
}

func (s *source) Next() bool {
	if s.id >= s.n {
		return false
	}
	s.id++
	s.row(s.id, s.vals)
	return true
}

func (s *source) Values() ([]any, error) { return s.vals, nil }
func (s *source) Err() error             { return nil }

func (g *Generator) customerSource() pgx.CopyFromSource {
	r := newRowRand()
	key := g.seed(saltCustomers)
	return &source{n: int64(g.cfg.Customers), vals: make([]any, 4), row: func(id int64, v []any) {
		r.seed(key, id)
		first, last := word(r, g.words.first), word(r, g.words.last)
		email := make([]byte, 0, 48)
		email = append(email, strings.ToLower(first)...)
		email = append(email, '.')
		email = append(email, strings.ToLower(last)...)
		email = append(email, '.')
		email = strconv.AppendInt(email, id, 10)
		email = append(email, "@example.com"...)
		// Customers registered up to two years before the first order.
		created := g.startUS - usDay - r.Int64N(730*usDay)
		v[0], v[1], v[2], v[3] = id, first+" "+last, string(email), time.UnixMicro(created).UTC()
	}}
}

func (g *Generator) addressSource() pgx.CopyFromSource {
	r := newRowRand()
	key := g.seed(saltAddresses)
	customer := int64(1)
	return &source{n: g.addrFirst[g.cfg.Customers] - 1, vals: make([]any, 6), row: func(id int64, v []any) {
		for g.addrFirst[customer] <= id {
			customer++
		}
		r.seed(key, id)
		line1 := strconv.FormatInt(r.between(1, 400), 10) + " " + word(r, g.words.streets) + " Street"
		city := word(r, g.words.cities)
		postal := string(appendPadded(nil, r.Int64N(100_000), 5))
		v[0], v[1], v[2], v[3], v[4], v[5] = id, customer, line1, city, postal, word(r, g.words.countries)
	}}
}

func (g *Generator) productSource() pgx.CopyFromSource {
	r := newRowRand()
	key := g.seed(saltProducts)
	return &source{n: int64(g.cfg.Products), vals: make([]any, 4), row: func(id int64, v []any) {
		r.seed(key, id)
		price := r.price() // first draw, as in New
		name := word(r, g.words.adjectives) + " " + word(r, g.words.materials) + " " + word(r, g.words.nouns)
		v[0], v[1], v[2], v[3] = id, string(appendPadded([]byte("SKU-"), id, 7)), name, price
	}}
}

func (g *Generator) imageSource() pgx.CopyFromSource {
	product, position, last := int64(0), int64(0), int64(0)
	return &source{n: g.images, vals: make([]any, 4), row: func(id int64, v []any) {
		if position == last {
			product++
			position, last = 0, g.imageCount(product)
		}
		position++
		url := make([]byte, 0, 64)
		url = append(url, "https://img.example.com/products/"...)
		url = strconv.AppendInt(url, product, 10)
		url = append(url, '/')
		url = strconv.AppendInt(url, position, 10)
		url = append(url, ".jpg"...)
		v[0], v[1], v[2], v[3] = id, product, int16(position), string(url)
	}}
}

func (g *Generator) orderSource() pgx.CopyFromSource {
	r := newRowRand()
	key := g.seed(saltOrders)
	return &source{n: int64(g.cfg.Orders), vals: make([]any, 8), row: func(id int64, v []any) {
		r.seed(key, id)
		o := g.order(r, id)
		v[0], v[1], v[2], v[3] = id, OrderNumber(id), o.customer, o.address
		v[4], v[5], v[6], v[7] = string(o.status), time.UnixMicro(o.created).UTC(), time.UnixMicro(o.updated).UTC(), o.version
	}}
}

// order is the generated state of one order.
type order struct {
	customer, address int64
	created, updated  int64 // unix microseconds
	status            domain.Status
	version           int32
}

// order simulates the life of order id up to the end of Today: created at
// a time proportional to its id (ids grow with time, as identity values
// do), possibly extended by add_line commands, then confirmed and shipped,
// cancelled, or abandoned as a cart, with realistic delays. Only the
// commands that happened before the end of Today count, so old orders are
// mostly shipped or cancelled and recent ones carts or confirmed; version
// counts the commands (create_order is 1).
func (g *Generator) order(r *rowRand, id int64) order {
	o := order{customer: pick(r, g.customerCum), status: domain.StatusCart, version: domain.InitialVersion}
	first, end := g.addrFirst[o.customer-1], g.addrFirst[o.customer]
	o.address = first
	if end-first > 1 && r.IntN(4) == 0 {
		o.address = first + 1
	}

	// created: slot id-1 of Orders equal slots over the window, plus jitter
	// within the slot. 128-bit arithmetic: span × id overflows int64.
	span := uint64(g.endUS - g.startUS)
	n := uint64(g.cfg.Orders)
	slot := mulDiv(span, uint64(id-1), n)
	width := mulDiv(span, uint64(id), n) - slot
	o.created = g.startUS + int64(slot)
	if width > 0 {
		o.created += r.Int64N(int64(width))
	}
	o.updated = o.created
	now := g.endUS - 1

	apply := func(at int64, to domain.Status) bool {
		if at > now {
			return false
		}
		if to != "" {
			o.status = to
		}
		o.version++
		o.updated = at
		return true
	}
	// Lines added after creation: one order in four grew by add_line. They
	// happen within minutes and all count (the lines exist), so their
	// times are capped at the end of the window.
	at := o.created
	if lines := g.lineCount(id); lines > 1 && r.IntN(4) == 0 {
		for range 1 + r.Int64N(lines-1) {
			at = min(at+r.between(10*usSecond, 10*usMinute), now)
			apply(at, "")
		}
	}
	// Fate: 89% shipped, 4% cancelled as a cart, 4% cancelled once
	// confirmed, 3% abandoned carts.
	fate := r.IntN(100)
	if fate < 3 {
		return o
	}
	if fate < 7 {
		apply(at+r.between(30*usMinute, 48*usHour), domain.StatusCancelled)
		return o
	}
	// Confirmation delays are skewed short: most within hours.
	at += 5*usMinute + min(r.Int64N(24*usHour), r.Int64N(24*usHour))
	if !apply(at, domain.StatusConfirmed) {
		return o
	}
	if fate < 11 {
		apply(at+r.between(30*usMinute, 48*usHour), domain.StatusCancelled)
		return o
	}
	apply(at+r.between(6*usHour, 72*usHour), domain.StatusShipped)
	return o
}

func (g *Generator) lineSource() pgx.CopyFromSource {
	r := newRowRand()
	key := g.seed(saltLines)
	order, lineNo, lines := int64(0), int64(0), int64(0)
	var products [5]int64
	return &source{n: g.lines, vals: make([]any, 5), row: func(_ int64, v []any) {
		if lineNo == lines {
			order++
			lineNo, lines = 0, g.lineCount(order)
			r.seed(key, order)
		}
		// A product at most once per order (a few retries, then accept).
		p := pick(r, g.productCum)
		for try := 0; try < 3 && containsID(products[:lineNo], p); try++ {
			p = pick(r, g.productCum)
		}
		products[lineNo] = p
		lineNo++
		quantity := int32(1)
		switch q := r.IntN(100); {
		case q >= 97:
			quantity = int32(4 + r.IntN(7))
		case q >= 88:
			quantity = 3
		case q >= 65:
			quantity = 2
		}
		price := g.priceCents[p-1]
		if r.IntN(10) == 0 { // a discount of 5 to 30%
			price = price * int32(70+r.IntN(26)) / 100
		}
		v[0], v[1], v[2], v[3], v[4] = order, int16(lineNo), p, quantity, price
	}}
}

func containsID(ids []int64, id int64) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
