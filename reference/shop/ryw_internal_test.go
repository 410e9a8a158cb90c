package shop

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/internal/pgtest"
	"github.com/cqrsbench/cqrsbench/reference/crud"
	"github.com/cqrsbench/cqrsbench/reference/datagen"
	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// TestWaitForTokenKeepsEveryWriteAndKnowsOffScreen: under wait-for-token
// a customer's read waits for all their writes a read has not shown, not
// only the last; and a command on an old order that sorts below their full
// list is shown by no read, so the read does not wait for it.
func TestWaitForTokenKeepsEveryWriteAndKnowsOffScreen(t *testing.T) {
	ctx := t.Context()
	_, pool := pgtest.Own(t, map[string]string{"shared_buffers": "32MB"})
	// The dataset's orders run to the end of its Today: yesterday's, so
	// that they are all older than the order this test creates, which must
	// lead the list.
	data := datagen.Config{Orders: 300, Customers: 2, Seed: 1, Today: time.Now().AddDate(0, 0, -1)}
	if _, err := datagen.Load(ctx, pool, "shop_ryw", data, nil); err != nil {
		t.Fatal(err)
	}
	sys, err := crud.New(pool, "shop_ryw")
	if err != nil {
		t.Fatal(err)
	}
	gen, err := datagen.New(data)
	if err != nil {
		t.Fatal(err)
	}
	s := newSession(sys, gen, 1)
	const timeout = 2 * time.Second
	if err := s.UseReadYourWrites(workload.ReadYourWrites{Policy: workload.RYWWaitForToken, Timeout: timeout}); err != nil {
		t.Fatal(err)
	}
	// The customer's oldest order that can still be cancelled: far below
	// the 50 their list shows.
	var customer, old int64
	if err := pool.QueryRow(ctx, `SELECT customer_id, id FROM shop_ryw.orders WHERE status IN ('cart', 'confirmed')
		AND customer_id = (SELECT customer_id FROM shop_ryw.orders GROUP BY 1 HAVING count(*) > 100 ORDER BY 1 LIMIT 1)
		ORDER BY created_at, id LIMIT 1`).Scan(&customer, &old); err != nil {
		t.Fatal(err)
	}
	execute := func(cmd domain.Command) {
		t.Helper()
		out, err := sys.Execute(ctx, cmd)
		if err != nil {
			t.Fatal(err)
		}
		_, created := cmd.(domain.CreateOrder)
		s.ryw.wrote(out, created)
	}
	execute(domain.CancelOrder{OrderID: old})
	began := time.Now()
	if _, err := s.ryw.list(ctx, s, customer); err != nil {
		t.Fatal(err)
	}
	if st := s.ReadYourWritesStats(); st.TimedOut != 0 || time.Since(began) >= timeout {
		t.Errorf("a read after a command on an order below the full list: %+v after %s; want no wait for it", st, time.Since(began))
	}
	if ws := s.ryw.token(customer); len(ws) != 0 {
		t.Errorf("pending after a read: %+v; want none", ws)
	}

	// A new order, then a command on another: both stay pending (not
	// only the last), and a second command on the new order moves its
	// version on. One read shows them all.
	execute(domain.CreateOrder{CustomerID: customer, ShippingAddressID: address(t, pool, customer), Lines: []domain.Line{{ProductID: 1, Quantity: 1, UnitPriceCents: 100}}})
	created := s.ryw.token(customer)[0].order
	execute(domain.ConfirmOrder{OrderID: created})
	var other int64
	if err := pool.QueryRow(ctx, `SELECT id FROM shop_ryw.orders WHERE customer_id = $1 AND status IN ('cart', 'confirmed') AND id <> $2
		ORDER BY created_at, id LIMIT 1`, customer, created).Scan(&other); err != nil {
		t.Fatal(err)
	}
	execute(domain.CancelOrder{OrderID: other})
	ws := s.ryw.token(customer)
	if len(ws) != 2 || ws[0] != (ownWrite{order: created, version: 2, created: true, at: ws[0].at}) || ws[1].order != other {
		t.Errorf("pending: %+v; want the new order, created, at version 2, and order %d", ws, other)
	}
	rows, err := s.ryw.list(ctx, s, customer)
	if err != nil {
		t.Fatal(err)
	}
	if rows[0].OrderID != created || rows[0].Version != 2 {
		t.Errorf("the list's first order %+v; want the new order at version 2", rows[0])
	}
	if st := s.ReadYourWritesStats(); st.TimedOut != 0 || len(s.ryw.token(customer)) != 0 {
		t.Errorf("%+v, pending %+v; want no timeout, nothing pending", st, s.ryw.token(customer))
	}
}

// address returns one of customer's shipping addresses.
func address(t *testing.T, pool *pgxpool.Pool, customer int64) int64 {
	t.Helper()
	var id int64
	if err := pool.QueryRow(t.Context(), "SELECT id FROM shop_ryw.addresses WHERE customer_id = $1 LIMIT 1", customer).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}
