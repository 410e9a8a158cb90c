package scenarios_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/scenarios"
)

func TestParseThreshold(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in       string
		want     scenarios.Threshold
		canon    string
		dim      scenarios.Dimension
		limit    float64
		observed float64 // in base units
		pass     bool
	}{
		{"cqrs-kafka.list_orders.p99 < 5ms",
			scenarios.Threshold{Arch: "cqrs-kafka", Metric: "list_orders", Aggregate: "p99", Operator: "<", Value: 5, Unit: "ms"},
			"cqrs-kafka.list_orders.p99 < 5ms", scenarios.DimTime, 0.005, 0.004, true},
		{"lag.p99<200ms",
			scenarios.Threshold{Metric: "lag", Aggregate: "p99", Operator: "<", Value: 200, Unit: "ms"},
			"lag.p99 < 200ms", scenarios.DimTime, 0.2, 0.2, false},
		{"consistency.violations == 0",
			scenarios.Threshold{Metric: "consistency", Aggregate: "violations", Operator: "==", Value: 0},
			"consistency.violations == 0", scenarios.DimCount, 0, 0, true},
		{"crud.create_order.error_rate < 1%",
			scenarios.Threshold{Arch: "crud", Metric: "create_order", Aggregate: "error_rate", Operator: "<", Value: 1, Unit: "%"},
			"crud.create_order.error_rate < 1%", scenarios.DimRatio, 0.01, 0.02, false},
		{"  cqrs-sync.list_orders.p(99.9)   <=  1.5 s ",
			scenarios.Threshold{Arch: "cqrs-sync", Metric: "list_orders", Aggregate: "p99.9", Operator: "<=", Value: 1.5, Unit: "s"},
			"cqrs-sync.list_orders.p99.9 <= 1.5s", scenarios.DimTime, 1.5, 1.5, true},
		{"list_orders.p99.99 < 250µs",
			scenarios.Threshold{Metric: "list_orders", Aggregate: "p99.99", Operator: "<", Value: 250, Unit: "us"},
			"list_orders.p99.99 < 250us", scenarios.DimTime, 0.00025, 0.0001, true},
		{"staleness.ratio <= 0.01",
			scenarios.Threshold{Metric: "staleness", Aggregate: "ratio", Operator: "<=", Value: 0.01},
			"staleness.ratio <= 0.01", scenarios.DimRatio, 0.01, 0.005, true},
		{"create_order.rate >= 390/s",
			scenarios.Threshold{Metric: "create_order", Aggregate: "rate", Operator: ">=", Value: 390, Unit: "/s"},
			"create_order.rate >= 390/s", scenarios.DimRate, 390, 400, true},
		{"consistency.duplicates_delivered > 0",
			scenarios.Threshold{Metric: "consistency", Aggregate: "duplicates_delivered", Operator: ">", Value: 0},
			"consistency.duplicates_delivered > 0", scenarios.DimCount, 0, 12, true},
		{"recovery.max != 1m",
			scenarios.Threshold{Metric: "recovery", Aggregate: "max", Operator: "!=", Value: 1, Unit: "m"},
			"recovery.max != 1m", scenarios.DimTime, 60, 60, false},
		{"cqrs-matview.visibility.p50 < 1.2e3ms",
			scenarios.Threshold{Arch: "cqrs-matview", Metric: "visibility", Aggregate: "p50", Operator: "<", Value: 1200, Unit: "ms"},
			"cqrs-matview.visibility.p50 < 1200ms", scenarios.DimTime, 1.2, 1.1, true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			got, err := scenarios.ParseThreshold(tt.in)
			if err != nil {
				t.Fatalf("ParseThreshold: %v", err)
			}
			if got != tt.want {
				t.Errorf("ParseThreshold = %#v, want %#v", got, tt.want)
			}
			if s := got.String(); s != tt.canon {
				t.Errorf("String() = %q, want %q", s, tt.canon)
			}
			again, err := scenarios.ParseThreshold(got.String())
			if err != nil || again != got {
				t.Errorf("round trip: ParseThreshold(%q) = %#v, %v; want %#v", got.String(), again, err, got)
			}
			if d := got.Dimension(); d != tt.dim {
				t.Errorf("Dimension() = %s, want %s", d, tt.dim)
			}
			if l := got.Limit(); fmt.Sprintf("%.9g", l) != fmt.Sprintf("%.9g", tt.limit) {
				t.Errorf("Limit() = %v, want %v", l, tt.limit)
			}
			if pass := got.Check(tt.observed); pass != tt.pass {
				t.Errorf("Check(%v) = %v, want %v", tt.observed, pass, tt.pass)
			}
		})
	}
}

func TestParseThresholdErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"", "empty; want [ARCH.]METRIC.AGGREGATE OP VALUE"},
		{"lag.p99 200ms", "no comparison operator"},
		{"lag.p99 = 200ms", `"=" is not an operator; use "==" to compare`},
		{"lag.p99 ! 200ms", `"!" is not an operator; use "!=" to compare`},
		{"lag.p99 < 1ms < 2ms", "more than one comparison"},
		{"< 5ms", "no metric before <"},
		{"lag.p99 <", "no value after <"},
		{"lag < 5ms", `"lag" has no aggregate`},
		{"crud.list_orders < 5ms", `"crud.list_orders" has no aggregate; write it after the metric, like "crud.list_orders.p99"`},
		{"cqrs.list_orders.p99 < 5ms", `unknown architecture "cqrs"; use one of crud, crud-replica, cqrs-sync, cqrs-matview, cqrs-kafka, cqrs-rabbitmq (or a variant: <name>/<label>)`},
		{"crud.list_orders.p99.x.y < 5ms", "too many parts"},
		{"crud.List-Orders.p99 < 5ms", `bad metric "List-Orders"; use an operation of the workload`},
		{"crud.list_orders.p999x < 5ms", `bad percentile "p999x"`},
		{"crud.list_orders.p101 < 5ms", `bad percentile "p101"`},
		{"crud.list_orders.p99x < 5ms", `bad percentile`},
		{"crud.list_orders.median < 5ms", `list_orders has no aggregate "median"`},
		{"consistency.violation == 0", `consistency has no aggregate "violation" (did you mean "violations"?)`},
		{"consistency.p99 < 5ms", `consistency has no aggregate "p99"`},
		{"crud.lag.p99 < 5ms", "lag stages are measured only for architectures with an event pipeline, not crud"},
		{"lag.p99 < abc", `bad value "abc"`},
		{"lag.p99 < -5ms", "value must be >= 0, got -5ms"},
		{"lag.p99 < 5 parsecs", `unknown unit "parsecs"`},
		{"lag.p99 < 200", "lag.p99 is a time: write a unit, like 200ms"},
		{"create_order.error_rate < 5ms", "create_order.error_rate is a ratio"},
		{"create_order.error_rate < 150%", "at most 100%"},
		{"create_order.error_rate < 2", "a fraction at most 1 or a percentage, like 2%"},
		{"create_order.rate > 5ms", "create_order.rate is a rate in ops/s"},
		{"consistency.lost == 0ms", `consistency.lost is a count: write a plain number, got "0ms"`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			_, err := scenarios.ParseThreshold(tt.in)
			if err == nil {
				t.Fatalf("ParseThreshold(%q) succeeded", tt.in)
			}
			if !errors.Is(err, scenarios.ErrBadThreshold) {
				t.Errorf("error %v does not wrap ErrBadThreshold", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %q, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestThresholdJSON(t *testing.T) {
	t.Parallel()
	s, err := scenarios.Builtin("duplicates")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"consistency.duplicates_applied == 0"`, `"duration":"40s"`, `"mix":{"add_line":15,`, `"sample":"0.05"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
	var back struct {
		Thresholds []scenarios.Threshold `json:"thresholds"`
		Load       struct {
			Duration scenarios.Duration `json:"duration"`
		} `json:"load"`
	}
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if len(back.Thresholds) != len(s.Thresholds) || back.Thresholds[0] != s.Thresholds[0] || back.Load.Duration != s.Load.Duration {
		t.Errorf("JSON round trip: %+v", back)
	}
	var whole scenarios.Scenario
	if err := json.Unmarshal(b, &whole); err != nil {
		t.Fatalf("unmarshal the resolved scenario: %v", err)
	}
	if b2, err := json.Marshal(&whole); err != nil || string(b2) != string(b) {
		t.Errorf("JSON round trip differs:\n%s\n%s (%v)", b, b2, err)
	}
	if s.Thresholds[0].CheckDuration(time.Millisecond) != s.Thresholds[0].Check(0.001) {
		t.Error("CheckDuration disagrees with Check")
	}
}

func FuzzParseThreshold(f *testing.F) {
	for _, s := range []string{"cqrs-kafka.list_orders.p99 < 5ms", "lag.p(99.9)<=1s", "consistency.violations == 0",
		"crud.create_order.error_rate < 1%", "create_order.rate >= 10/s", "staleness.ratio < 0.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		th, err := scenarios.ParseThreshold(s)
		if err != nil {
			return
		}
		again, err := scenarios.ParseThreshold(th.String())
		if err != nil || again != th {
			t.Fatalf("%q parsed to %#v, whose String %q reparses to %#v, %v", s, th, th.String(), again, err)
		}
	})
}

func FuzzParse(f *testing.F) {
	for _, name := range scenarios.BuiltinNames() {
		s, err := scenarios.Builtin(name)
		if err != nil {
			f.Fatal(err)
		}
		b, err := json.Marshal(s) // JSON is YAML too
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("load: {rat: 5}\nfaults: [{kind: x}]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := scenarios.Parse("fuzz.yaml", data)
		if err != nil {
			var e *scenarios.Error
			if !errors.As(err, &e) {
				t.Fatalf("untyped error %T: %v", err, err)
			}
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("a parsed scenario fails Validate: %v", err)
		}
	})
}

func ExampleParseThreshold() {
	t, err := scenarios.ParseThreshold("cqrs-kafka.list_orders.p(99.9) < 5ms")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(t.Arch, t.Metric, t.Aggregate, t.Operator, t.Value, t.Unit)
	fmt.Println(t)
	fmt.Println(t.CheckDuration(3 * time.Millisecond))
	// Output:
	// cqrs-kafka list_orders p99.9 < 5 ms
	// cqrs-kafka.list_orders.p99.9 < 5ms
	// true
}

func ExampleParse() {
	_, err := scenarios.Parse("mine.yaml", []byte(`
load:
  rat: 100
  duration: 30
architectures: [crud, cqrs]
`))
	fmt.Println(err)
	// Output:
	// mine.yaml:3: unknown field "rat" in load (did you mean "rate"?)
	// mine.yaml:4: load.duration: must be a duration with a unit, like "30s", got 30
	// mine.yaml:5: architectures[1]: unknown architecture "cqrs"; use one of crud, crud-replica, cqrs-sync, cqrs-matview, cqrs-kafka, cqrs-rabbitmq (or a variant: <name>/<label>)
}
