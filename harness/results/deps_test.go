package results_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestReadingResultsStartsNoServers checks that package results does not
// depend on the code that starts servers (harness/infra, testcontainers):
// compare, report and CI gates read results files without it.
func TestReadingResultsStartsNoServers(t *testing.T) {
	t.Parallel()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command on PATH to list the package's dependencies")
	}
	out, err := exec.CommandContext(t.Context(), goTool, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, pkg := range strings.Fields(string(out)) {
		if strings.Contains(pkg, "/harness/infra") || strings.Contains(pkg, "testcontainers") {
			t.Errorf("harness/results depends on %s: keep what a results file records in a leaf package (harness/services)", pkg)
		}
	}
}
