package rabbitlocal

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// ErrNotInstalled means no usable RabbitMQ server or Erlang runtime was
// found. A provider can turn it into "service unavailable".
var ErrNotInstalled = errors.New("RabbitMQ server not found")

// installHint tells a user how to get the server.
const installHint = "install it (Debian/Ubuntu: apt-get install rabbitmq-server; it brings Erlang), " +
	"or put the sbin directory of a RabbitMQ generic-unix distribution on PATH"

// debianServer is where the Debian package keeps the real start script
// (/usr/sbin/rabbitmq-server is a wrapper that switches to the rabbitmq
// user and its fixed directories).
const debianServer = "/usr/lib/rabbitmq/bin/rabbitmq-server"

// Binaries are the programs a node runs.
type Binaries struct {
	// Server is the rabbitmq-server start script, in the sbin directory of
	// an installation (next to rabbitmq-env).
	Server string
	// Epmd is the Erlang port mapper daemon.
	Epmd string
}

// FindBinaries returns the programs a node runs: server when it is not
// empty, else rabbitmq-server on PATH when it is the real start script,
// else the Debian package's; and epmd from PATH or the Erlang installation.
// erl must be on PATH: the start script runs it. It fails with
// ErrNotInstalled, saying what to install, when any is missing.
func FindBinaries(server string) (Binaries, error) {
	var b Binaries
	switch {
	case server != "":
		if err := checkServer(server); err != nil {
			return b, fmt.Errorf("%w at %s: %v; %s", ErrNotInstalled, server, err, installHint)
		}
		b.Server = server
	default:
		for _, c := range serverCandidates() {
			if checkServer(c) == nil {
				b.Server = c
				break
			}
		}
		if b.Server == "" {
			return b, fmt.Errorf("%w on PATH or at %s; %s", ErrNotInstalled, debianServer, installHint)
		}
	}
	if _, err := exec.LookPath("erl"); err != nil {
		return b, fmt.Errorf("%w: the Erlang runtime (erl) is not on PATH; %s", ErrNotInstalled, installHint)
	}
	b.Epmd = findEpmd()
	if b.Epmd == "" {
		return b, fmt.Errorf("%w: epmd (Erlang's port mapper) is not on PATH or under /usr/lib/erlang; %s", ErrNotInstalled, installHint)
	}
	return b, nil
}

// serverCandidates lists the start scripts to try: the one on PATH (a
// wrapper such as Debian's /usr/sbin one fails checkServer), then Debian's.
func serverCandidates() []string {
	var out []string
	if p, err := exec.LookPath("rabbitmq-server"); err == nil {
		out = append(out, p)
	}
	return append(out, debianServer)
}

// checkServer reports whether path is an executable rabbitmq-server start
// script of an installation: once symlinks are resolved it is still named
// rabbitmq-server and rabbitmq-env lies next to it. (Debian's
// /usr/sbin/rabbitmq-server resolves to rabbitmq-script-wrapper, which
// switches to the rabbitmq user and /var/lib/rabbitmq.)
func checkServer(path string) error {
	real, err := filepath.EvalSymlinks(path)
	if err != nil {
		return err
	}
	if filepath.Base(real) != "rabbitmq-server" {
		return fmt.Errorf("%s leads to %s, a wrapper, not the start script of an installation (Debian's is %s)", path, real, debianServer)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return err
	}
	if fi.Mode()&0o111 == 0 {
		return fmt.Errorf("%s is not executable", real)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(real), "rabbitmq-env")); err != nil {
		return fmt.Errorf("%s is not the start script of an installation: no rabbitmq-env next to it", real)
	}
	return nil
}

// findEpmd returns epmd from PATH, else from the Erlang installation, or "".
func findEpmd() string {
	if p, err := exec.LookPath("epmd"); err == nil {
		return p
	}
	candidates, _ := filepath.Glob("/usr/lib/erlang/erts-*/bin/epmd")
	for _, c := range append([]string{"/usr/lib/erlang/bin/epmd"}, candidates...) {
		if fi, err := os.Stat(c); err == nil && fi.Mode()&0o111 != 0 {
			return c
		}
	}
	return ""
}
