// Package infratest decides what a test does when a service it needs is
// missing: skip with a message naming what to install on a developer's
// machine, fail in CI (CQRSBENCH_REQUIRE_SERVICES=1, set by .ci/run), so a
// suite that skipped everything can never pass there.
package infratest

import (
	"os"
	"testing"
)

// RequireEnv is the environment variable that turns a missing service into a
// test failure instead of a skip.
const RequireEnv = "CQRSBENCH_REQUIRE_SERVICES"

// Required reports whether missing services must fail tests.
func Required() bool {
	v := os.Getenv(RequireEnv)
	return v != "" && v != "0" && v != "false"
}

// Missing stops the test because a service is unavailable: t.Fatalf when
// services are required, t.Skipf otherwise. The message should name what to
// install or set.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if Required() {
		t.Fatalf("service required ("+RequireEnv+" is set): "+format, args...)
	}
	t.Skipf(format, args...)
}

// SkipShort skips t under -short (make test-short): it starts real
// services, which the short suite never does.
func SkipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts real services; not with -short")
	}
}
