package childproc

import (
	"fmt"
	"io"
	"net"
	"os"
	"strings"
)

// FreePorts asks the kernel for n distinct free loopback TCP ports. A
// server may still lose one to another process before it binds it: callers
// retry with new ports when the server says so.
func FreePorts(n int) ([]int, error) {
	ports := make([]int, n)
	for i := range ports {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free loopback port: %w", err)
		}
		defer l.Close() // all held open until all are chosen: distinct
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}

// FileSize returns the size of the file at path, 0 when it does not exist:
// the offset from which a server's log is new.
func FileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size()
}

// ReadFrom returns the contents of the file at path from offset on, "" when
// it cannot be read.
func ReadFrom(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	b, _ := io.ReadAll(f)
	return string(b)
}

// Labelled returns text under a heading, or "" when text is empty.
func Labelled(heading, text string) string {
	if strings.TrimSpace(text) == "" {
		return ""
	}
	return heading + ":\n" + text + "\n"
}
