package dockerenv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// DefaultRabbitMQImage is the RabbitMQ image StartRabbitMQ runs when
// RabbitMQOptions leaves it empty.
const DefaultRabbitMQImage = "rabbitmq:3.13"

// Credentials of the RabbitMQ container: the default user of the official
// image (and of cqrsbench/rabbitmq), which both allow from outside the
// container. URL carries them.
const (
	// RabbitMQUser is the AMQP user.
	RabbitMQUser = "guest"
	// RabbitMQPassword is RabbitMQUser's password. The port is published on
	// 127.0.0.1 only when the engine is local.
	RabbitMQPassword = "guest"
)

// roleRabbitMQ is the LabelRole value of the RabbitMQ container.
const roleRabbitMQ = "rabbitmq"

// rabbitMQPort is the AMQP 0-9-1 listener inside the container.
const rabbitMQPort = "5672/tcp"

// RabbitMQOptions configures StartRabbitMQ. The zero value is ready to use.
type RabbitMQOptions struct {
	// Image is a RabbitMQ 3.x image that listens for AMQP on 5672 and lets
	// RabbitMQUser in from outside the container (the official rabbitmq
	// images do). Default DefaultRabbitMQImage.
	Image string
	// Progress receives one-line status messages; nil is silent.
	Progress io.Writer
}

// RabbitMQ is a running RabbitMQ container. Its URL never changes, not even
// across restarts. Close removes it. The methods are safe for concurrent use;
// stops, starts and Close run one at a time.
type RabbitMQ struct {
	progress *progress
	addr     addressing
	image    string

	// Set once by StartRabbitMQ and read-only afterwards.
	port    int
	version string
	id      string

	mu     sync.Mutex // serialises Stop, Start and Close; guards the fields below
	closed bool
	c      testcontainers.Container // nil once removed
}

// StartRabbitMQ runs a RabbitMQ container with AMQP published on a host
// port, waits until an AMQP handshake succeeds there, and returns it. The
// image is pulled on first use, which ctx bounds too. On failure it removes
// what it started and returns an error that says what to do.
func StartRabbitMQ(ctx context.Context, opts RabbitMQOptions) (*RabbitMQ, error) {
	if opts.Image == "" {
		opts.Image = DefaultRabbitMQImage
	}
	if err := validImage(opts.Image); err != nil {
		return nil, fmt.Errorf("dockerenv options: %w", err)
	}
	if err := Healthy(ctx); err != nil {
		return nil, err
	}
	r := &RabbitMQ{progress: newProgress(opts.Progress), image: opts.Image}
	var err error
	if r.addr, err = resolveAddressing(ctx); err != nil {
		return nil, err
	}
	r.progress.printf("dockerenv: starting %s (pulled on first use)", r.image)
	began := time.Now()
	c, port, err := runWithFreePort(ctx, r.addr, r.progress, roleRabbitMQ, r.image, func(ctx context.Context, hostPort int) (testcontainers.Container, error) {
		c, err := testcontainers.Run(ctx, r.image,
			testcontainers.WithLogger(tclog.NewNoopLogger()),
			testcontainers.WithExposedPorts(rabbitMQPort),
			testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
				r.addr.publish(rabbitMQPort, hostPort)(hc)
			}),
			testcontainers.WithLabels(labels(roleRabbitMQ)),
			// No wait strategy: awaitRabbitMQ below does an AMQP handshake.
		)
		return published(ctx, c, err, rabbitMQPort, hostPort)
	})
	if c != nil {
		r.c, r.id = c, c.GetContainerID()
	}
	if err == nil {
		r.port = port
		r.progress.printf("dockerenv: RabbitMQ container up on %s; waiting for AMQP", r.addr.addr(port))
		r.version, err = r.await(ctx)
	}
	if err != nil {
		err = fmt.Errorf("rabbitmq: %w", err)
		if cerr := r.Close(ctx); cerr != nil {
			err = errors.Join(err, fmt.Errorf("clean up after failed start: %w", cerr))
		}
		return nil, err
	}
	r.progress.printf("dockerenv: ready in %s: RabbitMQ %s at %s",
		time.Since(began).Round(100*time.Millisecond), r.version, r.addr.addr(r.port))
	return r, nil
}

