package derived_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/kafkalocal"
	"github.com/cqrsbench/cqrsbench/harness/infra/pglocal"
	"github.com/cqrsbench/cqrsbench/harness/infra/rabbitlocal"
	"github.com/cqrsbench/cqrsbench/internal/pgtest"
	"github.com/cqrsbench/cqrsbench/reference/pack"
	"github.com/cqrsbench/cqrsbench/reference/pack/derived"
	"github.com/cqrsbench/cqrsbench/reference/workload"
)

// The PostgreSQL and the RabbitMQ node (started on first use) the
// package's tests share.
var (
	shared = pgtest.NewShared(pglocal.Options{})
	node   infratest.Shared[*rabbitlocal.Node]
	broker infratest.Shared[*kafkalocal.Broker]
)

func TestMain(m *testing.M) {
	code := node.Run(m)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := broker.Close(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "close the Kafka broker:", err)
		code = 1
	}
	shared.Close()
	os.Exit(code)
}

// counter loads testdata/counter into schema and gives it one command
// (add: an item of :qty in group :grp, changing group_totals' key grp, or
// refused when :qty is 0) and one read model (group_totals: per group, its
// items' count and total).
func counter(t *testing.T, pool *pgxpool.Pool, schema string) *pack.Pack {
	t.Helper()
	p, err := pack.Load("testdata/counter")
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Load(t.Context(), pool, schema, workload.Dataset{Seed: 1, Today: time.Now()}); err != nil {
		t.Fatal(err)
	}
	p.ReadModels = []*pack.ReadModel{{Name: "group_totals", Key: []string{"grp"},
		Projection: pack.SQL{File: "test", Line: 1, Text: "SELECT grp, count(*) AS n, sum(qty)::bigint AS total FROM items GROUP BY grp"}}}
	p.Commands = []*pack.Command{{Name: "add", Weight: 1,
		Statements: []pack.CommandStatement{{Name: "insert", RejectIfEmpty: "empty_item", Statement: pack.Statement{
			Text: "INSERT INTO items (grp, qty) SELECT $1, $2 WHERE $2::int > 0 RETURNING grp", Params: []string{"grp", "qty"}}}},
		Affects: map[string][]string{"group_totals": {"grp"}}}}
	p.Screens = []*pack.Screen{{Name: "group", Weight: 1, Owner: "grp",
		CRUD:      pack.Statement{Text: "SELECT grp, count(*), sum(qty) FROM items WHERE grp = $1 GROUP BY grp", Params: []string{"grp"}},
		ReadModel: "group_totals",
		Flat:      pack.Statement{Text: "SELECT * FROM group_totals WHERE grp = $1", Params: []string{"grp"}}}}
	return p
}

func violations(t *testing.T, p *pack.Pack, pool *pgxpool.Pool, schema string) int64 {
	t.Helper()
	diffs, err := p.Check(t.Context(), pool, schema, p.Tables())
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, d := range diffs {
		n += d.Violations()
		if d.Violations() > 0 {
			t.Logf("%s: %+v", d.Table, d)
		}
	}
	return n
}

