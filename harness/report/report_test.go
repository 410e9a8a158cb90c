package report_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/cqrsbench/cqrsbench/harness/report"
	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/harness/services"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ with the current output")

// golden compares got with testdata/name, or rewrites the file with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file; if the change is intended, run go test ./harness/report -update and review the diff.\n--- got:\n%s\n--- want:\n%s", name, got, want)
	}
}

func TestGolden(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file   string
		format report.Format
	}{
		{"text.golden", report.Text{}},
		{"json.golden", report.JSON{}},
		{"bench.golden", report.Bench{}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			var b bytes.Buffer
			if err := tt.format.Write(&b, fixture(t)); err != nil {
				t.Fatal(err)
			}
			golden(t, tt.file, b.Bytes())
		})
	}
}

// TestTextWidth checks the tables fit a 100-column terminal.
func TestTextWidth(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := (report.Text{}).Write(&b, fixture(t)); err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(b.String(), "\n") {
		// Verdict lines are sentences, and the first line names the
		// scenario with its description; a terminal wraps them.
		if strings.HasPrefix(line, "  - ") || i == 0 {
			continue
		}
		if n := utf8.RuneCountInString(line); n > 100 {
			t.Errorf("line %d is %d columns wide: %s", i+1, n, line)
		}
	}
}

func TestJSONRoundTrip(t *testing.T) {
	t.Parallel()
	run := fixture(t)
	var b bytes.Buffer
	if err := (report.JSON{}).Write(&b, run); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "run.json")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	back, err := results.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	var again bytes.Buffer
	if err := (report.JSON{}).Write(&again, back); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b.Bytes(), again.Bytes()) {
		t.Errorf("JSON does not round-trip through results.Read:\n%s\nvs\n%s", b.Bytes(), again.Bytes())
	}
	if strings.Contains(b.String(), `\u003c`) {
		t.Error("JSON escapes '<' in thresholds")
	}
}

func TestBenchLinesFormat(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	if err := report.BenchLines(&b, fixture(t)); err != nil {
		t.Fatal(err)
	}
	config := regexp.MustCompile(`^[a-z][a-z0-9_-]*: \S.*$`)
	bench := regexp.MustCompile(`^BenchmarkCQRS/[a-z_-]+/[a-z_]+ 1( [0-9.]+ [a-z0-9./-]+)+$`)
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	benchmarks := 0
	for _, line := range lines {
		switch {
		case bench.MatchString(line):
			benchmarks++
		case benchmarks == 0 && config.MatchString(line):
		default:
			t.Errorf("line not in the Go benchmark format (or config after benchmarks): %q", line)
		}
	}
	// 4 architectures × 7 operations, lag and visible of cqrs-kafka,
	// visible of cqrs-matview, staleness of all four.
	if want := 28 + 2 + 1 + 4; benchmarks != want {
		t.Errorf("%d benchmark lines, want %d", benchmarks, want)
	}
}

func TestTextPartialRuns(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		modify func(*results.Run)
		want   []string
		not    []string
	}{
		{
			name: "crud only",
			modify: func(r *results.Run) {
				r.Architectures = r.Architectures[:1]
				r.Verdicts, r.Thresholds = nil, nil
			},
			want: []string{
				"crud only: list_orders p99 6.10 ms, create_order p99 4.10 ms; no CQRS architecture ran to compare with",
				"Lag: no architecture recorded any",
				"| cqrs-kafka.list_orders.p99 < 5ms  |        - | skipped: architecture not run",
			},
			not: []string{"ratio to crud"},
		},
		{
			name: "no crud",
			modify: func(r *results.Run) {
				r.Architectures = r.Architectures[1:]
				r.Verdicts, r.Thresholds = nil, nil
			},
			want: []string{"| list_orders     |     0.910 |         14.2 |      0.520 |",
				"list_orders p99 0.910 ms; create_order p99 5.80 ms (n/a vs crud: crud not run)"},
			not: []string{"ratio to crud"},
		},
		{
			name: "kfake",
			modify: func(r *results.Run) {
				r.Environment.Infra.Services[1] = services.Service{Role: services.RoleKafka, Kind: services.KindFake,
					Product: services.ProductKfake, Note: "no Kafka distribution found"}
				r.Verdicts = nil
			},
			want: []string{
				"environment: provider local · PostgreSQL 16.4 · franz-go kfake (NOT real kafka: an in-process fake) · host 2 CPUs linux/amd64\n",
				"!!! WARNING: cqrs-kafka ran on franz-go kfake, an in-process fake, NOT real kafka: their latencies\n" +
					"!!! and lag say nothing about kafka.\n",
				"!!! (no Kafka distribution found)",
				"WARNING cqrs-kafka ran on franz-go kfake, an in-process fake, NOT real kafka",
			},
		},
		{
			name:   "missing operation",
			modify: func(r *results.Run) { r.Architectures[1].Ops = r.Architectures[1].Ops[:5] },
			want:   []string{"| list_orders     | 6.10 |           - |"},
		},
		{
			name: "no architectures",
			modify: func(r *results.Run) {
				r.Architectures = nil
				r.Verdicts, r.Thresholds = nil, nil
			},
			want: []string{"no architecture ran\n", "no architecture ran: nothing to compare"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			run := fixture(t)
			tt.modify(run)
			var b bytes.Buffer
			if err := (report.Text{}).Write(&b, run); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, b.String())
				}
			}
			for _, n := range tt.not {
				if strings.Contains(b.String(), n) {
					t.Errorf("output has %q:\n%s", n, b.String())
				}
			}
		})
	}
}

func TestNilRun(t *testing.T) {
	t.Parallel()
	for _, f := range []report.Format{report.Text{}, report.JSON{}, report.Bench{}} {
		if err := f.Write(&bytes.Buffer{}, nil); err == nil {
			t.Errorf("%T.Write(nil): no error", f)
		}
	}
}

// TestOldResultsReadAsNew reads the document schema_version 1 wrote for the
// fixture (before services were a list) and checks it is, once read, the
// fixture as this build writes it: tables and JSON of an old baseline are
// those of a new one.
func TestOldResultsReadAsNew(t *testing.T) {
	t.Parallel()
	old, err := results.Read(filepath.Join("..", "results", "testdata", "schema-v1.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []report.Format{report.JSON{}, report.Text{}} {
		var got, want bytes.Buffer
		if err := f.Write(&got, old); err != nil {
			t.Fatal(err)
		}
		fix := fixture(t)
		for i := range fix.Architectures {
			fix.Architectures[i].Load.Queued = 0 // version 1 did not count queued operations
			fix.Architectures[i].Cost = nil      // nor measure the cost
			fix.Architectures[i].Capacity = nil  // nor search for it
			fix.Architectures[i].Rounds = nil    // nor keep rounds apart
		}
		fix.Verdicts = old.Verdicts // stored as computed when the run was written
		if err := f.Write(&want, fix); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%T of the version-1 document differs from the fixture's:\n%s\nvs\n%s", f, got.String(), want.String())
		}
	}
}
