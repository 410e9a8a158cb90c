package scenarios_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cqrsbench/cqrsbench/scenarios"
)

// writePack writes a minimal workload pack (schema and data only: no
// operations yet) into a directory and returns it.
func writePack(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	yaml := "name: tiny\nschema: |\n  CREATE TABLE things (id bigserial PRIMARY KEY, n int NOT NULL);\ndata:\n  tables:\n    things:\n      rows: 10\n"
	if err := os.WriteFile(filepath.Join(dir, "workload.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestWorkloadOverrideNarrowsArchitecturesAndMix: --workload with a pack
// keeps only the architectures that run packs and drops a mix naming the
// shop's operations; the pack has none, so validation says so.
func TestWorkloadOverrideNarrowsArchitecturesAndMix(t *testing.T) {
	t.Parallel()
	dir := writePack(t, filepath.Join(t.TempDir(), "tiny"))
	smoke, err := scenarios.Builtin("smoke")
	if err != nil {
		t.Fatal(err)
	}
	_, err = smoke.WithOverrides(scenarios.Overrides{Workload: &dir})
	if err == nil || !strings.Contains(err.Error(), "workload tiny has no operations; give it commands: and screens:") {
		t.Fatalf("a pack without operations: %v, want that reported", err)
	}
}

// TestEveryArchitectureRunsPacks: every architecture has a derived form,
// so a pack runs on all of them and naming any is accepted. (Validate
// refuses an architecture without one, naming those that run packs; the
// catalog has none to refuse now.)
func TestEveryArchitectureRunsPacks(t *testing.T) {
	t.Parallel()
	dir, err := filepath.Abs("../workloads/helpdesk")
	if err != nil {
		t.Fatal(err)
	}
	smoke, err := scenarios.Builtin("smoke")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := smoke.WithOverrides(scenarios.Overrides{Workload: &dir, Arch: []string{"crud,cqrs-kafka"}})
	if err != nil {
		t.Fatalf("crud and cqrs-kafka on a pack: %v", err)
	}
	if got, all := scenarios.ArchitecturesOf(sc.Workload()), scenarios.Architectures(); !slices.Equal(got, all) {
		t.Errorf("architectures that run the pack: %v, want every one, %v", got, all)
	}
}

// TestScenarioNamesAPackRelativeToItsFile: `workload: DIR` in a scenario
// file is the directory relative to the file; by default only the
// architectures that run packs are measured; a broken pack's errors come
// with their file and line.
func TestScenarioNamesAPackRelativeToItsFile(t *testing.T) {
	t.Parallel()
	root := t.TempDir()
	writePack(t, filepath.Join(root, "packs", "tiny"))
	file := filepath.Join(root, "sc", "mine.yaml")
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte("workload: ../packs/tiny\nmix: {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := scenarios.Load(file)
	if err == nil || !strings.Contains(err.Error(), "mine.yaml:1: workload: workload tiny has no operations") {
		t.Fatalf("Load: %v, want only the pack's missing operations reported (the pack itself resolved)", err)
	}
	if err := os.WriteFile(filepath.Join(root, "packs", "tiny", "workload.yaml"), []byte("name: tiny\nschema: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = scenarios.Load(file)
	if err == nil || !strings.Contains(err.Error(), "workload.yaml:1") {
		t.Fatalf("a broken pack: %v, want its file and line", err)
	}
	if got := scenarios.ArchitecturesOf(mustParse(t, "").Workload()); !slices.Equal(got, scenarios.Architectures()) {
		t.Errorf("ArchitecturesOf(shop) = %v, want every architecture", got)
	}
}

// TestEveryBuiltinTakesAPack: each built-in scenario, given --workload with
// a pack, validates — thresholds on the shop's operations are dropped with
// its mix — except those whose faults need an architecture that does not
// run packs yet, which say so.
func TestEveryBuiltinTakesAPack(t *testing.T) {
	t.Parallel()
	dir, err := filepath.Abs("../workloads/helpdesk")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range scenarios.BuiltinNames() {
		s, err := scenarios.Builtin(name)
		if err != nil {
			t.Fatal(err)
		}
		c, err := s.WithOverrides(scenarios.Overrides{Workload: &dir})
		if err != nil {
			if len(s.Faults) == 0 || !strings.Contains(err.Error(), "does not run workload packs yet") && !strings.Contains(err.Error(), "on workload helpdesk yet; drop this fault") {
				t.Errorf("%s --workload %s: %v", name, dir, err)
			}
			continue
		}
		for _, th := range c.Thresholds {
			if th.Metric == "list_orders" || th.Metric == "create_order" {
				t.Errorf("%s: threshold %s kept on a shop operation", name, th)
			}
		}
	}
}

// TestPackFaultsAskTheDerivedSystem: on a pack, a fault needing what only
// the hand-written architectures offer (the shop's rebuild) is refused at
// validation, naming the architecture; one the derived systems offer
// (poison) is accepted.
func TestPackFaultsAskTheDerivedSystem(t *testing.T) {
	t.Parallel()
	dir, err := filepath.Abs("../workloads/helpdesk")
	if err != nil {
		t.Fatal(err)
	}
	for _, arch := range []string{"cqrs-kafka", "cqrs-rabbitmq"} {
		doc := func(kind string) string {
			return "workload: " + dir + "\narchitectures: [" + arch + "]\nfaults: [{kind: " + kind + ", arch: " + arch + ", at: 1s}]\n"
		}
		_, err = scenarios.Parse("x.yaml", []byte(doc("rebuild")))
		if err == nil || !strings.Contains(err.Error(), "rebuild faults need read models that can be rebuilt, which "+arch+" does not offer") {
			t.Errorf("rebuild on a pack's %s: %v", arch, err)
		}
		if _, err := scenarios.Parse("x.yaml", []byte(doc("poison"))); err != nil {
			t.Errorf("poison on a pack's %s: %v", arch, err)
		}
	}
}
