package cqrskafka_test

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/reference/cqrskafka"
	"github.com/cqrsbench/cqrsbench/reference/crud"
	"github.com/cqrsbench/cqrsbench/reference/datagen"
	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/outbox"
	"github.com/cqrsbench/cqrsbench/reference/readmodel"
	"github.com/cqrsbench/cqrsbench/reference/shop"
	"github.com/cqrsbench/cqrsbench/reference/writemodel"
)

// fixture is a loaded schema with a cqrs-kafka System set up on it.
type fixture struct {
	pool   *pgxpool.Pool
	schema string
	data   datagen.Config
	cfg    cqrskafka.Config
	sys    *cqrskafka.System
}

// newFixture loads a dataset of orders into a fresh schema and sets up a
// System on it with its own topic and group; adjust tweaks the Config. The
// System is not started.
func newFixture(t testing.TB, orders int, adjust func(*cqrskafka.Config)) *fixture {
	t.Helper()
	pool := testPool(t)
	brokers := testBrokers(t)
	ctx := t.Context()
	f := &fixture{pool: pool, schema: uniqueName("cqrs_kafka"), data: datagen.Config{Orders: orders, Seed: 11, Today: time.Now().UTC()}}
	dropSchemaAtEnd(t, pool, f.schema)
	if _, err := datagen.Load(ctx, pool, f.schema, f.data, nil); err != nil {
		t.Fatalf("load %d orders: %v", orders, err)
	}
	f.cfg = cqrskafka.Config{
		Schema: f.schema, Brokers: brokers, Topic: "cqrsbench.test." + f.schema, Group: "cqrsbench.test." + f.schema,
		OnError: func(err error) {
			if !errors.Is(err, context.Canceled) {
				t.Logf("background: %v", err)
			}
		},
	}
	if adjust != nil {
		adjust(&f.cfg)
	}
	sys, err := cqrskafka.New(pool, f.cfg)
	if err != nil {
		t.Fatal(err)
	}
	f.sys = sys
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := sys.Close(ctx); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	if err := sys.Setup(ctx); err != nil {
		t.Fatalf("setup: %v", err)
	}
	return f
}

func (f *fixture) start(t testing.TB) {
	t.Helper()
	if err := f.sys.Start(t.Context()); err != nil {
		t.Fatalf("start: %v", err)
	}
}

// holdTx begins a transaction the test commits (or leaves to be rolled
// back at its end) and returns it with a Store that runs commands the way
// the System does, so a command can be held open inside it.
func (f *fixture) holdTx(t testing.TB) (*writemodel.Store, pgx.Tx) {
	t.Helper()
	store, err := writemodel.New(f.schema, outbox.Extension())
	if err != nil {
		t.Fatal(err)
	}
	tx, err := f.pool.Begin(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = tx.Rollback(context.Background()) }) // a no-op once committed
	return store, tx
}

// waitCaughtUp waits for the System, within a generous bound that only a
// hang reaches.
func (f *fixture) waitCaughtUp(t testing.TB) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := f.sys.WaitCaughtUp(ctx); err != nil {
		t.Fatalf("wait caught up: %v (stats %+v)", err, f.sys.Stats())
	}
}

// commandMix is the kinds run in order, cyclically: every kind, with
// transitions often invalid for the order picked.
var commandMix = []domain.Kind{
	domain.KindCreateOrder, domain.KindAddLine, domain.KindConfirmOrder, domain.KindCreateOrder,
	domain.KindAddLine, domain.KindShipOrder, domain.KindCancelOrder, domain.KindConfirmOrder,
}

// outcomes counts command results by kind and class.
type outcomes map[string]int

// runCommands executes n commands of the mix through exec and returns the
// outcomes; invalid transitions are expected, other errors fail the test.
func (f *fixture) runCommands(t testing.TB, n int, seed uint64, exec func(context.Context, domain.Command) (int64, error)) outcomes {
	t.Helper()
	gen, err := datagen.New(f.data)
	if err != nil {
		t.Fatal(err)
	}
	cmds := shop.NewCommands(gen, seed, shop.CommandOptions{Random: 0.3})
	got := outcomes{}
	for i := range n {
		kind := commandMix[i%len(commandMix)]
		cmd, err := cmds.Next(kind)
		if err != nil {
			t.Fatal(err)
		}
		id, err := exec(t.Context(), cmd)
		switch {
		case err == nil:
			got[string(kind)+" ok"]++
			cmds.Applied(cmd, id)
		case errors.Is(err, domain.ErrInvalidTransition):
			got[string(kind)+" invalid"]++
		default:
			t.Fatalf("command %d %+v: %v", i, cmd, err)
		}
	}
	return got
}

