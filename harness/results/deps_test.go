package results_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestReadingResultsStartsNoServers checks that package results does not
// depend on the code that starts servers (harness/infra, testcontainers),
// so that compare, report and CI gates read results files without it, and
// that what it records of the services, harness/services, stays a leaf
// package of the standard library alone.
func TestReadingResultsStartsNoServers(t *testing.T) {
	t.Parallel()
	for _, pkg := range nonStandardDeps(t, ".") {
		if strings.Contains(pkg, "/harness/infra") || strings.Contains(pkg, "testcontainers") {
			t.Errorf("harness/results depends on %s: keep what a results file records in a leaf package (harness/services)", pkg)
		}
	}
	const leaf = "github.com/cqrsbench/cqrsbench/harness/services"
	if got := nonStandardDeps(t, leaf); len(got) != 1 || got[0] != leaf {
		t.Errorf("harness/services depends on %v, want the standard library only", got)
	}
}

// nonStandardDeps lists pkg and the packages it depends on outside the
// standard library (go list -deps).
func nonStandardDeps(t *testing.T, pkg string) []string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to list the package's dependencies")
	}
	out, err := exec.CommandContext(t.Context(), goTool, "list", "-deps", "-f", "{{if not .Standard}}{{.ImportPath}}{{end}}", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	return strings.Fields(string(out))
}
