package crud_test

import (
	"context"
	"slices"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/crud"
	"github.com/cqrsbench/cqrsbench/reference/datagen"
	"github.com/cqrsbench/cqrsbench/reference/domain"
)

// TestReplicaServesTheScreens runs crud-replica on a primary and its hot
// standby with the standby's replay paused: a command commits on the
// primary, the screens (read on the standby) miss it while CRUD on the
// primary sees it; once replay resumes, WaitCaughtUp returns only when the
// screens see it too.
func TestReplicaServesTheScreens(t *testing.T) {
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	if _, err := pglocal.FindBinDir(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	ctx := t.Context()
	primary, err := pglocal.Start(ctx, pglocal.Options{Settings: map[string]string{"shared_buffers": "128MB"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = primary.Close(context.Background()) })
	writes, err := pgxpool.New(ctx, primary.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer writes.Close()
	data := datagen.Config{Orders: 2_000, Seed: 1}
	if _, err := datagen.Load(ctx, writes, crud.ReplicaSchema, data, nil); err != nil {
		t.Fatal(err)
	}
	standby, err := primary.StartStandby(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = standby.Close(context.Background()) })
	reads, err := pgxpool.New(ctx, standby.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer reads.Close()

	sys, err := crud.OnReplica(writes, reads, "")
	if err != nil {
		t.Fatal(err)
	}
	onPrimary, err := crud.New(writes, crud.ReplicaSchema)
	if err != nil {
		t.Fatal(err)
	}
	if sys.Name() != crud.ReplicaName {
		t.Errorf("Name() = %q, want %q", sys.Name(), crud.ReplicaName)
	}
	if err := sys.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := reads.Exec(ctx, "SELECT pg_wal_replay_pause()"); err != nil {
		t.Fatal(err)
	}
	gen, err := datagen.New(data)
	if err != nil {
		t.Fatal(err)
	}
	const customer = 7
	out, err := sys.Execute(ctx, domain.CreateOrder{CustomerID: customer, ShippingAddressID: gen.AddressesOf(customer)[0],
		Lines: []domain.Line{{ProductID: 1, Quantity: 1, UnitPriceCents: gen.ProductPriceCents(1)}}})
	if err != nil {
		t.Fatal(err)
	}
	has := func(s *crud.System) bool {
		t.Helper()
		list, err := s.ListOrders(ctx, customer)
		if err != nil {
			t.Fatal(err)
		}
		return slices.ContainsFunc(list, func(o reference.OrderSummary) bool { return o.OrderID == out.OrderID })
	}
	if !has(onPrimary) {
		t.Fatalf("the primary does not list order %d, just created", out.OrderID)
	}
	if has(sys) {
		t.Fatalf("crud-replica lists order %d while the standby's replay is paused: its screens did not read the standby", out.OrderID)
	}
	if _, err := reads.Exec(ctx, "SELECT pg_wal_replay_resume()"); err != nil {
		t.Fatal(err)
	}
	if err := sys.WaitCaughtUp(ctx); err != nil {
		t.Fatal(err)
	}
	if !has(sys) {
		t.Errorf("crud-replica does not list order %d after WaitCaughtUp", out.OrderID)
	}
	if _, err := crud.OnReplica(writes, nil, ""); err == nil {
		t.Error("OnReplica without a replica: no error")
	}
}
