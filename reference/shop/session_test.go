package shop_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/shop"
	"github.com/cqrsbench/cqrsbench/reference/workload"
	"github.com/cqrsbench/cqrsbench/reference/writemodel"
)

// TestSessionRunsEveryOperation drives crud through a session: every
// operation runs; commands report the write they committed, list_orders
// the versions it showed, and the prober's Shows finds a new order on its
// customer's screen.
func TestSessionRunsEveryOperation(t *testing.T) {
	pool := shared.Pool(t)
	ctx := t.Context()
	w := shop.Workload{}
	d := catalog.MustLookup(catalog.Baseline())
	data := workload.Dataset{Rows: 500, Seed: 3, Today: time.Now()}
	if err := w.Load(ctx, pool, d.Schema, data); err != nil {
		t.Fatal(err)
	}
	sys, err := d.New(ctx, catalog.Deps{Pool: pool, Schema: d.Schema})
	if err != nil {
		t.Fatal(err)
	}
	if err := sys.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	before, err := w.Committed(ctx, pool, d.Schema)
	if err != nil {
		t.Fatal(err)
	}
	sess, err := w.Open(ctx, sys, pool, d.Schema, data, 1)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := sess.(interface {
		workload.Session
		workload.Prober
	})
	if !ok {
		t.Fatal("the shop's session is not a workload.Prober")
	}
	var committed int64
	for _, op := range w.Operations() {
		for range 20 {
			eff, err := s.Do(ctx, op.Name)
			if err != nil {
				if w.Rejection(err) == "" {
					t.Fatalf("%s: %v", op.Name, err)
				}
				continue
			}
			switch {
			case op.Query && eff.Write != nil, !op.Query && eff.Write == nil:
				t.Fatalf("%s: effect %+v, want a write exactly for commands", op.Name, eff)
			case op.Name == shop.ListOrders && (eff.Read == nil || eff.Read.Owner < 1 || eff.Read.Newest != 50):
				t.Fatalf("list_orders: read %+v, want the customer's versions and Newest 50", eff.Read)
			case eff.Write != nil:
				committed++
				wr := *eff.Write
				creates := op.Name == string(domain.KindCreateOrder) || op.Name == shop.OrderThenList
				if wr.Created != creates || wr.Version < 1 || wr.Committed.IsZero() {
					t.Fatalf("%s: write %+v", op.Name, wr)
				}
				if r := eff.Read; op.Name == shop.OrderThenList {
					if r == nil {
						t.Fatal("order_then_list: no read")
					}
					if _, shown := r.Version(wr.Entity); !r.OwnWrite || r.Owner != wr.Owner || !shown {
						t.Fatalf("order_then_list: read %+v, want the customer's own-write read showing order %d", r, wr.Entity)
					}
				}
				if shows, err := s.Shows(ctx, wr); err != nil || (wr.Created && !shows) {
					t.Fatalf("%s: Shows(%+v) = %v, %v; crud shows its writes at once", op.Name, wr, shows, err)
				}
			}
		}
	}
	after, err := w.Committed(ctx, pool, d.Schema)
	if err != nil {
		t.Fatal(err)
	}
	if after-before != committed {
		t.Errorf("Committed grew by %d over %d successful commands", after-before, committed)
	}
	if _, err := s.Do(ctx, "no_such_op"); err == nil {
		t.Error("an unknown operation ran")
	}
}

func TestRejectionNamesTheShopsRefusals(t *testing.T) {
	t.Parallel()
	w := shop.Workload{}
	for err, want := range map[error]string{
		fmt.Errorf("ship: %w", domain.ErrInvalidTransition): "invalid_transition",
		fmt.Errorf("add: %w", domain.ErrInvalidCommand):     "invalid_command",
		fmt.Errorf("x: %w", writemodel.ErrNotFound):         "not_found",
		errors.New("connection reset"):                      "",
	} {
		if got := w.Rejection(err); got != want {
			t.Errorf("Rejection(%v) = %q, want %q", err, got, want)
		}
	}
}