// URL returns the amqp:// URL of the default virtual host, with
// RabbitMQUser's credentials, on the host-published port.
func (r *RabbitMQ) URL() string { return rabbitMQURL(r.addr.addr(r.port)) }

// Version returns the server's version as it announces it in the AMQP
// handshake (e.g. "3.10.8").
func (r *RabbitMQ) Version() string { return r.version }

// Image returns the image the container runs.
func (r *RabbitMQ) Image() string { return r.image }

// ContainerID returns the container's ID, for logs and for checking that
// Close removed it.
func (r *RabbitMQ) ContainerID() string { return r.id }

// HostPID returns the host's process ID of the container's main process,
// read now since a restart changes it; 0 when it is not running.
func (r *RabbitMQ) HostPID(ctx context.Context) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return hostPID(ctx, r.c)
}

// Restart stops the container (cleanly, within RestartStopTimeout), starts
// it again and waits until AMQP answers. Durable queues and their messages
// survive, and so does the URL. Clients see a broker outage meanwhile.
func (r *RabbitMQ) Restart(ctx context.Context) error {
	if err := r.Stop(ctx); err != nil {
		return err
	}
	return r.Start(ctx)
}

// Stop stops the container (cleanly, within RestartStopTimeout), keeping
// its data and address: Start brings it back.
func (r *RabbitMQ) Stop(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.c == nil {
		return ErrClosed
	}
	return stopContainer(ctx, r.progress, r.c, "RabbitMQ")
}

// Start starts the stopped container and waits until an AMQP handshake
// succeeds.
func (r *RabbitMQ) Start(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || r.c == nil {
		return ErrClosed
	}
	return startContainer(ctx, r.progress, r.c, r.port, "RabbitMQ", func(ctx context.Context) error {
		_, err := r.await(ctx)
		return err
	})
}

// Close terminates the container and removes its volumes. Like Env.Close it
// is idempotent, goes on when ctx is cancelled (for up to CloseTimeout) and
// waits for a Stop or Start in progress.
func (r *RabbitMQ) Close(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.closed = true
	if r.c == nil {
		return nil
	}
	if err := terminate(ctx, r.c, "RabbitMQ"); err != nil {
		return err
	}
	r.c = nil
	return nil
}

// await waits up to ReadyTimeout until an AMQP handshake with the published
// port succeeds (a TCP connect alone proves nothing: Docker's port proxy
// accepts connections before the node listens) and returns the version the
// server announces.
func (r *RabbitMQ) await(ctx context.Context) (string, error) {
	url := r.URL()
	var version string
	err := awaitReady(ctx, r.c, "RabbitMQ at "+r.addr.addr(r.port), func(ctx context.Context) error {
		conn, err := dialAMQP(ctx, url)
		if err != nil {
			return err
		}
		defer conn.Close()
		version, _ = conn.Properties["version"].(string)
		return nil
	})
	return version, err
}

// dialAMQP opens an AMQP connection whose TCP connect and handshake end by
// ctx's deadline.
func dialAMQP(ctx context.Context, url string) (*amqp.Connection, error) {
	return amqp.DialConfig(url, amqp.Config{
		Dial: func(network, addr string) (net.Conn, error) {
			var d net.Dialer
			conn, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			if deadline, ok := ctx.Deadline(); ok {
				// Covers the handshake; amqp091 clears it once open.
				if err := conn.SetDeadline(deadline); err != nil {
					conn.Close()
					return nil, err
				}
			}
			return conn, nil
		},
	})
}

// rabbitMQURL is the amqp:// URL of the default virtual host at hostPort.
func rabbitMQURL(hostPort string) string {
	u := url.URL{Scheme: "amqp", User: url.UserPassword(RabbitMQUser, RabbitMQPassword), Host: hostPort, Path: "/"}
	return u.String()
}
