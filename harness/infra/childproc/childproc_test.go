package childproc_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/cqrsbench/cqrsbench/harness/infra/childproc"
)

func TestTail(t *testing.T) {
	t.Parallel()
	if got := childproc.Tail("a\nb\nc\n", 2); got != "b\nc" {
		t.Errorf("Tail = %q", got)
	}
	if got := childproc.Tail("a", 5); got != "a" {
		t.Errorf("Tail = %q", got)
	}
}

// TestSweepRemovesOnlyDeadOwners leaves a live owner's directory and a
// directory whose server still runs, and removes the one whose owner and
// server are both gone.
func TestSweepRemovesOnlyDeadOwners(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	deadPID := strconv.Itoa(dead.Process.Pid)
	self := strconv.Itoa(os.Getpid())
	mk := func(name, owner, server string) string {
		dir := filepath.Join(tmp, "x-"+name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		_ = os.WriteFile(filepath.Join(dir, childproc.OwnerFile), []byte(owner), 0o644)
		if server != "" {
			_ = os.WriteFile(filepath.Join(dir, "server.pid"), []byte(server+"\n"), 0o644)
		}
		return dir
	}
	live := mk("live-owner", self, "")
	serving := mk("server-running", deadPID, self)
	gone := mk("all-gone", deadPID, deadPID)
	childproc.Sweep("x-", "server.pid")
	for dir, want := range map[string]bool{live: true, serving: true, gone: false} {
		_, err := os.Stat(dir)
		if exists := err == nil; exists != want {
			t.Errorf("%s exists=%v, want %v", filepath.Base(dir), exists, want)
		}
	}
}
