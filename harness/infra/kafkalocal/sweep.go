package kafkalocal

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// SweepStale removes broker directories left in os.TempDir() by processes
// that died without cleaning up (SIGKILL, power loss). A directory is
// removed only when both its owner and its broker JVM are gone. Errors are
// ignored: sweeping is best effort. Start calls it.
func SweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), dirPrefix+"*"))
	for _, dir := range dirs {
		owner, ok := readPID(filepath.Join(dir, ownerFile))
		if !ok || alive(owner) {
			continue
		}
		if jvm, ok := readPID(filepath.Join(dir, brokerPIDFile)); ok && alive(jvm) {
			continue
		}
		_ = os.RemoveAll(dir)
	}
}

// readPID reads the first line of a pid file.
func readPID(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	return pid, err == nil && pid > 0
}

// alive reports whether a process with this pid exists.
func alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
