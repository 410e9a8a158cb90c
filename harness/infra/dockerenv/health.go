package dockerenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// HealthTimeout bounds Healthy when ctx has no earlier deadline.
const HealthTimeout = 5 * time.Second

// ErrEngineUnavailable is wrapped by every error Healthy returns: no Docker
// engine can be used from this process.
var ErrEngineUnavailable = errors.New("no usable Docker engine")

// Healthy returns nil when a Docker engine answers a ping, found the way
// testcontainers finds it (~/.testcontainers.properties, DOCKER_HOST, the
// Docker context, the default and rootless sockets). Otherwise it returns an
// error wrapping ErrEngineUnavailable that says what is wrong (no engine,
// socket permission, no answer) and what to do. It returns within
// HealthTimeout or ctx's deadline, whichever is sooner, and never panics.
//
// testcontainers discovers the engine once per process and caches a failed
// discovery too, so an engine started after the first call is only seen by a
// new process. Discovery itself does not honour ctx; if it hangs (a
// DOCKER_HOST that drops packets) Healthy still returns on time and the probe
// finishes in the background.
func Healthy(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%w: check not run: %w", ErrEngineUnavailable, err)
	}
	ctx, cancel := context.WithTimeout(ctx, HealthTimeout)
	defer cancel()

	done := make(chan error, 1) // buffered: a late probe must not block forever
	go func() { done <- probeEngine(ctx) }()
	select {
	case err := <-done:
		return explainEngineError(err)
	case <-ctx.Done():
		return explainEngineError(fmt.Errorf("no answer in time (Healthy waits at most %s): %w", HealthTimeout, ctx.Err()))
	}
}

// probeEngine discovers the engine with testcontainers and pings it. Ping is
// a real round trip; the provider's own Health uses Info, which
// testcontainers caches after the first success.
func probeEngine(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("testcontainers panicked while looking for the engine: %v", r)
		}
	}()
	p, err := testcontainers.NewDockerProvider(testcontainers.WithLogger(tclog.NewNoopLogger()))
	if err != nil {
		where := "DOCKER_HOST is unset"
		if h := os.Getenv("DOCKER_HOST"); h != "" {
			where = "DOCKER_HOST=" + h
		}
		return fmt.Errorf("found no engine (%s; also tried the Docker context, %s and the rootless and "+
			"Docker Desktop sockets): %w", where, client.DefaultDockerHost, err)
	}
	defer p.Close()
	if _, err := p.Client().Ping(ctx, client.PingOptions{}); err != nil {
		return fmt.Errorf("ping %s: %w", p.Client().DaemonHost(), err)
	}
	return nil
}

// explainEngineError wraps a probe failure with ErrEngineUnavailable and the
// fix for its likely cause; nil stays nil.
func explainEngineError(err error) error {
	if err == nil {
		return nil
	}
	var fix string
	msg := strings.ToLower(err.Error())
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		fix = "check that the engine is running and reachable (`docker info`)"
		if h := os.Getenv("DOCKER_HOST"); h != "" {
			fix += " and that DOCKER_HOST=" + h + " is right"
		}
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("%w: check cancelled: %w", ErrEngineUnavailable, err)
	case errors.Is(err, os.ErrPermission) || strings.Contains(msg, "permission denied"):
		fix = "this user may not use the Docker socket; add it to the docker group " +
			"(`sudo usermod -aG docker $USER`, then log in again) or use rootless Docker"
	default:
		fix = "start Docker (Docker Desktop, or `sudo systemctl start docker`), or set DOCKER_HOST " +
			"to a running engine; `docker info` shows what the Docker CLI sees"
	}
	return fmt.Errorf("%w: %w; %s", ErrEngineUnavailable, err, fix)
}
