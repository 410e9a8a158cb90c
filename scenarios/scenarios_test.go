package scenarios_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/catalog"
	"github.com/cqrsbench/cqrsbench/reference/cqrskafka"
	"github.com/cqrsbench/cqrsbench/reference/cqrsmatview"
	"github.com/cqrsbench/cqrsbench/reference/cqrssync"
	"github.com/cqrsbench/cqrsbench/reference/pipeline/relay"
	"github.com/cqrsbench/cqrsbench/reference/settings"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// mustParse parses a scenario that must be valid.
func mustParse(t *testing.T, yaml string) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return s
}

// errorLines returns the lines of a scenario error, checking it is the
// typed ErrorList the CLI maps to exit code 2.
func errorLines(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		t.Fatal("no error")
	}
	var list scenarios.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error %T is not an ErrorList: %v", err, err)
	}
	var one *scenarios.Error
	if !errors.As(err, &one) {
		t.Fatalf("errors.As(*Error) fails on %v", err)
	}
	return strings.Split(err.Error(), "\n")
}

func TestBuiltins(t *testing.T) {
	t.Parallel()
	names := scenarios.BuiltinNames()
	want := []string{"smoke", "mixed", "read-heavy", "write-heavy", "burst", "crossover", "capacity",
		"duplicates", "crashes", "broker-restart", "pg-restart", "poison", "visibility-gap", "catch-up", "rebuild", "read-your-writes", "relay-wal", "page-sweep"}
	if !slices.Equal(names, want) {
		t.Errorf("BuiltinNames() = %v, want %v", names, want)
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s, err := scenarios.Builtin(name)
			if err != nil {
				t.Fatalf("Builtin(%q): %v", name, err)
			}
			if s.Name != name {
				t.Errorf("Name = %q, want %q", s.Name, name)
			}
			if !s.Builtin || s.File != "scenarios/"+name+".yaml" {
				t.Errorf("Builtin = %v, File = %q", s.Builtin, s.File)
			}
			if d := s.Description; d == "" || len(d) > 100 || strings.ContainsAny(d, "\n\r") {
				t.Errorf("Description %q: want one line of 1 to 100 characters", d)
			}
			if err := s.Validate(); err != nil {
				t.Errorf("Validate after Builtin: %v", err)
			}
			if rt := s.RunTime(); rt <= 0 || rt > 5*time.Minute {
				t.Errorf("RunTime() = %s, want (0, 5m] for a 2-core laptop", rt)
			}
			if len(s.Load.Phases) == 0 || s.Mix.Total() <= 0 {
				t.Errorf("not fully defaulted: phases %v, mix %v", s.Load.Phases, s.Mix)
			}
			for _, f := range s.Faults {
				if f.Arch != "" && !s.Has(f.Arch) {
					t.Errorf("fault %s targets %s, which is not run", f.Kind, f.Arch)
				}
			}
		})
	}
}

func TestBuiltinsList(t *testing.T) {
	t.Parallel()
	all, err := scenarios.Builtins()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(scenarios.BuiltinNames()) {
		t.Errorf("Builtins() returned %d scenarios for %d names", len(all), len(scenarios.BuiltinNames()))
	}
}

// TestDefaultSuiteBudget keeps the default suite within about 4 minutes on
// a 2-core laptop: the measured runs, plus ~25s of loading and ~20s of
// start-up and checks.
func TestDefaultSuiteBudget(t *testing.T) {
	t.Parallel()
	s, err := scenarios.Builtin(scenarios.DefaultName)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.RunTime(); got > 3*time.Minute+20*time.Second {
		t.Errorf("%s RunTime() = %s, want <= 3m20s", s.Name, got)
	}
	if len(s.Architectures) != len(scenarios.DefaultArchitectures(s.Workload())) || s.Dataset.Orders < 100_000 {
		t.Errorf("%s runs %v on %d orders; want every architecture that runs by default on a moderate dataset", s.Name, s.Architectures, s.Dataset.Orders)
	}
	smoke, err := scenarios.Builtin("smoke")
	if err != nil {
		t.Fatal(err)
	}
	if got := smoke.RunTime(); got > time.Minute {
		t.Errorf("smoke RunTime() = %s, want seconds", got)
	}
	for _, w := range smoke.Workload().Operations() {
		op := scenarios.Op(w.Name)
		if smoke.Mix.Fraction(op) < 0.05 {
			t.Errorf("smoke gives %s %.0f%% of the mix; every operation needs a non-zero count", op, 100*smoke.Mix.Fraction(op))
		}
	}
}

