package dockerenv

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
)

// addressing says where the host reaches published ports and which host
// address Docker binds them on.
type addressing struct {
	// host is the address clients use: 127.0.0.1 for a local engine, else
	// the engine's host as testcontainers resolves it (DOCKER_HOST,
	// TESTCONTAINERS_HOST_OVERRIDE, or the gateway when running inside a
	// container).
	host string
	// bind is the host address Docker publishes on: 127.0.0.1 for a local
	// engine, so the benchmark's well-known password is not reachable from
	// the network; the zero Addr (all interfaces) otherwise.
	bind netip.Addr
}

// newAddressing derives the addressing from the engine's host as
// testcontainers reports it (DockerProvider.DaemonHost).
func newAddressing(daemonHost string) addressing {
	if isLoopback(daemonHost) {
		// "localhost" may resolve to ::1 first while the binding below is
		// IPv4; use the literal so clients never try the wrong family.
		lo := netip.AddrFrom4([4]byte{127, 0, 0, 1})
		return addressing{host: lo.String(), bind: lo}
	}
	return addressing{host: daemonHost}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// addr joins the client-side host with a port.
func (a addressing) addr(port int) string {
	return net.JoinHostPort(a.host, strconv.Itoa(port))
}

// freePorts returns n distinct ports that are free on this machine right now.
// All listeners stay open until every port is picked, so the ports differ.
// For a remote engine the check is only a good guess; Start retries when
// Docker reports the port taken (see isPortConflict).
func (a addressing) freePorts(n int) ([]int, error) {
	laddr := ":0"
	if a.bind.IsValid() {
		laddr = net.JoinHostPort(a.bind.String(), "0")
	}
	ports := make([]int, 0, n)
	listeners := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", laddr)
		if err != nil {
			return nil, fmt.Errorf("pick a free host port on %s: %w", laddr, err)
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// publish returns a host-config modifier that publishes containerPort
// ("9092/tcp") on the given host port. testcontainers keeps bindings set by a
// modifier for exposed ports (mergePortBindings), so the port must also be
// passed to WithExposedPorts.
func (a addressing) publish(containerPort string, hostPort int) func(*container.HostConfig) {
	return func(hc *container.HostConfig) {
		if hc.PortBindings == nil {
			hc.PortBindings = network.PortMap{}
		}
		hc.PortBindings[network.MustParsePort(containerPort)] = []network.PortBinding{
			{HostIP: a.bind, HostPort: strconv.Itoa(hostPort)},
		}
	}
}

// isPortConflict reports whether err is Docker (or Podman) refusing a host
// port that is already in use.
func isPortConflict(err error) bool {
	if err == nil {
		return false
	}
	msg := strings.ToLower(err.Error())
	return strings.Contains(msg, "port is already allocated") ||
		strings.Contains(msg, "address already in use")
}
