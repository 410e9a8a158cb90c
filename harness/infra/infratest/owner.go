package infratest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// ServeAsOwner is the owner's side of KillOwner, for TestMain: when the
// environment variable env is 1, it starts a server with start, prints the
// values start returns on one line (or the error, and exits) and blocks
// until the process is killed; otherwise it returns at once.
func ServeAsOwner(env string, start func() ([]any, error)) {
	if os.Getenv(env) != "1" {
		return
	}
	about, err := start()
	if err != nil {
		fmt.Println("ERR", strings.ReplaceAll(err.Error(), "\n", " | "))
		os.Exit(1)
	}
	fmt.Println(about...)
	select {}
}

// KillOwner runs the test binary again as the owner of a server: with env
// set to 1, the package's TestMain starts a server, prints one line about
// it (pids, directory) and blocks (ServeAsOwner). KillOwner reads that line into dst with
// fmt.Sscan, then kills the owner with SIGKILL and reaps it, so the test
// can check that the server died with its owner and what it left.
func KillOwner(t testing.TB, env string, dst ...any) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), env+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err == nil {
		_, err = fmt.Sscan(line, dst...)
	}
	_ = cmd.Process.Signal(syscall.SIGKILL)
	_ = cmd.Wait()
	if err != nil {
		t.Fatalf("owner process said %q: %v", line, err)
	}
}

// AwaitGone waits until pid no longer exists (a server whose owner died is
// reaped by another process, a moment after it exits); if it still exists
// after within, it kills it and fails the test.
func AwaitGone(t testing.TB, pid int, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !Gone(pid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("process %d still exists after %v", pid, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
