package reference_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/kafkalocal"
	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
	"github.com/cqrsbench/cqrsbench/harness/infra/rabbitlocal"
	"github.com/cqrsbench/cqrsbench/reference"
	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"github.com/cqrsbench/cqrsbench/reference/cqrskafka"
	"github.com/cqrsbench/cqrsbench/reference/cqrsmatview"
	"github.com/cqrsbench/cqrsbench/reference/cqrsrabbitmq"
	"github.com/cqrsbench/cqrsbench/reference/cqrssync"
	"github.com/cqrsbench/cqrsbench/reference/crud"
	"github.com/cqrsbench/cqrsbench/reference/datagen"
	"github.com/cqrsbench/cqrsbench/reference/domain"
	"github.com/cqrsbench/cqrsbench/reference/settings"
	"github.com/cqrsbench/cqrsbench/reference/shop"
	"github.com/cqrsbench/cqrsbench/reference/writemodel"
)

// postgres starts a throwaway cluster for the test and returns a pool.
func postgres(t testing.TB) *pgxpool.Pool {
	t.Helper()
	return poolOn(t, cluster(t))
}

// postgresWithReplica starts a throwaway cluster and a hot standby of it
// for the test and returns a pool on each.
func postgresWithReplica(t testing.TB) (primary, replica *pgxpool.Pool) {
	t.Helper()
	c := cluster(t)
	standby, err := c.StartStandby(t.Context())
	if err != nil {
		t.Fatalf("start a standby: %v", err)
	}
	t.Cleanup(func() { _ = standby.Close(context.Background()) })
	return poolOn(t, c), poolOn(t, standby)
}