// barrier returns a hook that returns once n callers have reached it.
func barrier(n int) func(context.Context) error {
	var mu sync.Mutex
	arrived := 0
	all := make(chan struct{})
	return func(ctx context.Context) error {
		mu.Lock()
		arrived++
		if arrived == n {
			close(all)
		}
		mu.Unlock()
		select {
		case <-all:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// beforeCommit returns a hook that holds a command's commit until the
// other command has recomputed too, or is seen waiting for a lock in
// pg_stat_activity (then it cannot recompute before this one commits).
func beforeCommit(pool *pgxpool.Pool) func(context.Context) error {
	arrive := barrier(2)
	return func(ctx context.Context) error {
		both := make(chan error, 1)
		go func() { both <- arrive(ctx) }()
		for {
			var waiting bool
			if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock')`).Scan(&waiting); err != nil {
				return err
			}
			if waiting {
				return nil
			}
			select {
			case err := <-both:
				return err
			case <-time.After(5 * time.Millisecond): // poll pg_stat_activity
			}
		}
	}
}

// TestSyncConcurrentCommandsOnOneKey: two commands add to one group at
// once; both have written before either recomputes the group's row, and
// neither commits before the other recomputed or waits for a lock (hooks
// hold them). With the key lock the second waits for the first's commit
// and then recomputes, seeing both items; without it the second's
// recompute reads before the first commits (and waits only to write its
// row), so it misses the first's item and the checker finds the row
// stale.
//
// The "repeatable read default" case runs on a database whose sessions
// default to REPEATABLE READ (as an external one may): commands still run
// READ COMMITTED, or the second would fail to serialize its key's version.
func TestSyncConcurrentCommandsOnOneKey(t *testing.T) {
	for _, tc := range []struct {
		name           string
		noLock, repeat bool
	}{{"key lock", false, false}, {"no key lock", true, false}, {"key lock, repeatable read default", false, true}} {
		noLock := tc.noLock
		t.Run(tc.name, func(t *testing.T) {
			pool := shared.Pool(t)
			if tc.repeat {
				cfg := pool.Config()
				cfg.ConnConfig.RuntimeParams["default_transaction_isolation"] = "repeatable read"
				rr, err := pgxpool.NewWithConfig(t.Context(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				defer rr.Close()
				pool = rr
			}
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			const schema = "cqrs_sync"
			p := counter(t, pool, schema)
			sys, err := derived.NewSync(ctx, "cqrs-sync", pool, schema, p, derived.SyncOptions{NoKeyLock: noLock, AfterWrites: barrier(2), BeforeCommit: beforeCommit(pool)})
			if err != nil {
				t.Fatal(err)
			}
			defer sys.Close(context.Background())
			if err := sys.Setup(ctx); err != nil {
				t.Fatal(err)
			}
			if n := violations(t, p, pool, schema); n != 0 {
				t.Fatalf("after setup: %d rows differ", n)
			}
			errs := make(chan error, 2)
			for _, qty := range []int{3, 4} {
				go func() {
					_, err := sys.Run(ctx, p.Commands[0], map[string]any{"grp": 2, "qty": qty})
					errs <- err
				}()
			}
			for range 2 {
				if err := <-errs; err != nil {
					t.Fatal(err)
				}
			}
			n := violations(t, p, pool, schema)
			if !noLock && n != 0 {
				t.Fatalf("with the key lock: %d rows differ, want 0", n)
			}
			if noLock && n == 0 {
				t.Fatal("negative control: without the key lock no row is stale; the test does not exercise the race")
			}
		})
	}
}

// TestRunAndShow: a command's changed keys, its refusal, and the screen on
// every derived architecture; the read side matches the write model once
// caught up (cqrs-matview: not before its refresh).
func TestRunAndShow(t *testing.T) {
	pool := shared.Pool(t)
	ctx := t.Context()
	for _, arch := range []string{"crud", "cqrs-sync", "cqrs-matview"} {
		schema := map[string]string{"crud": "crud", "cqrs-sync": "cqrs_sync", "cqrs-matview": "cqrs_matview"}[arch]
		p := counter(t, pool, schema)
		sys := setUp(t, arch, pool, schema, p)
		out, err := sys.Run(ctx, p.Commands[0], map[string]any{"grp": 9, "qty": 5})
		if err != nil {
			t.Fatal(err)
		}
		if keys := out.Changed["group_totals"]; len(keys) != 1 || keys[0][0] != int32(9) {
			t.Errorf("%s: changed %v, want group_totals key [9]", arch, out.Changed)
		}
		_, err = sys.Run(ctx, p.Commands[0], map[string]any{"grp": 9, "qty": 0})
		var rej *pack.Rejected
		if !errors.As(err, &rej) || p.Rejection(err) != "empty_item" {
			t.Errorf("%s: a refused command returned %v, want a Rejected empty_item", arch, err)
		}
		want := 1
		if arch == "cqrs-matview" {
			want = 0 // not refreshed yet
		}
		if n, err := sys.Show(ctx, p.Screens[0], map[string]any{"grp": 9}); err != nil || n != want {
			t.Errorf("%s: screen of group 9 showed %d rows, %v; want %d", arch, n, err, want)
		}
		v := sys.(pack.Verifier)
		key := out.Changed["group_totals"][0]
		if cur, err := v.Current(ctx, p.ReadModels[0], key); err != nil || cur != (arch != "cqrs-matview") {
			t.Errorf("%s: Current right after the command = %v, %v; want true but for cqrs-matview", arch, cur, err)
		}
		if arch == "cqrs-matview" {
			if n := violations(t, p, pool, schema); n != 1 {
				t.Errorf("cqrs-matview before a refresh: %d rows differ, want group 9's missing", n)
			}
			if err := sys.WaitCaughtUp(ctx); err != nil {
				t.Fatal(err)
			}
			if cur, err := v.Current(ctx, p.ReadModels[0], key); err != nil || !cur {
				t.Errorf("cqrs-matview: Current after the refresh = %v, %v; want true", cur, err)
			}
		}
		if arch != "crud" {
			if n := violations(t, p, pool, schema); n != 0 {
				t.Errorf("%s after commands: %d rows differ", arch, n)
			}
		}
	}
}

// TestReadFromReplica: with the screens on a streaming replica whose
// replay is paused, a command is neither shown nor Current on crud,
// cqrs-sync and cqrs-matview; once replay resumes, WaitCaughtUp returns
// when the replica shows it.
func TestReadFromReplica(t *testing.T) {
	ctx := t.Context()
	primary, pool := pgtest.Own(t, map[string]string{"shared_buffers": "64MB"})
	standby, err := primary.StartStandby(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = standby.Close(context.Background()) })
	reads := pgtest.Connect(t, standby.DSN())

	for _, arch := range []string{"crud", "cqrs-sync", "cqrs-matview"} {
		schema := strings.ReplaceAll(arch, "-", "_")
		p := counter(t, pool, schema)
		sys := setUpOn(t, arch, pool, reads, schema, p)
		if _, err := reads.Exec(ctx, "SELECT pg_wal_replay_pause()"); err != nil {
			t.Fatal(err)
		}
		for state := ""; state != "paused"; {
			if err := reads.QueryRow(ctx, "SELECT pg_get_wal_replay_pause_state()").Scan(&state); err != nil {
				t.Fatal(err)
			}
		}
		out, err := sys.Run(ctx, p.Commands[0], map[string]any{"grp": 9, "qty": 5})
		if err != nil {
			t.Fatal(err)
		}
		key := out.Changed["group_totals"][0]
		if m, ok := sys.(*derived.Matview); ok { // refreshed on the primary, not replayed
			if err := m.Refresher.WaitCaughtUp(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n, err := sys.Show(ctx, p.Screens[0], map[string]any{"grp": 9}); err != nil || n != 0 {
			t.Errorf("%s, replay paused: the screen showed %d rows, %v; want the replica's 0", arch, n, err)
		}
		if cur, err := sys.(pack.Verifier).Current(ctx, p.ReadModels[0], key); err != nil || cur {
			t.Errorf("%s, replay paused: Current = %v, %v; want false", arch, cur, err)
		}
		if _, err := reads.Exec(ctx, "SELECT pg_wal_replay_resume()"); err != nil {
			t.Fatal(err)
		}
		if err := sys.WaitCaughtUp(ctx); err != nil {
			t.Fatal(err)
		}
		if n, err := sys.Show(ctx, p.Screens[0], map[string]any{"grp": 9}); err != nil || n != 1 {
			t.Errorf("%s, caught up: the screen showed %d rows, %v; want 1", arch, n, err)
		}
		if cur, err := sys.(pack.Verifier).Current(ctx, p.ReadModels[0], key); err != nil || !cur {
			t.Errorf("%s, caught up: Current = %v, %v; want true", arch, cur, err)
		}
	}
}

// TestReadModelIndexes: a read model's indexes: are created on its table
// (cqrs-sync) and its view (cqrs-matview), besides the key's.
func TestReadModelIndexes(t *testing.T) {
	pool := shared.Pool(t)
	ctx := t.Context()
	for _, arch := range []string{"cqrs-sync", "cqrs-matview"} {
		schema := map[string]string{"cqrs-sync": "cqrs_sync", "cqrs-matview": "cqrs_matview"}[arch]
		p := counter(t, pool, schema)
		p.ReadModels[0].Indexes = []string{"total DESC, n"}
		setUp(t, arch, pool, schema, p)
		var defs []string
		rows, err := pool.Query(ctx, `SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = 'group_totals' ORDER BY indexname`, schema)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var d string
			if err := rows.Scan(&d); err != nil {
				t.Fatal(err)
			}
			defs = append(defs, d)
		}
		if len(defs) != 2 || !slices.ContainsFunc(defs, func(d string) bool { return strings.Contains(d, "(total DESC, n)") }) {
			t.Errorf("%s: indexes %q, want the key's and (total DESC, n)", arch, defs)
		}
	}
}

// setUp builds the named derived architecture of p on schema (cqrs-matview
// refreshing only when asked) and sets it up; cleanup closes it.
func setUp(t *testing.T, arch string, pool *pgxpool.Pool, schema string, p *pack.Pack) pack.Executor {
	t.Helper()
	return setUpOn(t, arch, pool, nil, schema, p)
}

// setUpOn is setUp with the screens on reads, a streaming replica of
// pool's server (read_from: replica); nil: on pool.
func setUpOn(t *testing.T, arch string, pool, reads *pgxpool.Pool, schema string, p *pack.Pack) pack.Executor {
	t.Helper()
	ctx := t.Context()
	var sys pack.Executor
	var err error
	switch arch {
	case "crud":
		sys, err = derived.NewCRUD(ctx, arch, pool, schema, p)
	case "cqrs-sync":
		sys, err = derived.NewSync(ctx, arch, pool, schema, p, derived.SyncOptions{})
	default:
		sys, err = derived.NewMatview(ctx, arch, pool, schema, p, time.Hour)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sys.Close(context.Background()) })
	if reads != nil {
		if err := derived.ReadFromReplica(ctx, sys, reads); err != nil {
			t.Fatal(err)
		}
	}
	if err := sys.Setup(ctx); err != nil {
		t.Fatal(err)
	}
	return sys
}
