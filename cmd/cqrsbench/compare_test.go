package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/harness/results"
	"github.com/cqrsbench/cqrsbench/scenarios"
)

// writeRun saves a run of scenario name whose crud list_orders p99 is
// p99ms, and returns its path.
func writeRun(t *testing.T, dir, name string, p99ms float64) string {
	t.Helper()
	run := &results.Run{
		StartedAt: time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC),
		Scenario:  &scenarios.Scenario{Name: name, Dataset: scenarios.Dataset{Orders: 1000}},
		Architectures: []results.Architecture{{
			Name: "crud", Load: results.LoadSummary{AchievedRate: 100},
			Ops: []results.Op{{Name: "list_orders", Latency: results.Stats{Count: 1000, P50: 300, P99: p99ms * 1000}}},
		}},
	}
	path, err := results.Write(dir, run)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCompareExitCodes(t *testing.T) {
	dir := t.TempDir()
	base := writeRun(t, dir, "mixed", 2)
	same := writeRun(t, dir, "mixed", 2.2)
	worse := writeRun(t, dir, "mixed", 4)
	other := writeRun(t, dir, "burst", 2)

	code, stdout, stderr := cli(t, "compare", base, same)
	if code != exitOK || !strings.Contains(stdout, "OK: no regression") {
		t.Errorf("2 -> 2.2 ms: exit %d, want 0\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = cli(t, "compare", base, worse)
	if code != exitFailed || !strings.Contains(stdout, "FAILED") || !strings.Contains(stderr, "crud list_orders p99") {
		t.Errorf("2 -> 4 ms: exit %d, want 1 naming crud list_orders p99\n%s%s", code, stdout, stderr)
	}
	code, _, stderr = cli(t, "compare", "--tail-tolerance", "150%", base, worse)
	if code != exitOK {
		t.Errorf("2 -> 4 ms with --tail-tolerance 150%%: exit %d, want 0\n%s", code, stderr)
	}
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"other scenario", []string{base, other}, "not comparable"},
		{"one file", []string{base}, "needs two results files"},
		{"missing file", []string{base, filepath.Join(dir, "nope.json")}, "nope.json"},
		{"bad tolerance", []string{"--tolerance", "lots", base, same}, "--tolerance"},
	} {
		code, _, stderr := cli(t, append([]string{"compare"}, c.args...)...)
		if code != exitUsage || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, want 2 with %q\n%s", c.name, code, c.want, stderr)
		}
	}
}

func TestReportWritesHTMLAndKeepsExistingFiles(t *testing.T) {
	dir := t.TempDir()
	a, b := writeRun(t, dir, "mixed", 2), writeRun(t, dir, "burst", 3)
	out := filepath.Join(dir, "report.html")
	code, _, stderr := cli(t, "report", a, b, "-o", out)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(data), "mixed — 2026-11-24 12:00 UTC") || !strings.Contains(string(data), "burst — ") {
		t.Fatalf("report lacks the two runs (err %v)", err)
	}
	code, _, stderr = cli(t, "report", a, "-o", out)
	if code != exitUsage || !strings.Contains(stderr, "--force") {
		t.Errorf("existing output: exit %d, want 2 suggesting --force\n%s", code, stderr)
	}
	if code, _, stderr = cli(t, "report", a, "-o", out, "--force"); code != exitOK {
		t.Errorf("--force: exit %d\n%s", code, stderr)
	}
	if code, _, stderr = cli(t, "report", "-o", out); code != exitUsage || !strings.Contains(stderr, "at least one results file") {
		t.Errorf("no files: exit %d, want 2\n%s", code, stderr)
	}
}

// TestCompareWithSchemaV1Baseline compares a baseline written by schema
// version 1 with the same run written by this build: it loads, nothing
// differs, not even the environment, and the verdict is the one of the
// current document compared with itself (the fixture has a consistency
// violation, which fails any comparison).
func TestCompareWithSchemaV1Baseline(t *testing.T) {
	baseline := filepath.Join("..", "..", "harness", "results", "testdata", "schema-v1.json")
	run, err := results.Read(baseline)
	if err != nil {
		t.Fatal(err)
	}
	current, err := results.Write(t.TempDir(), run)
	if err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := cli(t, "compare", baseline, current)
	selfCode, selfStdout, _ := cli(t, "compare", current, current)
	if code == exitUsage || code != selfCode {
		t.Errorf("version-1 baseline vs the same run: exit %d, want %d as for the current document against itself\n%s%s", code, selfCode, stdout, stderr)
	}
	if strings.Contains(stdout+stderr, "differs") {
		t.Errorf("the same environment read from both layouts is reported different:\n%s%s", stdout, stderr)
	}
	if got, want := strings.ReplaceAll(stdout, baseline, current), selfStdout; got != want {
		t.Errorf("comparison with the version-1 baseline:\n%s\nwant, as against the current document:\n%s", got, want)
	}
}