// cluster starts a throwaway cluster for the test.
func cluster(t testing.TB) *pglocal.Cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("needs PostgreSQL")
	}
	if _, err := pglocal.FindBinDir(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	c, err := pglocal.Start(t.Context(), pglocal.Options{})
	if err != nil {
		t.Fatalf("start postgres: %v", err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// poolOn returns a pool of 8 connections on c, closed after the test.
func poolOn(t testing.TB, c *pglocal.Cluster) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(c.DSN())
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 8
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// kafka starts a real local broker for the test.
func kafka(t testing.TB) []string {
	t.Helper()
	if _, err := kafkalocal.FindDistribution(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	b, err := kafkalocal.Start(t.Context(), kafkalocal.Options{HeapMB: 512})
	if err != nil {
		t.Fatalf("start kafka: %v", err)
	}
	t.Cleanup(func() { _ = b.Close(context.Background()) })
	return b.Brokers()
}

// rabbit starts a real local RabbitMQ node for the test.
func rabbit(t testing.TB) string {
	t.Helper()
	n, err := rabbitlocal.Start(t.Context(), rabbitlocal.Options{})
	if errors.Is(err, rabbitlocal.ErrNotInstalled) {
		infratest.Missing(t, "%v", err)
	}
	if err != nil {
		t.Fatalf("start rabbitmq: %v", err)
	}
	t.Cleanup(func() { _ = n.Close(context.Background()) })
	return n.URL()
}

// outcomeClass reduces a command's result to what must agree across
// architectures.
func outcomeClass(out reference.Outcome, err error) string {
	switch {
	case err == nil:
		return fmt.Sprintf("ok id=%d v=%d", out.OrderID, out.Version)
	case errors.Is(err, domain.ErrInvalidTransition):
		return "invalid transition: " + err.Error()
	case errors.Is(err, writemodel.ErrNotFound):
		return "not found"
	}
	return "error: " + err.Error()
}

// withoutCreatedAt blanks the creation time of rows created during the
// test, which differs between schemas by the microseconds between runs.
func withoutCreatedAt(rows []reference.OrderSummary, loaded int64) []reference.OrderSummary {
	out := make([]reference.OrderSummary, len(rows))
	for i, r := range rows {
		if r.OrderID > loaded {
			r.CreatedAt = time.Time{}
		}
		out[i] = r
	}
	return out
}

// TestArchitecturesAgree applies one seeded sequence of commands of every
// kind to every architecture, hand-written and derived from the shop
// written as a pack (workloads/shop), and checks that, once caught up,
// every query answers the same everywhere, and what each schema's own
// write model implies (by the hand-written CRUD queries). A pack's command
// agrees when it changed the same order or was refused too: it cannot
// tell an unknown order from one in another status, nor report the
// version it made.
func TestArchitecturesAgree(t *testing.T) {
	pool, replica := postgresWithReplica(t)
	brokers := kafka(t)
	amqpURL := rabbit(t)
	ctx := t.Context()
	today := time.Now().UTC()
	data := datagen.Config{Orders: 2_000, Seed: 7, Today: today}

	type arch struct {
		sys   shop.Architecture
		truth *crud.System // the CRUD queries on this architecture's own write model
		// fromPack: derived from workloads/shop, compared by coarseOutcome.
		fromPack bool
	}
	var archs []arch
	// Every architecture of the table, built as the harness builds it
	// (cqrs-rabbitmq with its default 4 competing workers); cqrs-matview
	// refreshes only when WaitCaughtUp asks.
	options := map[string]settings.Options{"cqrs-matview": &cqrsmatview.Options{Refresh: settings.Duration(time.Hour)}}
	table := catalog.Table()
	// cqrs-sync and cqrs-matview again, reading their read models on the
	// replica (read_from: replica), each on a schema of its own. (The
	// pipelines' read_from is the same pipeline.Orders; TestReplicaFaults
	// runs it.) The pack's run these two and cqrs-kafka on the replica.
	onReplica := settings.ReadFrom{ReadFrom: settings.ReadReplica}
	kafkaOnReplica := cqrskafka.DefaultOptions()
	kafkaOnReplica.ReadFrom = onReplica
	var replicaVariants []catalog.Descriptor
	for _, v := range []struct {
		arch string
		opts settings.Options
	}{
		{"cqrs-sync", &cqrssync.Options{ReadFrom: onReplica}},
		{"cqrs-matview", &cqrsmatview.Options{ReadFrom: onReplica, Refresh: settings.Duration(time.Hour)}},
		{"cqrs-kafka", kafkaOnReplica},
	} {
		d := catalog.MustLookup(v.arch + catalog.VariantSeparator + "replica")
		d.Schema += "_replica"
		options[d.Name] = v.opts
		replicaVariants = append(replicaVariants, d)
		if v.arch != "cqrs-kafka" {
			table = append(table, d)
		}
	}
	for _, d := range table {
		name, schema := d.Name, d.Schema
		if _, err := datagen.Load(ctx, pool, schema, data, nil); err != nil {
			t.Fatalf("load %s: %v", schema, err)
		}
		sys, err := d.New(ctx, catalog.Deps{Pool: pool, ReadPool: replica, Schema: schema, Options: options[name],
			Kafka: catalog.KafkaEndpoint{Brokers: brokers}, AMQP: catalog.AMQPEndpoint{URL: amqpURL}})
		if err != nil {
			t.Fatal(err)
		}
		if err := sys.Setup(ctx); err != nil {
			t.Fatalf("%s setup: %v", name, err)
		}
		if err := sys.Start(ctx); err != nil {
			t.Fatalf("%s start: %v", name, err)
		}
		t.Cleanup(func() { _ = sys.Close(context.Background()) })
		truth, err := crud.New(pool, schema)
		if err != nil {
			t.Fatal(err)
		}
		archs = append(archs, arch{sys: sys.(shop.Architecture), truth: truth})
	}
	deps := catalog.Deps{Pool: pool, ReadPool: replica, Kafka: catalog.KafkaEndpoint{Brokers: brokers}, AMQP: catalog.AMQPEndpoint{URL: amqpURL}}
	// The pack's transports must not share the hand-written ones' queues
	// and topics: both run at once here.
	rabbitOptions := cqrsrabbitmq.DefaultOptions()
	rabbitOptions.Queue = "cqrsbench.pack-events"
	packOptions := map[string]settings.Options{"cqrs-matview": options["cqrs-matview"], "cqrs-rabbitmq": rabbitOptions}
	for _, d := range replicaVariants {
		packOptions[d.Name] = options[d.Name]
	}
	for _, sys := range derivedArchitectures(t, deps, data, packOptions, replicaVariants...) {
		truth, err := crud.New(pool, sys.schema)
		if err != nil {
			t.Fatal(err)
		}
		archs = append(archs, arch{sys: sys, truth: truth, fromPack: true})
	}

	gen, err := datagen.New(data)
	if err != nil {
		t.Fatal(err)
	}
	cmds := shop.NewCommands(gen, 42, shop.CommandOptions{Random: 0.5})
	kinds := []domain.Kind{
		domain.KindCreateOrder, domain.KindCreateOrder, domain.KindAddLine, domain.KindAddLine,
		domain.KindConfirmOrder, domain.KindConfirmOrder, domain.KindShipOrder, domain.KindCancelOrder,
	}
	counts := map[string]int{}
	const commands = 2_400
	for i := range commands {
		kind := kinds[i%len(kinds)]
		cmd, err := cmds.Next(kind)
		if err != nil {
			t.Fatal(err)
		}
		var first, firstCoarse string
		for j, a := range archs {
			out, err := a.sys.Execute(ctx, cmd)
			class := outcomeClass(out, err)
			if a.fromPack {
				if c := coarseOutcome(out, err); c != firstCoarse {
					t.Fatalf("command %d %+v: %s says %q, %s says %q (%v)", i, cmd, archs[0].sys.Name(), firstCoarse, a.sys.Name(), c, err)
				}
				continue
			}
			if j == 0 {
				first, firstCoarse = class, coarseOutcome(out, err)
				if err == nil {
					cmds.Applied(cmd, out.OrderID)
				}
				switch {
				case err == nil:
					counts[string(kind)+" ok"]++
				case errors.Is(err, domain.ErrInvalidTransition):
					counts[string(kind)+" invalid"]++
				default:
					counts[string(kind)+" other"]++
				}
				continue
			}
			if class != first {
				t.Fatalf("command %d %+v: %s says %q, %s says %q", i, cmd, archs[0].sys.Name(), first, a.sys.Name(), class)
			}
		}
	}
	t.Logf("outcomes of %d commands: %v", commands, counts)
	for _, kind := range domain.Kinds() {
		if counts[string(kind)+" ok"] == 0 {
			t.Errorf("no successful %s: the sequence does not exercise it", kind)
		}
	}
	for _, kind := range []domain.Kind{domain.KindAddLine, domain.KindConfirmOrder, domain.KindShipOrder, domain.KindCancelOrder} {
		if counts[string(kind)+" invalid"] == 0 {
			t.Errorf("no invalid %s: the sequence does not exercise invalid transitions", kind)
		}
	}

	for _, a := range archs {
		if err := a.sys.WaitCaughtUp(ctx); err != nil {
			t.Fatalf("%s: wait caught up: %v", a.sys.Name(), err)
		}
	}
	loaded := int64(data.Orders)
	customers := int64(data.WithDefaults().Customers)
	for customer := int64(1); customer <= customers; customer++ {
		var first []reference.OrderSummary
		for j, a := range archs {
			got, err := a.sys.ListOrders(ctx, customer)
			if err != nil {
				t.Fatalf("%s list_orders(%d): %v", a.sys.Name(), customer, err)
			}
			want, err := a.truth.ListOrders(ctx, customer)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s list_orders(%d) differs from its write model:\n got %+v\nwant %+v", a.sys.Name(), customer, got, want)
			}
			got = withoutCreatedAt(got, loaded)
			if j == 0 {
				first = got
			} else if !reflect.DeepEqual(got, first) {
				t.Fatalf("list_orders(%d): %s and %s differ:\n%+v\n%+v", customer, archs[0].sys.Name(), a.sys.Name(), first, got)
			}
		}
	}
	for _, day := range []time.Time{today, today.AddDate(0, 0, -3)} {
		var first []reference.StatusSales
		for j, a := range archs {
			got, err := a.sys.SalesDashboard(ctx, day)
			if err != nil {
				t.Fatalf("%s sales_dashboard: %v", a.sys.Name(), err)
			}
			want, err := a.truth.SalesDashboard(ctx, day)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s sales_dashboard(%s) differs from its write model:\n got %+v\nwant %+v", a.sys.Name(), day.Format(time.DateOnly), got, want)
			}
			if len(got) == 0 {
				t.Errorf("%s sales_dashboard(%s) is empty: nothing compared", a.sys.Name(), day.Format(time.DateOnly))
			}
			if j == 0 {
				first = got
			} else if !reflect.DeepEqual(got, first) {
				t.Fatalf("sales_dashboard(%s): %s and %s differ:\n%+v\n%+v", day.Format(time.DateOnly), archs[0].sys.Name(), a.sys.Name(), first, got)
			}
		}
	}
}

func TestMain(m *testing.M) { os.Exit(m.Run()) }