func TestDefaults(t *testing.T) {
	t.Parallel()
	s := mustParse(t, "# only a comment\n")
	checks := []struct {
		name      string
		got, want any
	}{
		{"name from file", s.Name, "test"},
		{"workload", s.WorkloadName, "shop"},
		{"orders", s.Dataset.Orders, 200_000},
		{"customers", s.Dataset.Customers, 20_000},
		{"seed", s.Dataset.Seed, uint64(1)},
		{"skew", s.Dataset.Skew, 0.0},
		{"architectures", s.Architectures, slices.DeleteFunc(scenarios.Architectures(), func(a scenarios.Arch) bool { return a == "crud-replica" })},
		{"mix list_orders", s.Mix["list_orders"], 55.0},
		{"mix total", s.Mix.Total(), 100.0},
		{"mode", s.Load.Mode, scenarios.ModeOpen},
		{"rate", s.Load.Rate, 400.0},
		{"arrival", s.Load.Arrival, scenarios.ArrivalUniform},
		{"workers", s.Load.Workers, 64},
		{"connections", s.Load.Connections, 8},
		{"duration", s.Load.Duration.Std(), 40 * time.Second},
		{"warmup", s.Load.Warmup.Std(), 5 * time.Second},
		{"phases", s.Load.Phases, []scenarios.Phase{{Name: "steady", Duration: s.Load.Duration, Rate: 400}}},
		{"interleaving", s.Interleaving, scenarios.Interleaving{Mode: scenarios.Sequential, Rounds: 1}},
		{"matview options", s.Options["cqrs-matview"], cqrsmatview.DefaultOptions()},
		{"kafka options", s.Options["cqrs-kafka"], cqrskafka.DefaultOptions()},
		{"crud takes none", s.Options["crud"], nil},
		{"prober", s.Prober, scenarios.Prober{Sample: 0.05,
			Poll: scenarios.Duration(time.Millisecond), Timeout: scenarios.Duration(30 * time.Second), MaxShare: 0.05}},
		{"faults", len(s.Faults), 0},
		{"thresholds", len(s.Thresholds), 0},
	}
	for _, c := range checks {
		if !equal(c.got, c.want) {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// equal reports whether two plain values are deeply equal.
func equal(a, b any) bool { return reflect.DeepEqual(a, b) }

// render formats phases compactly as name/duration/rate/ramp.
func render(phases []scenarios.Phase) string {
	var parts []string
	for _, p := range phases {
		r := ""
		if p.Ramp != nil {
			r = fmt.Sprint(*p.Ramp)
		}
		parts = append(parts, fmt.Sprintf("%s/%s/%v/%s", p.Name, p.Duration, p.Rate, r))
	}
	return strings.Join(parts, ",")
}

func sprint(v ...any) string { return fmt.Sprint(v...) }

func TestDerivedDefaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		yaml  string
		check func(t *testing.T, s *scenarios.Scenario)
	}{
		{"explicit zeros are kept", "load: {warmup: 0s}\ndataset: {seed: 0}\noptions: {cqrs-kafka: {linger: 0s, inbox: false}}\nprober: {sample: 0}\n",
			func(t *testing.T, s *scenarios.Scenario) {
				k := s.Options["cqrs-kafka"].(*cqrskafka.Options)
				if s.Load.Warmup != 0 || s.Dataset.Seed != 0 || k.Linger != 0 || k.Inbox || s.Prober.Sample != 0 {
					t.Errorf("explicit zeros replaced: warmup %s seed %d linger %s inbox %v sample %v",
						s.Load.Warmup, s.Dataset.Seed, k.Linger, k.Inbox, s.Prober.Sample)
				}
				if k.Topic != cqrskafka.DefaultTopic || k.BatchSize != cqrskafka.DefaultOptions().BatchSize {
					t.Errorf("fields not given lost their defaults: %+v", k)
				}
			}},
		{"name field wins", "name: custom\n", func(t *testing.T, s *scenarios.Scenario) {
			if s.Name != "custom" {
				t.Errorf("Name = %q", s.Name)
			}
		}},
		{"customers follow orders", "dataset: {orders: 5000}\n", func(t *testing.T, s *scenarios.Scenario) {
			if s.Dataset.Customers != 500 {
				t.Errorf("Customers = %d, want 500", s.Dataset.Customers)
			}
		}},
		{"at least one customer", "dataset: {orders: 3}\n", func(t *testing.T, s *scenarios.Scenario) {
			if s.Dataset.Customers != 1 {
				t.Errorf("Customers = %d, want 1", s.Dataset.Customers)
			}
		}},
		{"closed mode", "load: {mode: closed, duration: 20s}\n", func(t *testing.T, s *scenarios.Scenario) {
			l := s.Load
			if l.Rate != 0 || l.Arrival != "" || l.Workers != 4 || len(l.Phases) != 1 || l.Phases[0].Rate != 0 || l.Phases[0].Duration != l.Duration {
				t.Errorf("closed load = %+v", l)
			}
		}},
		{"interleaved rounds", "interleaving: {mode: interleaved}\n", func(t *testing.T, s *scenarios.Scenario) {
			if s.Interleaving.Rounds != 2 {
				t.Errorf("Rounds = %d, want 2", s.Interleaving.Rounds)
			}
			if got, want := s.RunTime(), 2*time.Duration(len(s.Architectures))*45*time.Second; got != want {
				t.Errorf("RunTime() = %s, want %s", got, want)
			}
		}},
		{"a variant runs with its own options, the architecture with its own", "architectures: [cqrs-kafka, cqrs-kafka/wal]\noptions: {cqrs-kafka/wal: {relay: wal}}\n",
			func(t *testing.T, s *scenarios.Scenario) {
				base, variant := s.Options.For("cqrs-kafka").(*cqrskafka.Options), s.Options.For("cqrs-kafka/wal").(*cqrskafka.Options)
				if base.Relay != string(relay.ModeSkipLocked) || variant.Relay != string(relay.ModeWAL) {
					t.Errorf("relays %q and %q, want skip-locked (the default) and wal", base.Relay, variant.Relay)
				}
				if d, ok := scenarios.Arch("cqrs-kafka/wal").Descriptor(); !ok || d.Name != "cqrs-kafka/wal" || d.Schema != "cqrs_kafka" || d.Baseline {
					t.Errorf("descriptor %+v, %v: want cqrs-kafka's under the variant's name", d, ok)
				}
			}},
		{"read_from: replica needs a replica, and takes replica faults", "architectures: [cqrs-kafka]\noptions: {cqrs-kafka: {read_from: replica}}\nfaults: [{kind: replica-pause, duration: 1s}]\n",
			func(t *testing.T, s *scenarios.Scenario) {
				if d, ok := s.Descriptor("cqrs-kafka"); !ok || !slices.Contains(d.Needs, catalog.Replica) {
					t.Errorf("needs %v, want the replica among them", d.Needs)
				}
				if !s.Faults[0].AppliesTo("cqrs-kafka", s) {
					t.Errorf("replica-pause does not apply to cqrs-kafka reading the replica")
				}
				s.Options["cqrs-sync"] = &cqrssync.Options{ReadFrom: settings.ReadFrom{ReadFrom: settings.ReadReplica}}
				if d, _ := s.Descriptor("cqrs-sync"); d.Consistency != catalog.Eventual || !slices.Contains(d.Needs, catalog.Replica) {
					t.Errorf("cqrs-sync reading the replica: %s, needs %v; want eventual, needing the replica", d.Consistency, d.Needs)
				}
			}},
		{"dead-letter topic follows topic", "options: {cqrs-kafka: {topic: shop.events}}\n", func(t *testing.T, s *scenarios.Scenario) {
			if k := s.Options["cqrs-kafka"].(*cqrskafka.Options); k.Topic != "shop.events" || k.DeadLetterTopic != "" {
				t.Errorf("Topic = %q, DeadLetterTopic = %q (want empty: the topic's, derived by cqrs-kafka)", k.Topic, k.DeadLetterTopic)
			}
		}},
		{"phases", "load:\n  rate: 150\n  phases:\n    - {duration: 10s}\n    - {duration: 5s, ramp: {from: 0, to: 300}}\n    - {name: top, duration: 5s, rate: 300}\n",
			func(t *testing.T, s *scenarios.Scenario) {
				want := "phase-1/10s/150/,phase-2/5s/0/{0 300},top/5s/300/"
				if got := render(s.Load.Phases); got != want {
					t.Errorf("phases = %s, want %s", got, want)
				}
				if s.Load.Duration.Std() != 20*time.Second {
					t.Errorf("Duration = %s, want the phases' 20s", s.Load.Duration)
				}
				if r := s.Load.Phases[1].RateAt(2500 * time.Millisecond); r != 150 {
					t.Errorf("ramp RateAt(2.5s) = %v, want 150", r)
				}
			}},
		{"fault defaults per kind", `architectures: [crud, cqrs-kafka]
faults:
  - {kind: duplicates}
  - {kind: relay-crash}
  - {kind: projector-crash, every: 5s}
  - {kind: broker-restart}
  - {kind: pg-restart}
  - {kind: visibility-gap}
  - {kind: catch-up}
  - {kind: rebuild}
  - {kind: rebuild, at: 10s}
`, func(t *testing.T, s *scenarios.Scenario) {
			f := s.Faults
			kafka := scenarios.Arch("") // every architecture that offers a pipeline
			checks := []struct {
				name      string
				got, want any
			}{
				{"duplicates", []any{f[0].Arch, f[0].Fraction, f[0].Method, f[0].Count}, []any{kafka, scenarios.Fraction(0.05), scenarios.DuplicateRepublish, 0}},
				{"relay-crash", []any{f[1].Arch, f[1].Count, f[1].Every}, []any{kafka, 1, scenarios.Duration(0)}},
				{"projector-crash", []any{f[2].Count, f[2].Point}, []any{0, scenarios.CrashAfterCommit}},
				{"broker-restart", f[3].Duration.Std(), 10 * time.Second},
				{"pg-restart", []any{f[4].Arch, f[4].Duration.Std()}, []any{scenarios.Arch(""), 3 * time.Second}},
				{"visibility-gap", f[5].Duration.Std(), 2 * time.Second},
				{"catch-up", []any{f[6].Events, f[6].Duration.Std()}, []any{10000, time.Minute}},
				{"rebuild", f[7].AfterLoad, true},
				{"rebuild at", f[8].AfterLoad, false},
			}
			for _, c := range checks {
				if !equal(c.got, c.want) {
					t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
				}
			}
		}},
		{"numbers", "dataset: {orders: 1_000_000, customers: 1e4}\nprober: {sample: 25%}\n", func(t *testing.T, s *scenarios.Scenario) {
			if s.Dataset.Orders != 1_000_000 || s.Dataset.Customers != 10_000 || s.Prober.Sample != 0.25 {
				t.Errorf("orders %d customers %d sample %v", s.Dataset.Orders, s.Dataset.Customers, s.Prober.Sample)
			}
		}},
		{"aliases", "load:\n  phases:\n    - &p {duration: 10s, rate: 5}\n    - *p\n", func(t *testing.T, s *scenarios.Scenario) {
			if got, want := render(s.Load.Phases), "phase-1/10s/5/,phase-2/10s/5/"; got != want {
				t.Errorf("phases %s, want %s", got, want)
			}
		}},
		{"thresholds", "thresholds: ['cqrs-kafka.list_orders.p(99.9) < 5ms', 'lag.p99 <= 0.2s']\n", func(t *testing.T, s *scenarios.Scenario) {
			if got := s.Thresholds[0].String(); got != "cqrs-kafka.list_orders.p99.9 < 5ms" {
				t.Errorf("threshold = %q", got)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.check(t, mustParse(t, tt.yaml))
		})
	}
}

// tooFast ends the error of a rate beyond runner.MaxRate.
const tooFast = " ops/s is more than cqrsbench's load generator schedules faithfully (100000 ops/s: above it, its own dispatch takes a core's noticeable share and the latencies measure it); lower the rate, or split the load over several cqrsbench processes"

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"unknown field", "load:\n  rat: 5\n",
			[]string{`x.yaml:2: unknown field "rat" in load (did you mean "rate"?)`}},
		{"unknown top-level field", "architecture: [crud]\n",
			[]string{`x.yaml:1: unknown field "architecture" (did you mean "architectures"?)`}},
		{"unknown field without suggestion", "prober:\n  zzz: 1\n",
			[]string{`x.yaml:2: unknown field "zzz" in prober; valid fields: sample, poll, timeout, max_share`}},
		{"read-your-writes policies", "read_your_writes:\n  policies:\n    crud-replica/wait: wait\n    cqrs-kafak: none\n",
			[]string{`x.yaml:3: read_your_writes.policies.crud-replica/wait: unknown read-your-writes policy "wait" (did you mean "wait-for-token"?); use one of none, primary-after-write, wait-for-token`,
				`x.yaml:4: read_your_writes.policies: unknown architecture "cqrs-kafak" (did you mean "cqrs-kafka"?); use one of crud, crud-replica, cqrs-sync, cqrs-matview, cqrs-kafka, cqrs-rabbitmq (or a variant: <name>/<label>)`}},
		{"read-your-writes policy for an architecture not run", "architectures: [crud]\nread_your_writes: {policies: {crud-replica: none}}\n",
			[]string{"x.yaml:2: read_your_writes.policies.crud-replica: no architecture run (crud) is crud-replica or a variant of it; add it to the architectures (--arch), or drop its policy"}},
		{"read-your-writes policies not a mapping", "read_your_writes: {policies: [crud]}\n",
			[]string{`x.yaml:1: read_your_writes.policies: must be a mapping of architecture to its policy, like {crud-replica/wait: wait-for-token}, got a list`}},
		{"prober share", "prober: {max_share: 1.5}\n",
			[]string{`x.yaml:1: prober.max_share: must be above 0 and at most 1 (or 100%) of the offered rate, got 1.5`}},
		{"unknown field in a list item", "faults:\n  - kind: duplicates\n    fracton: 5%\n",
			[]string{`x.yaml:3: unknown field "fracton" in faults[0] (did you mean "fraction"?)`}},
		{"bad type", "dataset:\n  orders: lots\n  skew: [1]\n",
			[]string{`x.yaml:2: dataset.orders: must be a whole number, got "lots"`,
				`x.yaml:3: dataset.skew: must be a number, got a list`}},
		{"quoted number", "load: {rate: \"100\"}\n",
			[]string{`x.yaml:1: load.rate: must be a number, got "100"`}},
		{"bad bool", "options:\n  cqrs-kafka:\n    inbox: yes\n",
			[]string{`x.yaml:3: options.cqrs-kafka.inbox: must be true or false, got "yes"`}},
		{"mapping expected", "load: 5\n",
			[]string{`x.yaml:1: load: must be a mapping of fields, got 5`}},
		{"bad duration", "load:\n  duration: 30\n  warmup: 5 seconds\n",
			[]string{`x.yaml:2: load.duration: must be a duration with a unit, like "30s", got 30`,
				`x.yaml:3: load.warmup: must be a duration like "30s", "2m" or "250ms", got "5 seconds"`}},
		{"bad enum", "architectures: [crud, cqrs]\nload: {mode: opne}\noptions: {cqrs-kafka: {relay: naive}}\n",
			[]string{`x.yaml:1: architectures[1]: unknown architecture "cqrs"; use one of crud, crud-replica, cqrs-sync, cqrs-matview, cqrs-kafka, cqrs-rabbitmq (or a variant: <name>/<label>)`,
				`x.yaml:2: load.mode: unknown load mode "opne" (did you mean "open"?); use one of open, closed`,
				`x.yaml:3: options.cqrs-kafka.relay: unknown relay mode "naive" (want skip-locked, naive-cursor or wal)`}},
		{"threshold of an unknown operation", "thresholds: ['crud.list_order.p99 < 5ms']\n",
			[]string{`x.yaml:1: thresholds[0]: bad threshold "crud.list_order.p99 < 5ms": unknown metric "list_order" (did you mean "list_orders"?); use an operation of workload shop (create_order, add_line, confirm_order, ship_order, cancel_order, list_orders, sales_dashboard, order_then_list) or one of lag, visibility, staleness, consistency, recovery`}},
		{"unknown workload", "workload: shoop\n",
			[]string{`x.yaml:1: workload: unknown workload "shoop" (did you mean "shop"?); use one of shop, or the directory of a workload pack (like workloads/helpdesk)`}},
		{"bad threshold syntax", "thresholds:\n  - crud.list_orders.p99 5ms\n  - lag.p99 < 200\n  - crud.create_order.error_rate << 1%\n",
			[]string{`x.yaml:2: thresholds[0]: "crud.list_orders.p99 5ms": no comparison operator (< <= > >= == !=); want [ARCH.]METRIC.AGGREGATE OP VALUE, like "cqrs-kafka.list_orders.p99 < 5ms"`,
				`x.yaml:3: thresholds[1]: "lag.p99 < 200": lag.p99 is a time: write a unit, like 200ms (ns, us, ms, s, m, h), got "200"`,
				`x.yaml:4: thresholds[2]: "crud.create_order.error_rate << 1%": more than one comparison; write one condition per threshold`}},
		{"negative numbers", "dataset: {orders: -5, seed: -1}\nload:\n  rate: -5\n  workers: -1\n  warmup: -1s\n",
			[]string{`x.yaml:1: dataset.seed: must be a whole number >= 0, got -1`,
				`x.yaml:1: dataset.orders: must be > 0, got -5`,
				`x.yaml:3: load.rate: must be > 0 ops/s, got -5`,
				`x.yaml:4: load.workers: must be > 0, got -1`,
				`x.yaml:5: load.warmup: must be >= 0, got -1s`}},
		{"rates beyond the load generator", "load:\n  rate: 150000\n  duration: 20s\n  phases:\n    - {name: a, duration: 10s, rate: 200000}\n    - {name: b, duration: 10s, ramp: {from: 10, to: 120000}}\n",
			[]string{`x.yaml:2: load.rate: 150000` + tooFast, `x.yaml:5: load.phases[0].rate: 200000` + tooFast, `x.yaml:6: load.phases[1].ramp.to: 120000` + tooFast}},
		{"empty architectures", "architectures: []\n",
			[]string{`x.yaml:1: architectures: empty; name at least one of crud, crud-replica, cqrs-sync, cqrs-matview, cqrs-kafka, cqrs-rabbitmq (or remove the key to run all)`}},
		{"duplicate architecture", "architectures:\n  - crud\n  - crud\n",
			[]string{`x.yaml:3: architectures[1]: crud is listed twice`}},
		{"weights sum to 0", "mix:\n  list_orders: 0\n  create_order: 0\n",
			[]string{`x.yaml:1: mix: weights sum to 0; give at least one operation a positive weight, like {list_orders: 80, create_order: 20}`}},
		{"unknown operation", "mix: {list_order: 1, create_order: 1}\n",
			[]string{`x.yaml:1: mix.list_order: unknown operation "list_order" (did you mean "list_orders"?); use one of create_order, add_line, confirm_order, ship_order, cancel_order, list_orders, sales_dashboard, order_then_list`}},
		{"null value", "load:\n  rate:\n",
			[]string{`x.yaml:2: load.rate: no value; give one, or remove the key to use the default`}},
		{"duplicate key", "load:\n  rate: 5\n  rate: 6\n",
			[]string{`x.yaml:3: load.rate: given twice (first on line 2); keep one`}},
		// yaml.v3 reports the line where the enclosing construct starts.
		{"yaml syntax", "load:\n  rate: 5\n\twarmup: 1s\n",
			[]string{`x.yaml:2: invalid YAML: found a tab character that violates indentation`}},
		{"not a mapping", "- crud\n- cqrs-kafka\n",
			[]string{`x.yaml:1: must be a mapping of fields, got a list`}},
		{"two documents", "name: a\n---\nname: b\n",
			[]string{`x.yaml:2: a second YAML document (after ---); put one scenario per file`}},
		{"phases disagree with duration", "load:\n  duration: 30s\n  phases:\n    - {duration: 10s, rate: 5}\n    - {duration: 10s, rate: 5, ramp: {from: 1, to: 2}}\n",
			[]string{`x.yaml:2: load.duration: 30s, but load.phases add up to 20s; remove load.duration or make them agree`,
				`x.yaml:5: load.phases[1]: give rate or ramp, not both`}},
		{"closed mode with rate", "load: {mode: closed, rate: 100}\n",
			[]string{`x.yaml:1: load.rate: not used in closed mode, where workers loop as fast as they can; remove it or set load.mode: open`}},
		{"sequential rounds", "interleaving: {rounds: 3}\n",
			[]string{`x.yaml:1: interleaving.rounds: must be 1 in sequential mode, got 3; set interleaving.mode: interleaved for rounds`}},
		{"read_from", "architectures: [cqrs-kafka, cqrs-rabbitmq]\noptions: {cqrs-kafka: {read_from: standby}}\nfaults:\n  - {kind: replica-pause, arch: cqrs-rabbitmq, duration: 1s}\n",
			[]string{`x.yaml:2: options.cqrs-kafka.read_from: must be primary or replica, got "standby"`,
				`x.yaml:4: faults[0].arch: replica-pause faults need a streaming replica it reads, which cqrs-rabbitmq does not offer`}},
		{"bad variants", "architectures: [cqrs-kafka/WAL, cqs-kafka/wal, crud/a/b]\noptions: {cqrs-kafka/: {relay: wal}}\n",
			[]string{`x.yaml:1: architectures[0]: variant "WAL" of cqrs-kafka: its label must be lower-case letters, digits and dashes, like cqrs-kafka/wal`,
				`x.yaml:1: architectures[1]: unknown architecture "cqs-kafka" (did you mean "cqrs-kafka"?); use one of crud, crud-replica, cqrs-sync, cqrs-matview, cqrs-kafka, cqrs-rabbitmq (or a variant: <name>/<label>)`,
				`x.yaml:1: architectures[2]: variant "a/b" of crud: its label must be lower-case letters, digits and dashes, like crud/wal`,
				`x.yaml:2: options: variant "" of cqrs-kafka: its label must be lower-case letters, digits and dashes, like cqrs-kafka/wal`}},
		{"naive relay alone", "options:\n  cqrs-kafka:\n    relay: naive-cursor\n    relays: 2\n",
			[]string{`x.yaml:4: options.cqrs-kafka.relays: the naive-cursor relay runs alone; must be 1, got 2`}},
		{"faults", `architectures: [crud, cqrs-kafka]
load: {duration: 30s}
faults:
  - kind: relay-crash
    fraction: 5%
  - kind: broker-restart
    at: 45s
  - kind: duplicates
    arch: crud
    fraction: 150%
  - kind: poison
    count: 3
  - kind: pg-restart
    arch: cqrs-matview
  - at: 1s
`, []string{`x.yaml:5: faults[0].fraction: not used by relay-crash faults, which take at, every, count, point`,
			`x.yaml:7: faults[1].at: 45s is past the end of the measured run (load.duration 30s)`,
			`x.yaml:9: faults[2].arch: duplicates faults need an event pipeline, which crud does not offer`,
			`x.yaml:10: faults[2].fraction: must be in (0, 1] (or a percentage up to 100%), got 1.5`,
			`x.yaml:11: faults[3].every: missing; 3 injections need a period between them, like every: 5s`,
			`x.yaml:14: faults[4].arch: cqrs-matview is not among the architectures run (crud, cqrs-kafka); add it, or drop this fault`,
			`x.yaml:15: faults[5].kind: missing; use one of duplicates, relay-crash, projector-crash, broker-restart, pg-restart, poison, visibility-gap, catch-up, rebuild, replica-pause, replica-restart`}},
		{"collects every error", "load:\n  rat: 5\n  rate: -5\narchitectures: [cqrs]\n",
			[]string{`x.yaml:2: unknown field "rat" in load (did you mean "rate"?)`,
				`x.yaml:3: load.rate: must be > 0 ops/s, got -5`,
				`x.yaml:4: architectures[0]: unknown architecture "cqrs"; use one of crud, crud-replica, cqrs-sync, cqrs-matview, cqrs-kafka, cqrs-rabbitmq (or a variant: <name>/<label>)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := scenarios.Parse("x.yaml", []byte(tt.yaml))
			if s != nil {
				t.Errorf("Parse returned a scenario along with its error")
			}
			got := errorLines(t, err)
			if strings.Contains(tt.name, "threshold") && !errors.Is(err, scenarios.ErrBadThreshold) {
				t.Errorf("threshold error does not wrap ErrBadThreshold")
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestErrorFields(t *testing.T) {
	t.Parallel()
	_, err := scenarios.Parse("dir/x.yaml", []byte("load:\n  rate: -5\n"))
	var e *scenarios.Error
	if !errors.As(err, &e) {
		t.Fatalf("not an *Error: %v", err)
	}
	if e.File != "dir/x.yaml" || e.Line != 2 || e.Path != "load.rate" || e.Flag != "" || !strings.HasPrefix(e.Msg, "must be > 0") {
		t.Errorf("Error = %+v", *e)
	}
	if got := (&scenarios.Error{Flag: "--rate", File: "f.yaml", Line: 3, Path: "load.rate", Msg: "m"}).Error(); got != "--rate: load.rate: m" {
		t.Errorf("flag error = %q", got)
	}
	if got := (&scenarios.Error{File: "f.yaml", Msg: "m"}).Error(); got != "f.yaml: m" {
		t.Errorf("file error = %q", got)
	}
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	good := filepath.Join(dir, "mine.yaml")
	if err := os.WriteFile(good, []byte("architectures: [crud]\nload: {rate: 10, duration: 2s}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("# comment\nload: {rat: 10}\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	s, err := scenarios.Load(good)
	if err != nil {
		t.Fatal(err)
	}
	if s.Name != "mine" || s.File != good || s.Builtin {
		t.Errorf("Name %q File %q Builtin %v", s.Name, s.File, s.Builtin)
	}

	_, err = scenarios.Load(bad)
	if got, want := errorLines(t, err), []string{bad + `:2: unknown field "rat" in load (did you mean "rate"?)`}; !slices.Equal(got, want) {
		t.Errorf("Load(bad) = %q, want %q", got, want)
	}

	_, err = scenarios.Load(filepath.Join(dir, "missing.yaml"))
	errorLines(t, err)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want fs.ErrNotExist inside", err)
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "custom.yaml")
	if err := os.WriteFile(path, []byte("name: custom\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		arg      string
		wantName string
		wantErr  string
	}{
		{"mixed", "mixed", ""},
		{"smoke", "smoke", ""},
		{path, "custom", ""},
		{"mixd", "", `unknown scenario "mixd" (did you mean "mixed"?); built-ins: smoke, mixed,`},
		{"nothing-like-it", "", `; or give the path of a YAML file`},
		{filepath.Join(dir, "nope.yaml"), "", "cannot read the scenario"},
		{"../scenarios/mixed", "", "cannot read the scenario"},
	}
	for _, tt := range tests {
		t.Run(tt.arg, func(t *testing.T) {
			t.Parallel()
			s, err := scenarios.Resolve(tt.arg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Resolve(%q) error = %v, want it to contain %q", tt.arg, err, tt.wantErr)
				}
				errorLines(t, err)
				return
			}
			if err != nil {
				t.Fatalf("Resolve(%q): %v", tt.arg, err)
			}
			if s.Name != tt.wantName {
				t.Errorf("Name = %q, want %q", s.Name, tt.wantName)
			}
		})
	}
	if _, err := scenarios.Builtin("nope"); !errors.Is(err, scenarios.ErrNotFound) {
		t.Errorf("Builtin(nope) = %v, want ErrNotFound", err)
	}
}

func ptr[T any](v T) *T { return &v }

func TestOverrides(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		base    string // built-in name, or YAML
		o       scenarios.Overrides
		check   func(t *testing.T, s *scenarios.Scenario)
		wantErr []string
	}{
		{name: "orders, customers follow", base: "mixed", o: scenarios.Overrides{Orders: ptr(1_000_000)},
			check: func(t *testing.T, s *scenarios.Scenario) {
				if s.Dataset.Orders != 1_000_000 || s.Dataset.Customers != 20_000 {
					t.Errorf("orders %d customers %d; mixed sets customers, so they stay", s.Dataset.Orders, s.Dataset.Customers)
				}
			}},
		{name: "orders, derived customers", base: "read-heavy", o: scenarios.Overrides{Orders: ptr(1_000_000)},
			check: func(t *testing.T, s *scenarios.Scenario) {
				if s.Dataset.Customers != 100_000 {
					t.Errorf("customers %d, want 100000", s.Dataset.Customers)
				}
			}},
		{name: "seed and arch", base: "mixed", o: scenarios.Overrides{Seed: ptr(uint64(0)), Arch: []string{"crud, cqrs-kafka"}},
			check: func(t *testing.T, s *scenarios.Scenario) {
				if s.Dataset.Seed != 0 || !slices.Equal(s.Architectures, []scenarios.Arch{"crud", "cqrs-kafka"}) {
					t.Errorf("seed %d archs %v", s.Dataset.Seed, s.Architectures)
				}
			}},
		{name: "duration and rate, one phase", base: "mixed", o: scenarios.Overrides{Duration: ptr(10 * time.Second), Rate: ptr(50.0)},
			check: func(t *testing.T, s *scenarios.Scenario) {
				if got := render(s.Load.Phases); got != "steady/10s/50/" || s.Load.Rate != 50 || s.Load.Duration.Std() != 10*time.Second {
					t.Errorf("phases %s rate %v duration %s", got, s.Load.Rate, s.Load.Duration)
				}
			}},
		{name: "duration and rate scale phases", base: "burst", o: scenarios.Overrides{Duration: ptr(20 * time.Second), Rate: ptr(600.0)},
			check: func(t *testing.T, s *scenarios.Scenario) {
				if got, want := render(s.Load.Phases), "calm/7.5s/100/,burst/5s/600/,recovery/7.5s/100/"; got != want {
					t.Errorf("phases %s, want %s", got, want)
				}
			}},
		{name: "duration scales fault times", base: "broker-restart", o: scenarios.Overrides{Duration: ptr(30 * time.Second)},
			check: func(t *testing.T, s *scenarios.Scenario) {
				if f := s.Faults[0]; f.At.Std() != 7500*time.Millisecond || f.Duration.Std() != 10*time.Second {
					t.Errorf("fault at %s duration %s, want 7.5s and an unchanged 10s", f.At, f.Duration)
				}
			}},
		{name: "bad values name the flag", base: "mixed",
			o: scenarios.Overrides{Orders: ptr(-5), Duration: ptr(time.Duration(0)), Rate: ptr(-5.0), Arch: []string{"crud", "cqrs", "crud"}},
			wantErr: []string{
				"--orders: dataset.orders: must be > 0, got -5",
				"--duration: load.duration: must be > 0, got 0s",
				"--rate: load.rate: must be > 0 ops/s, got -5",
				`--arch: architectures: unknown architecture "cqrs"; use one of crud, crud-replica, cqrs-sync, cqrs-matview, cqrs-kafka, cqrs-rabbitmq (or a variant: <name>/<label>)`,
				"--arch: architectures: crud is listed twice",
			}},
		{name: "empty arch", base: "mixed", o: scenarios.Overrides{Arch: []string{""}},
			wantErr: []string{"--arch: architectures: empty; name at least one of crud, crud-replica, cqrs-sync, cqrs-matview, cqrs-kafka, cqrs-rabbitmq"}},
		{name: "options set one field, keeping the scenario's others (a variant starts from its architecture's)", base: "architectures: [cqrs-kafka]\noptions: {cqrs-kafka: {batch_size: 7}}\n",
			o: scenarios.Overrides{Arch: []string{"cqrs-kafka,cqrs-kafka/wal"}, Options: []string{"cqrs-kafka/wal.relay=wal", "cqrs-kafka.relays=2"}},
			check: func(t *testing.T, s *scenarios.Scenario) {
				base, variant := s.Options.For("cqrs-kafka").(*cqrskafka.Options), s.Options.For("cqrs-kafka/wal").(*cqrskafka.Options)
				if base.BatchSize != 7 || base.Relays != 2 || base.Relay != string(relay.ModeSkipLocked) || variant.Relay != string(relay.ModeWAL) || variant.BatchSize != 7 {
					t.Errorf("cqrs-kafka %+v, cqrs-kafka/wal %+v", base, variant)
				}
			}},
		{name: "bad options", base: "load: {rate: 100}\n", o: scenarios.Overrides{Options: []string{"cqrs-kafka.rely=wal", "crud.x=1", "junk", "cqrs-kafka.relay=naive"}},
			wantErr: []string{`--option: unknown field "rely" in options.cqrs-kafka (did you mean "relay"?)`,
				`--option: options: crud takes no options`,
				`--option: options: "junk" is not ARCH.FIELD=VALUE; write it like cqrs-kafka/wal.relay=wal, with the YAML field names`,
				`--option: options.cqrs-kafka.relay: unknown relay mode "naive" (want skip-locked, naive-cursor or wal)`}},
		{name: "read-your-writes policies: the file's and one's (a variant takes its architecture's)",
			base: "architectures: [crud, crud-replica]\nread_your_writes: {policy: primary-after-write, policies: {crud: wait-for-token}}\n",
			o: scenarios.Overrides{Arch: []string{"crud,crud/x,crud-replica,crud-replica/paw,cqrs-kafka"},
				ReadYourWrites: []string{"crud-replica=none", " crud-replica/paw = primary-after-write "}},
			check: func(t *testing.T, s *scenarios.Scenario) {
				wantPolicies(t, s, map[scenarios.Arch]string{"crud": "wait-for-token", "crud/x": "wait-for-token", "crud-replica": "none",
					"crud-replica/paw": "primary-after-write", "cqrs-kafka": "primary-after-write"})
			}},
		{name: "read-your-writes: a policy for every architecture drops the file's own, wherever it is given",
			base: "architectures: [crud, crud-replica, crud-replica/wait]\nread_your_writes: {policies: {crud: wait-for-token, crud-replica/wait: wait-for-token}}\n",
			o:    scenarios.Overrides{ReadYourWrites: []string{"crud-replica=none", "primary-after-write"}},
			check: func(t *testing.T, s *scenarios.Scenario) {
				wantPolicies(t, s, map[scenarios.Arch]string{"crud": "primary-after-write", "crud-replica": "none", "crud-replica/wait": "none"})
			}},
		{name: "read-your-writes: --arch may leave out what the file gives a policy to", base: "read-your-writes",
			o: scenarios.Overrides{Arch: []string{"crud-replica"}},
			check: func(t *testing.T, s *scenarios.Scenario) {
				wantPolicies(t, s, map[scenarios.Arch]string{"crud-replica": "none"})
			}},
		{name: "read-your-writes: a policy for an architecture not run", base: "architectures: [crud, crud/wait]\n",
			o: scenarios.Overrides{ReadYourWrites: []string{"crud/wiat=wait-for-token"}},
			wantErr: []string{
				"--read-your-writes: read_your_writes.policies.crud/wiat: no architecture run (crud, crud/wait) is crud/wiat or a variant of it; add it to the architectures (--arch), or drop its policy",
			}},
		{name: "bad read-your-writes policies name the flag", base: "mixed",
			o: scenarios.Overrides{ReadYourWrites: []string{"wait", "crud-replca=none", "crud/x=primary-after-wirte"}},
			wantErr: []string{
				`--read-your-writes: read_your_writes.policies: unknown architecture "crud-replca" (did you mean "crud-replica"?); use one of crud, crud-replica, cqrs-sync, cqrs-matview, cqrs-kafka, cqrs-rabbitmq (or a variant: <name>/<label>)`,
				`--read-your-writes: read_your_writes.policy: unknown read-your-writes policy "wait" (did you mean "wait-for-token"?); use one of none, primary-after-write, wait-for-token`,
				`--read-your-writes: read_your_writes.policies.crud/x: unknown read-your-writes policy "primary-after-wirte" (did you mean "primary-after-write"?); use one of none, primary-after-write, wait-for-token`,
			}},
		{name: "rate in closed mode", base: "load: {mode: closed}\n", o: scenarios.Overrides{Rate: ptr(10.0)},
			wantErr: []string{"--rate: load.rate: not used in closed mode, where workers loop as fast as they can"}},
		{name: "fault flags replace the faults, taken as given and defaulted", base: "broker-restart",
			o: scenarios.Overrides{Duration: ptr(30 * time.Second), Faults: []string{"kind=pg-restart,at=20s", "kind=relay-crash, at=5s, every=5s", "kind=duplicates,fraction=20%"}},
			check: func(t *testing.T, s *scenarios.Scenario) {
				if len(s.Faults) != 3 {
					t.Fatalf("faults %+v", s.Faults)
				}
				pg, crash, dups := s.Faults[0], s.Faults[1], s.Faults[2]
				if pg.Kind != scenarios.FaultPGRestart || pg.At.Std() != 20*time.Second || pg.Duration.Std() != 3*time.Second || pg.Count != 1 || pg.Arch != "" {
					t.Errorf("pg-restart %+v: want at 20s (not scaled), the default 3s down, count 1, every architecture", pg)
				}
				if crash.Arch != "" || !crash.AppliesTo("cqrs-kafka", s) || crash.AppliesTo("crud", s) || crash.Every.Std() != 5*time.Second || crash.Count != 0 {
					t.Errorf("relay-crash %+v: want every pipeline architecture, every 5s until the end", crash)
				}
				if dups.Fraction != 0.2 || dups.Method != scenarios.DuplicateRepublish {
					t.Errorf("duplicates %+v", dups)
				}
			}},
		{name: "fault none removes the faults", base: "broker-restart", o: scenarios.Overrides{Faults: []string{"none"}},
			check: func(t *testing.T, s *scenarios.Scenario) {
				if len(s.Faults) != 0 {
					t.Errorf("faults %+v, want none", s.Faults)
				}
			}},
		{name: "bad fault flags name the flag", base: "mixed",
			o: scenarios.Overrides{Faults: []string{"kind=brokr-restart", "kind=poison,colour=red", "at", "kind=relay-crash,at=10m", "kind=poison,fraction=10%"}},
			wantErr: []string{ // decoding problems first, then validation's
				`--fault: unknown field "colour" in faults[1]; valid fields: kind, arch, at, after_load, every, count, fraction, duration, events, method, point`,
				`--fault: faults[2]: "at" is not key=value; write the fault as kind=KIND,at=5s,... with the YAML field names`,
				`--fault: faults[0].kind: unknown fault kind "brokr-restart" (did you mean "broker-restart"?); use one of duplicates, relay-crash, projector-crash, broker-restart, pg-restart, poison, visibility-gap, catch-up, rebuild, replica-pause, replica-restart`,
				"--fault: faults[3].at: 10m0s is past the end of the measured run (load.duration 8s)",
				"--fault: faults[4].fraction: not used by poison faults, which take at, every, count",
			}},
		{name: "arch leaves a fault without its target", base: "duplicates", o: scenarios.Overrides{Arch: []string{"crud"}},
			wantErr: []string{"scenarios/duplicates.yaml:33: faults[0].kind: duplicates faults need an event pipeline, which none of the architectures run (crud) offers; run one of cqrs-kafka, cqrs-rabbitmq"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var base *scenarios.Scenario
			if strings.Contains(tt.base, ":") {
				base = mustParse(t, tt.base)
			} else {
				var err error
				if base, err = scenarios.Builtin(tt.base); err != nil {
					t.Fatal(err)
				}
			}
			before := render(base.Load.Phases) + sprint(base.Architectures, base.Dataset)
			s, err := base.WithOverrides(tt.o)
			if after := render(base.Load.Phases) + sprint(base.Architectures, base.Dataset); after != before {
				t.Errorf("WithOverrides changed its receiver: %s → %s", before, after)
			}
			if tt.wantErr != nil {
				if got := errorLines(t, err); !slices.Equal(got, tt.wantErr) {
					t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.wantErr, "\n"))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, s)
		})
	}
}

// TestOverridesLeaveTheBasePoliciesAlone: --read-your-writes ARCH=POLICY
// changes the copy's policies, not the scenario it was copied from.
func TestOverridesLeaveTheBasePoliciesAlone(t *testing.T) {
	t.Parallel()
	base := mustParse(t, "architectures: [crud, crud/x]\nread_your_writes: {policies: {crud: wait-for-token}}\n")
	s, err := base.WithOverrides(scenarios.Overrides{ReadYourWrites: []string{"crud/x=none", "crud=primary-after-write"}})
	if err != nil {
		t.Fatal(err)
	}
	wantPolicies(t, base, map[scenarios.Arch]string{"crud": "wait-for-token", "crud/x": "wait-for-token"})
	wantPolicies(t, s, map[scenarios.Arch]string{"crud": "primary-after-write", "crud/x": "none"})
}

// wantPolicies fails t unless each architecture runs under its policy in
// want, and the scenario runs those architectures.
func wantPolicies(t *testing.T, s *scenarios.Scenario, want map[scenarios.Arch]string) {
	t.Helper()
	got := map[scenarios.Arch]string{}
	for _, a := range s.Architectures {
		got[a] = s.ReadYourWrites.PolicyOf(a)
	}
	if !maps.Equal(got, want) {
		t.Errorf("policies %v, want %v", got, want)
	}
}

// TestGoConstructed checks the path for scenarios built in Go: zero values
// take defaults, and Validate reports problems without file positions.
func TestGoConstructed(t *testing.T) {
	t.Parallel()
	s := &scenarios.Scenario{Name: "go", Architectures: []scenarios.Arch{"crud"}}
	s.SetDefaults()
	if err := s.Validate(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	s.Load.Rate = -1
	s.Load.Phases[0].Rate = -1
	got := errorLines(t, s.Validate())
	want := []string{"load.rate: must be > 0 ops/s, got -1", "load.phases[0].rate: must be > 0 ops/s, got -1"}
	if !slices.Equal(got, want) {
		t.Errorf("errors = %q, want %q", got, want)
	}
	c := s.Clone()
	c.Load.Phases[0].Rate = 5
	if s.Load.Phases[0].Rate != -1 {
		t.Error("Clone shares phases")
	}
}

// TestReadme keeps README.md honest: every YAML example in it parses, and
// every built-in is listed.
func TestReadme(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(b)
	blocks := 0
	for rest := text; ; {
		_, after, ok := strings.Cut(rest, "```yaml\n")
		if !ok {
			break
		}
		block, tail, _ := strings.Cut(after, "```")
		rest = tail
		blocks++
		if _, err := scenarios.Parse("README.md", []byte(block)); err != nil {
			t.Errorf("README example %d does not parse:\n%v\n%s", blocks, err, block)
		}
	}
	if blocks < 3 {
		t.Errorf("found %d YAML examples in README.md, want at least 3", blocks)
	}
	for _, name := range scenarios.BuiltinNames() {
		if !strings.Contains(text, "| `"+name+"` |") {
			t.Errorf("README.md does not list the built-in %s", name)
		}
	}
}

// TestOptionsRoundTripThroughJSON: a results file records each
// architecture's options, and reading it back gives each its own type.
func TestOptionsRoundTripThroughJSON(t *testing.T) {
	t.Parallel()
	s, err := scenarios.Parse("x.yaml", []byte("options: {cqrs-kafka: {batch_size: 7}, cqrs-matview: {refresh: 3s}}\n"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var back scenarios.Scenario
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	k, ok := back.Options["cqrs-kafka"].(*cqrskafka.Options)
	if !ok || k.BatchSize != 7 || k.Topic != cqrskafka.DefaultTopic {
		t.Errorf("cqrs-kafka options read back as %#v", back.Options["cqrs-kafka"])
	}
	if m, ok := back.Options["cqrs-matview"].(*cqrsmatview.Options); !ok || m.Refresh.Std() != 3*time.Second {
		t.Errorf("cqrs-matview options read back as %#v", back.Options["cqrs-matview"])
	}
}

// TestCapacitySearch: --find-max-rate turns the search on with its
// defaults; bad settings name their field.
func TestCapacitySearch(t *testing.T) {
	sc, err := scenarios.Builtin("read-heavy")
	if err != nil {
		t.Fatal(err)
	}
	if sc.Capacity.Search {
		t.Fatal("read-heavy searches by default; want off")
	}
	on, err := sc.WithOverrides(scenarios.Overrides{FindMaxRate: true})
	if err != nil {
		t.Fatal(err)
	}
	if c := on.Capacity; !c.Search || c.Step.Std() != 8*time.Second || c.MaxP99.Std() != 100*time.Millisecond {
		t.Errorf("--find-max-rate: %+v, want the search on, 8s steps, p99 within 100ms", c)
	}
	for _, c := range []struct{ yaml, want string }{
		{"capacity: {search: true, step: 500ms}", "capacity.step: must be at least 1s"},
		{"capacity: {search: true, max_p99: 0s}", "capacity.max_p99: must be > 0"},
		{"load: {mode: closed, workers: 2}\ncapacity: {search: true}", "capacity.search: needs an open load"},
	} {
		_, err := scenarios.Parse("c.yaml", []byte("name: c\n"+c.yaml+"\n"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.yaml, err, c.want)
		}
	}
}

// TestSweepPoints: a sweep expands into one scenario per value with the
// parameter set (the orders spread over fewer customers; the mix's read
// share rescaled with each side's relative weights kept), and bad sweeps
// name their field and say what is allowed.
func TestSweepPoints(t *testing.T) {
	sc, err := scenarios.Builtin("page-sweep")
	if err != nil {
		t.Fatal(err)
	}
	points, err := sc.SweepPoints()
	if err != nil {
		t.Fatal(err)
	}
	var customers []int
	for _, p := range points {
		if p.Sweep != nil || p.Dataset.Orders != sc.Dataset.Orders {
			t.Errorf("point %+v: want no sweep and the scenario's %d orders", p.Dataset, sc.Dataset.Orders)
		}
		customers = append(customers, p.Dataset.Customers)
	}
	if want := []int{20000, 2000, 200}; !slices.Equal(customers, want) {
		t.Errorf("customers at 5, 50, 500 orders each: %v, want %v", customers, want)
	}

	mixed, err := scenarios.Builtin("mixed")
	if err != nil {
		t.Fatal(err)
	}
	sw, err := scenarios.ParseSweep("read_share=0.2, 0.9")
	if err != nil {
		t.Fatal(err)
	}
	swept, err := mixed.WithOverrides(scenarios.Overrides{Sweep: sw})
	if err != nil {
		t.Fatal(err)
	}
	points, err = swept.SweepPoints()
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float64{0.2, 0.9} {
		p := points[i]
		if got := p.ReadShare(); math.Abs(got-want) > 1e-9 {
			t.Errorf("read_share=%v: the point's read share is %v", want, got)
		}
		// list_orders and sales_dashboard keep their 55:5 ratio.
		if r := p.Mix["list_orders"] / p.Mix["sales_dashboard"]; math.Abs(r-11) > 1e-9 {
			t.Errorf("read_share=%v: list_orders/sales_dashboard = %v, want 11", want, r)
		}
	}
	if mixed.ReadShare() != 0.6 || mixed.Mix["list_orders"] != 55 {
		t.Errorf("the swept scenario's mix changed: %v", mixed.Mix)
	}

	for _, c := range []struct{ yaml, want string }{
		{"sweep: {parameter: page_size, values: [1, 2]}", "sweep.parameter: unknown \"page_size\"; use one of orders, orders_per_customer, read_share"},
		{"sweep: {parameter: orders, values: [1000]}", "sweep.values: a sweep needs at least 2 values"},
		{"sweep: {parameter: read_share, values: [0.5, 1.5]}", "a read share is between 0 and 1, got 1.5"},
		{"dataset: {orders: 100}\nsweep: {parameter: orders_per_customer, values: [5, 500]}", "orders per customer must be between 1 and dataset.orders (100), got 500"},
	} {
		_, err := scenarios.Parse("s.yaml", []byte("name: s\n"+c.yaml+"\n"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %q", c.yaml, err, c.want)
		}
	}
	if _, err := scenarios.ParseSweep("orders_per_customer=5,x"); err == nil || !strings.Contains(err.Error(), `value "x" is not a number`) {
		t.Errorf("--sweep with a bad value: %v", err)
	}
}
