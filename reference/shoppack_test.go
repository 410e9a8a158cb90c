package reference_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"github.com/cqrsbench/cqrsbench/reference/datagen"
	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/pack"
	"github.com/cqrsbench/cqrsbench/reference/pack/derived"
	"github.com/cqrsbench/cqrsbench/reference/readmodel"
	"github.com/cqrsbench/cqrsbench/reference/settings"
	"github.com/cqrsbench/cqrsbench/reference/shop"
	"github.com/cqrsbench/cqrsbench/reference/workload"
	"github.com/cqrsbench/cqrsbench/reference/writemodel"
)

// shopPackDir is the shop written as a workload pack.
var shopPackDir = filepath.Join("..", "workloads", "shop")

// loadShopPack parses workloads/shop.
func loadShopPack(t testing.TB) *pack.Pack {
	t.Helper()
	p, err := pack.Load(shopPackDir)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// errRefused is a command the application refused: for the hand-written
// architectures an invalid transition or an unknown order or address; for
// a pack a reject_if_empty statement that found no row (the pack cannot
// tell the two apart: its lock finds no order in the expected status).
var errRefused = errors.New("refused")

// coarseOutcome reduces a command's result to what a pack and the
// hand-written architectures must agree on: the order it changed, or that
// it was refused.
func coarseOutcome(out reference.Outcome, err error) string {
	switch {
	case err == nil:
		return fmt.Sprintf("ok id=%d", out.OrderID)
	case errors.Is(err, errRefused), errors.Is(err, domain.ErrInvalidTransition), errors.Is(err, writemodel.ErrNotFound):
		return "refused"
	}
	return "error: " + err.Error()
}

// shopPack is an architecture derived from workloads/shop seen as the
// hand-written ones are (shop.Architecture): a domain command becomes the
// pack's command of the same name with its parameters; list_orders and
// sales_dashboard run the query the architecture's Show runs for the
// screen, and the rows are decoded as the hand-written screens decode
// theirs.
type shopPack struct {
	pack.Executor
	p      *pack.Pack
	schema string
	// db has the architecture's schema as its search_path, as the pack's
	// unqualified SQL needs; it is on the replica when the architecture's
	// screens read there.
	db *pgxpool.Pool
	// crud: the screens run their CRUD queries (the crud architecture);
	// otherwise their flat queries on the read models.
	crud bool
}

var _ shop.Architecture = (*shopPack)(nil)

// newShopPack derives architecture d of p on schema (loaded by the
// shop's loader) and sets it up and starts it.
func newShopPack(t *testing.T, d catalog.Descriptor, deps catalog.Deps, p *pack.Pack) *shopPack {
	t.Helper()
	ctx := t.Context()
	deps.Workload = p
	sys, err := catalog.Build(ctx, d, deps)
	if err != nil {
		t.Fatalf("derive %s: %v", d.Name, err)
	}
	if err := sys.Setup(ctx); err != nil {
		t.Fatalf("pack %s setup: %v", d.Name, err)
	}
	if err := sys.Start(ctx); err != nil {
		t.Fatalf("pack %s start: %v", d.Name, err)
	}
	t.Cleanup(func() { _ = sys.Close(context.Background()) })
	// The screens' rows are read where the architecture reads them.
	cfg := deps.Pool.Config()
	if slices.Contains(d.Needs, catalog.Replica) {
		cfg = deps.ReadPool.Config()
	}
	cfg.ConnConfig.RuntimeParams["search_path"] = pgx.Identifier{deps.Schema}.Sanitize()
	db, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(db.Close)
	_, isCRUD := sys.(*derived.CRUD)
	return &shopPack{Executor: sys.(pack.Executor), p: p, schema: deps.Schema, db: db, crud: isCRUD}
}

// Name tells the pack's architectures from the hand-written ones.
func (s *shopPack) Name() string { return "pack " + s.Executor.Name() }

// Execute runs the pack's command for cmd.
func (s *shopPack) Execute(ctx context.Context, cmd domain.Command) (reference.Outcome, error) {
	name, args := shopPackArgs(cmd)
	i := slices.IndexFunc(s.p.Commands, func(c *pack.Command) bool { return c.Name == name })
	if i < 0 {
		return reference.Outcome{}, fmt.Errorf("the shop pack has no command %s", name)
	}
	out, err := s.Run(ctx, s.p.Commands[i], args)
	var rejected *pack.Rejected
	if errors.As(err, &rejected) {
		return reference.Outcome{}, fmt.Errorf("%w: %v", errRefused, err)
	}
	if err != nil {
		return reference.Outcome{}, err
	}
	keys := out.Changed["order_read_model"]
	if len(keys) != 1 {
		return reference.Outcome{}, fmt.Errorf("%s changed orders %v; want one", name, keys)
	}
	return reference.Outcome{OrderID: keys[0][0].(int64)}, nil
}

// shopPackArgs maps a domain command to the pack's command and parameter
// values (workloads/shop/workload.yaml names them).
func shopPackArgs(cmd domain.Command) (string, map[string]any) {
	switch c := cmd.(type) {
	case domain.CreateOrder:
		var ids []int64
		var quantities, prices []int32
		for _, l := range c.Lines {
			ids, quantities, prices = append(ids, l.ProductID), append(quantities, l.Quantity), append(prices, l.UnitPriceCents)
		}
		return "create_order", map[string]any{"address.id": c.ShippingAddressID, "address.customer_id": c.CustomerID,
			"lines.id": ids, "lines.quantity": quantities, "lines.price_cents": prices}
	case domain.AddLine:
		return "add_line", map[string]any{"cart": c.OrderID, "product.id": c.Line.ProductID,
			"product.price_cents": c.Line.UnitPriceCents, "quantity": c.Line.Quantity}
	case domain.ConfirmOrder:
		return "confirm_order", map[string]any{"cart": c.OrderID}
	case domain.ShipOrder:
		return "ship_order", map[string]any{"confirmed": c.OrderID}
	case domain.CancelOrder:
		return "cancel_order", map[string]any{"open_order": c.OrderID}
	}
	panic(fmt.Sprintf("no pack command for %T", cmd))
}

// screen runs screen name with args: the rows of the query Show runs, and
// Show itself, which must count as many.
func (s *shopPack) screen(ctx context.Context, name string, args map[string]any) (pgx.Rows, error) {
	i := slices.IndexFunc(s.p.Screens, func(sc *pack.Screen) bool { return sc.Name == name })
	if i < 0 {
		return nil, fmt.Errorf("the shop pack has no screen %s", name)
	}
	sc := s.p.Screens[i]
	st := sc.Flat
	if s.crud {
		st = sc.CRUD
	}
	vals, err := st.Args(args)
	if err != nil {
		return nil, err
	}
	var n int
	if err := s.db.QueryRow(ctx, "SELECT count(*) FROM ("+st.Text+") q", vals...).Scan(&n); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	shown, err := s.Show(ctx, sc, args)
	if err != nil {
		return nil, err
	}
	if shown != n {
		return nil, fmt.Errorf("%s: Show counted %d rows, its query gives %d", name, shown, n)
	}
	return s.db.Query(ctx, st.Text, vals...)
}

// ListOrders runs the pack's list_orders.
func (s *shopPack) ListOrders(ctx context.Context, customerID int64) ([]reference.OrderSummary, error) {
	rows, err := s.screen(ctx, shop.ListOrders, map[string]any{"customer": customerID})
	if err != nil {
		return nil, err
	}
	return readmodel.ScanSummaries(rows)
}

// SalesDashboard runs the pack's sales_dashboard for day.
func (s *shopPack) SalesDashboard(ctx context.Context, day time.Time) ([]reference.StatusSales, error) {
	rows, err := s.screen(ctx, shop.SalesDashboard, map[string]any{pack.BuiltinNow: day})
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return readmodel.ScanSales(rows)
}

// TestShopPackHasTheShopsTables loads workloads/shop with its own
// generators and the built-in shop with its loader: every table of the
// pack has the columns, types and nullability of the shop's, so the pack's
// architectures can run on the shop's data, as TestArchitecturesAgree runs
// them.
func TestShopPackHasTheShopsTables(t *testing.T) {
	pool := postgres(t)
	ctx := t.Context()
	p := loadShopPack(t)
	if err := p.Load(ctx, pool, "shop_pack", workload.Dataset{Rows: 2_000, Seed: 1, Today: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if _, err := datagen.Load(ctx, pool, "shop_builtin", datagen.Config{Orders: 2_000, Seed: 1, Today: time.Now()}, nil); err != nil {
		t.Fatal(err)
	}
	columns := func(schema string) map[string]string {
		rows, err := pool.Query(ctx, `SELECT table_name || '.' || column_name, data_type || CASE WHEN is_nullable = 'YES' THEN ' null' ELSE '' END
			FROM information_schema.columns WHERE table_schema = $1`, schema)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		var col, typ string
		if _, err := pgx.ForEachRow(rows, []any{&col, &typ}, func() error { out[col] = typ; return nil }); err != nil {
			t.Fatal(err)
		}
		return out
	}
	packCols, shopCols := columns("shop_pack"), columns("shop_builtin")
	if len(packCols) < 20 {
		t.Fatalf("the pack's schema has %d columns", len(packCols))
	}
	for col, typ := range packCols {
		if shopCols[col] != typ {
			t.Errorf("%s: the pack says %q, the built-in shop %q", col, typ, shopCols[col])
		}
	}
	var orders, lines int64
	if err := pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM shop_pack.orders), (SELECT count(*) FROM shop_pack.order_lines)`).Scan(&orders, &lines); err != nil {
		t.Fatal(err)
	}
	if orders != 2_000 || lines < 2*orders {
		t.Errorf("the pack loaded %d orders and %d lines for --orders 2000", orders, lines)
	}
}

// derivedArchitectures returns the pack architectures of every
// architecture that derives one, and of variants (whose services deps
// has: those that read a replica need deps.ReadPool), each on its own
// schema loaded with the shop's data.
func derivedArchitectures(t *testing.T, deps catalog.Deps, data datagen.Config, options map[string]settings.Options, variants ...catalog.Descriptor) []*shopPack {
	t.Helper()
	p := loadShopPack(t)
	var out []*shopPack
	for _, d := range append(catalog.Table(), variants...) {
		d = d.With(options[d.Name])
		if d.Derive == nil || slices.Contains(d.Needs, catalog.Replica) && deps.ReadPool == nil {
			continue
		}
		deps := deps
		deps.Schema, deps.Options = "pack_"+d.Schema, options[d.Name]
		if _, err := datagen.Load(t.Context(), deps.Pool, deps.Schema, data, nil); err != nil {
			t.Fatalf("load %s: %v", deps.Schema, err)
		}
		out = append(out, newShopPack(t, d, deps, p))
	}
	return out
}
