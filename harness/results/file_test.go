package results_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/harness/services"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

var started = time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)

// testRun returns a small run of the smoke scenario.
func testRun(t *testing.T) *results.Run {
	t.Helper()
	sc, err := scenarios.Builtin("smoke")
	if err != nil {
		t.Fatal(err)
	}
	return &results.Run{
		SchemaVersion: results.SchemaVersion,
		Tool:          results.Tool{Version: "test", GoVersion: "go1.26"},
		StartedAt:     started,
		FinishedAt:    started.Add(time.Minute),
		Environment: results.Environment{
			Infra: services.Description{Provider: "local", Services: []services.Service{
				{Role: services.RolePostgres, Kind: services.KindLocal, Version: "16.4", Settings: map[string]string{"fsync": "on"}},
				{Role: services.RoleKafka, Kind: services.KindLocal, Version: "4.1.0", Security: "SASL_SSL PLAIN user bench"},
			}},
			Host: results.Host{OS: "linux", Arch: "amd64", CPUs: 2},
		},
		Scenario: sc,
		Architectures: []results.Architecture{{
			Name: "crud",
			Load: results.LoadSummary{Mode: "open", DurationSeconds: 10, Completed: 100},
			Ops: []results.Op{{Name: "list_orders", Count: 100, Rate: 10,
				Latency: results.Stats{Count: 100, P50: 900, P99: 4000, Max: 5000}}},
		}},
		Verdicts:   []string{"verdict"},
		Thresholds: []results.ThresholdResult{{Threshold: "crud.list_orders.p99 < 5ms", Value: 4, Unit: "ms", Passed: true}},
	}
}

// marshal returns v as JSON, for comparing documents.
func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// entries returns the names in dir.
func entries(t *testing.T, dir string) []string {
	t.Helper()
	des, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range des {
		names = append(names, de.Name())
	}
	return names
}

func TestWriteRead(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "results", "nested") // created by Write
	run := testRun(t)
	path, err := results.Write(dir, run)
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "smoke-20260102T150405Z.json"); path != want {
		t.Errorf("path %q, want %q", path, want)
	}
	if got := entries(t, dir); !slices.Equal(got, []string{"smoke-20260102T150405Z.json"}) {
		t.Errorf("directory holds %q; want only the result (no temporary files)", got)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v, want 0644", fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, fmt.Appendf(nil, "{\n  \"schema_version\": %d,", results.SchemaVersion)) || !bytes.HasSuffix(data, []byte("}\n")) {
		t.Errorf("document is not indented JSON starting with schema_version:\n%.200s", data)
	}

	back, err := results.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := marshal(t, back), marshal(t, run); !bytes.Equal(got, want) {
		t.Errorf("round trip differs:\n got %s\nwant %s", got, want)
	}
	if len(back.Scenario.Thresholds) != len(run.Scenario.Thresholds) || back.Scenario.Load.Duration != run.Scenario.Load.Duration {
		t.Errorf("scenario did not round-trip: %+v", back.Scenario)
	}
}

func TestWriteNeverOverwrites(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	baseline := filepath.Join(dir, "smoke-20260102T150405Z.json")
	if err := os.WriteFile(baseline, []byte("the user's baseline\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := testRun(t)
	var paths []string
	for range 3 {
		p, err := results.Write(dir, run)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, filepath.Base(p))
	}
	want := []string{"smoke-20260102T150405Z-2.json", "smoke-20260102T150405Z-3.json", "smoke-20260102T150405Z-4.json"}
	if !slices.Equal(paths, want) {
		t.Errorf("paths %q, want %q", paths, want)
	}
	if b, _ := os.ReadFile(baseline); string(b) != "the user's baseline\n" {
		t.Errorf("baseline overwritten: %q", b)
	}
	if got := entries(t, dir); len(got) != 4 {
		t.Errorf("directory holds %q; want the baseline and three results", got)
	}
}

func TestWriteConcurrent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	const writers = 16
	run := testRun(t)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		paths = map[string]bool{}
	)
	for range writers {
		wg.Go(func() {
			p, err := results.Write(dir, run)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			paths[p] = true
			mu.Unlock()
		})
	}
	wg.Wait()
	if len(paths) != writers {
		t.Fatalf("%d distinct paths from %d writers: some clobbered another", len(paths), writers)
	}
	for p := range paths {
		if _, err := results.Read(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	for _, name := range entries(t, dir) {
		if strings.HasPrefix(name, ".tmp") {
			t.Errorf("temporary file %s left behind", name)
		}
	}
}

func TestWriteFailureLeavesNothing(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	run := testRun(t)
	run.Architectures[0].Load.OfferedRate = math.NaN() // JSON cannot encode it
	if _, err := results.Write(dir, run); err == nil || !strings.Contains(err.Error(), "write results: encode results") {
		t.Fatalf("Write with NaN: %v, want an encode error", err)
	}
	if got := entries(t, dir); len(got) != 0 {
		t.Errorf("failed write left %q", got)
	}
	if _, err := results.Write(dir, nil); err == nil {
		t.Error("Write(nil): no error")
	}
}

func TestWriteSchemaVersion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	run := testRun(t)
	run.SchemaVersion = 0
	p, err := results.Write(dir, run)
	if err != nil {
		t.Fatal(err)
	}
	if run.SchemaVersion != 0 {
		t.Error("Write modified the run")
	}
	if back, err := results.Read(p); err != nil || back.SchemaVersion != results.SchemaVersion {
		t.Errorf("zero version written as %v (%v), want %d", back, err, results.SchemaVersion)
	}
	run.SchemaVersion = results.SchemaVersion + 1
	if _, err := results.Write(dir, run); err == nil {
		t.Error("Write of a newer schema version: no error")
	}
}

func TestFileName(t *testing.T) {
	t.Parallel()
	run := testRun(t)
	run.StartedAt = time.Date(2026, 1, 2, 16, 4, 5, 0, time.FixedZone("CET", 3600))
	if got := results.FileName(run); got != "smoke-20260102T150405Z.json" {
		t.Errorf("FileName = %q: want the UTC time", got)
	}
	run.Scenario = &scenarios.Scenario{Name: "../my run"}
	if got := results.FileName(run); got != "_my_run-20260102T150405Z.json" {
		t.Errorf("FileName = %q: want an unsafe name sanitised", got)
	}
	run.Scenario = nil
	if got := results.FileName(run); got != "run-20260102T150405Z.json" {
		t.Errorf("FileName without a scenario = %q", got)
	}
}

func TestReadErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name, content string
		want          []string
		version       bool
	}{
		{"newer.json", `{"schema_version": 99, "tool": {"version": "v9.0.0"}}`,
			[]string{"newer.json", "schema_version 99", "written by cqrsbench v9.0.0", "reads versions 1 to 2"}, true},
		{"zero.json", `{"schema_version": 0}`, []string{"schema_version 0"}, true},
		{"none.json", `{"tool": {"version": "x"}}`, []string{"not a cqrsbench results document: no schema_version"}, false},
		{"garbage.json", `not json`, []string{"garbage.json", "not a cqrsbench results document"}, false},
		{"badfield.json", `{"schema_version": 1, "architectures": 3}`, []string{"badfield.json", "cannot unmarshal"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(dir, tt.name)
			if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := results.Read(p)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if got := errors.Is(err, results.ErrSchemaVersion); got != tt.version {
				t.Errorf("errors.Is(err, ErrSchemaVersion) = %v, want %v", got, tt.version)
			}
		})
	}
	if _, err := results.Read(filepath.Join(dir, "missing.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}
}
