package infratest

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
)

// ChildPIDs lists the processes whose parent is pid, read from /proc.
func ChildPIDs(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Format: pid (comm) state ppid ...; comm may contain spaces.
		s := string(b)
		var state string
		var ppid, child int
		if _, err := fmt.Sscan(s[strings.LastIndexByte(s, ')')+2:], &state, &ppid); err != nil || ppid != pid {
			continue
		}
		if _, err := fmt.Sscan(e.Name(), &child); err == nil {
			out = append(out, child)
		}
	}
	return out
}

// Gone reports whether no process with this pid exists.
func Gone(pid int) bool { return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) }

// TraversableTempDir creates a temporary directory that an unprivileged
// server user can traverse (t.TempDir's are private to us), removed at
// cleanup. Tests point TMPDIR at it to see exactly what providers leave.
func TraversableTempDir(t testing.TB) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "cqrsbench-test-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}
