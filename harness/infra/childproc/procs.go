package childproc

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ChildPIDs lists the processes whose parent is pid, read from /proc (none
// where there is no /proc).
func ChildPIDs(pid int) []int { return parents()[pid] }

// Descendants lists the processes below pid: its children, theirs, and so
// on, read from /proc. Servers' helpers that start sessions of their own
// (Erlang's erl_child_setup and port programs) are among them, out of
// reach of a signal to the server's process group.
func Descendants(pid int) []int {
	children := parents()
	var out []int
	for queue := children[pid]; len(queue) > 0; queue = queue[1:] {
		out = append(out, queue[0])
		queue = append(queue, children[queue[0]]...)
	}
	return out
}

// ProcessName returns the program name of pid (/proc/PID/comm), "" when
// it is gone.
func ProcessName(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm")
	return strings.TrimSpace(string(b))
}

// parents maps each pid to its children's pids.
func parents() map[int][]int {
	entries, _ := os.ReadDir("/proc")
	children := map[int][]int{}
	for _, e := range entries {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// Format: pid (comm) state ppid ...; comm may contain spaces.
		s := string(b)
		var state string
		var ppid, child int
		if _, err := fmt.Sscan(s[strings.LastIndexByte(s, ')')+2:], &state, &ppid); err != nil {
			continue
		}
		if _, err := fmt.Sscan(e.Name(), &child); err == nil {
			children[ppid] = append(children[ppid], child)
		}
	}
	return children
}
