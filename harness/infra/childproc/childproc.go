// Package childproc holds what the local providers (pglocal, kafkalocal,
// rabbitlocal) share about the servers they run as child processes:
// process attributes that keep a server from outliving cqrsbench, owner
// files in their temporary directories, the sweep of directories whose
// owner died, free ports and the tails of their logs.
package childproc

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// OwnerFile names the file in a server directory holding the pid of the
// process that created it.
const OwnerFile = "owner.pid"

// WriteOwner records this process as the owner of dir.
func WriteOwner(dir string) error {
	return os.WriteFile(filepath.Join(dir, OwnerFile), []byte(strconv.Itoa(os.Getpid())), 0o644)
}

// Sweep removes the directories os.TempDir()/prefix* left by owners that
// died without cleaning up (SIGKILL, power loss). A directory is removed
// only when its owner is gone and so are the servers whose pids the files
// serverPIDFiles (relative to the directory) name. Best effort: errors are
// ignored.
func Sweep(prefix string, serverPIDFiles ...string) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), prefix+"*"))
	for _, dir := range dirs {
		owner, ok := ReadPID(filepath.Join(dir, OwnerFile))
		if !ok || Alive(owner) {
			continue
		}
		if !anyAlive(dir, serverPIDFiles) {
			_ = os.RemoveAll(dir)
		}
	}
}

// anyAlive reports whether a process named by one of the pid files in dir
// exists.
func anyAlive(dir string, pidFiles []string) bool {
	for _, f := range pidFiles {
		if pid, ok := ReadPID(filepath.Join(dir, f)); ok && Alive(pid) {
			return true
		}
	}
	return false
}

// ReadPID reads the pid on the first line of a pid file.
func ReadPID(path string) (int, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	return pid, err == nil && pid > 0
}

// Alive reports whether a process with this pid exists.
func Alive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// Tail returns the last n lines of s.
func Tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