// execSystem executes through the System.
func (f *fixture) execSystem(ctx context.Context, cmd domain.Command) (int64, error) {
	out, err := f.sys.Execute(ctx, cmd)
	return out.OrderID, err
}

// readModelDiff compares the read models with what the write model
// implies, row by row and field by field, and returns the differences
// (empty when they agree), a few samples each.
func readModelDiff(t testing.TB, pool *pgxpool.Pool, schema string) []string {
	t.Helper()
	expected := strings.ReplaceAll(readmodel.SummarySQL, "{{orders}}", "{{schema}}.orders")
	queries := []struct{ what, sql string }{
		{"order_read_model row missing or different", `
			WITH e AS (` + expected + `), a AS (
			    SELECT order_id, customer_id, number, created_at, status, status_label, total_cents, item_count, first_image_url, version
			    FROM {{schema}}.order_read_model)
			SELECT format('%s', x) FROM (SELECT * FROM e EXCEPT ALL SELECT * FROM a ORDER BY 1) x`},
		{"order_read_model row extra or different", `
			WITH e AS (` + expected + `), a AS (
			    SELECT order_id, customer_id, number, created_at, status, status_label, total_cents, item_count, first_image_url, version
			    FROM {{schema}}.order_read_model)
			SELECT format('%s', x) FROM (SELECT * FROM a EXCEPT ALL SELECT * FROM e ORDER BY 1) x`},
		{"daily_sales row missing or different", `
			WITH e AS (SELECT (t.created_at AT TIME ZONE 'UTC')::date AS day, t.status, min(t.label) AS label, count(*) AS orders, sum(t.total_cents)::bigint AS revenue
			           FROM (` + expected + `) t(id, customer_id, number, created_at, status, label, total_cents, item_count, url, version) GROUP BY 1, 2),
			     a AS (SELECT day, status, label, orders, revenue_cents FROM {{schema}}.daily_sales WHERE orders <> 0 OR revenue_cents <> 0)
			SELECT format('%s', x) FROM (SELECT * FROM e EXCEPT ALL SELECT * FROM a ORDER BY 1, 2) x`},
		{"daily_sales row extra or different", `
			WITH e AS (SELECT (t.created_at AT TIME ZONE 'UTC')::date AS day, t.status, min(t.label) AS label, count(*) AS orders, sum(t.total_cents)::bigint AS revenue
			           FROM (` + expected + `) t(id, customer_id, number, created_at, status, label, total_cents, item_count, url, version) GROUP BY 1, 2),
			     a AS (SELECT day, status, label, orders, revenue_cents FROM {{schema}}.daily_sales WHERE orders <> 0 OR revenue_cents <> 0)
			SELECT format('%s', x) FROM (SELECT * FROM a EXCEPT ALL SELECT * FROM e ORDER BY 1, 2) x`},
	}
	var diffs []string
	for _, q := range queries {
		rows, err := pool.Query(t.Context(), readmodel.Expand(q.sql, schema))
		if err != nil {
			t.Fatalf("%s: %v", q.what, err)
		}
		got, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatalf("%s: %v", q.what, err)
		}
		for i, r := range got {
			if i == 3 {
				diffs = append(diffs, fmt.Sprintf("%s: … %d in all", q.what, len(got)))
				break
			}
			diffs = append(diffs, q.what+": "+r)
		}
	}
	return diffs
}

// checkReadModels fails the test if the read models differ from what the
// write model implies, and compares every customer's list_orders and the
// dashboard of each day with the CRUD queries over the write model.
func (f *fixture) checkReadModels(t testing.TB) {
	t.Helper()
	if diffs := readModelDiff(t, f.pool, f.schema); len(diffs) > 0 {
		t.Fatalf("read models differ from the write model:\n%s", strings.Join(diffs, "\n"))
	}
	truth, err := crud.New(f.pool, f.schema)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	customers := int64(f.data.WithDefaults().Customers)
	for c := int64(1); c <= customers; c++ {
		got, err := f.sys.ListOrders(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		want, err := truth.ListOrders(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("list_orders(%d):\n got %+v\nwant %+v", c, got, want)
		}
	}
	today := readmodel.Day(f.data.WithDefaults().Today)
	for d := 0; d <= datagen.HistoryDays; d += 3 {
		day := today.AddDate(0, 0, -d)
		got, err := f.sys.SalesDashboard(ctx, day)
		if err != nil {
			t.Fatal(err)
		}
		want, err := truth.SalesDashboard(ctx, day)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("sales_dashboard(%s):\n got %+v\nwant %+v", day.Format(time.DateOnly), got, want)
		}
	}
}
