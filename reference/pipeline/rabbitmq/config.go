package rabbitmq

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Defaults applied by Config.WithDefaults.
const (
	// DefaultQueue is the default of Config.Queue.
	DefaultQueue = "cqrsbench.events"
	// DefaultDeadLetterExchange is the default of Config.DeadLetterExchange.
	DefaultDeadLetterExchange = "cqrsbench.events.dlx"
	// DefaultDeadLetterQueue is the default of Config.DeadLetterQueue.
	DefaultDeadLetterQueue = "cqrsbench.events.dead"
	// DefaultWorkers is the default of Config.Workers.
	DefaultWorkers = 4
	// DefaultPrefetch is the default of Config.Prefetch.
	DefaultPrefetch = 256
	// DefaultConfirmTimeout is the default of Config.ConfirmTimeout.
	DefaultConfirmTimeout = 30 * time.Second
	// DefaultMaxReconnectDelay is the default of Config.MaxReconnectDelay.
	DefaultMaxReconnectDelay = 2 * time.Second
)

// firstReconnectDelay is the wait after the first failed connection
// attempt; it doubles per failure up to Config.MaxReconnectDelay.
const firstReconnectDelay = 50 * time.Millisecond

// maxPrefetch is the largest prefetch count AMQP 0-9-1 can carry (a short).
const maxPrefetch = 65535

// Config configures the topology, a Publisher and a Consumer of one event
// queue. The zero value of a field with a default means the default.
type Config struct {
	// URL is the broker, amqp://user:password@host:port/vhost or amqps://
	// for TLS. Required.
	URL string
	// TLS configures amqps:// connections; nil: the system roots, server
	// name from the URL. Setting it with an amqp:// URL is an error.
	TLS *tls.Config
	// Exchange receives published events: a durable direct exchange,
	// declared by Topology.Declare and bound to Queue with Queue as the
	// routing key. Default "": the default exchange, which routes by queue
	// name (one hop less).
	Exchange string
	// Queue holds the events: a durable quorum queue; default DefaultQueue.
	Queue string
	// DeadLetterExchange receives the messages consumers reject as poison
	// (x-dead-letter-exchange of Queue): a durable fanout exchange; default
	// DefaultDeadLetterExchange.
	DeadLetterExchange string
	// DeadLetterQueue is the durable quorum queue bound to
	// DeadLetterExchange; default DefaultDeadLetterQueue.
	DeadLetterQueue string
	// Workers is the number of competing consumers, each with its own
	// connection and channel; default DefaultWorkers.
	Workers int
	// Prefetch is each worker's channel QoS: the most deliveries the broker
	// sends it before acknowledgements; default DefaultPrefetch.
	Prefetch int
	// MaxBatch bounds the deliveries handed to one Handler call; default
	// Prefetch (a worker cannot hold more).
	MaxBatch int
	// ConfirmTimeout bounds a Publish call's wait for the broker's
	// confirms; default DefaultConfirmTimeout. On timeout Publish fails and
	// the caller publishes the batch again.
	ConfirmTimeout time.Duration
	// MaxReconnectDelay caps the wait between connection attempts after
	// the broker was lost, which starts at 50 ms and doubles per failure;
	// default DefaultMaxReconnectDelay.
	MaxReconnectDelay time.Duration
	// OnError is told about errors the publisher and the consumers recover
	// from (lost connections, failed handlers, failed acknowledgements);
	// nil: ignored (they are counted either way). It may be called from
	// several goroutines at once.
	OnError func(error)
}

// WithDefaults returns c with zero fields replaced by their defaults.
func (c Config) WithDefaults() Config {
	if c.Queue == "" {
		c.Queue = DefaultQueue
	}
	if c.DeadLetterExchange == "" {
		c.DeadLetterExchange = DefaultDeadLetterExchange
	}
	if c.DeadLetterQueue == "" {
		c.DeadLetterQueue = DefaultDeadLetterQueue
	}
	if c.Workers == 0 {
		c.Workers = DefaultWorkers
	}
	if c.Prefetch == 0 {
		c.Prefetch = DefaultPrefetch
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = c.Prefetch
	}
	if c.ConfirmTimeout == 0 {
		c.ConfirmTimeout = DefaultConfirmTimeout
	}
	if c.MaxReconnectDelay == 0 {
		c.MaxReconnectDelay = DefaultMaxReconnectDelay
	}
	return c
}

// Validate reports every invalid field; zero fields that have a default are
// valid.
func (c Config) Validate() error {
	var errs []error
	switch uri, err := amqp.ParseURI(c.URL); {
	case c.URL == "":
		errs = append(errs, errors.New("rabbitmq URL is empty: set it to amqp://user:password@host:5672/vhost (amqps:// for TLS)"))
	case err != nil:
		// The parser's message may quote the URL, password included.
		errs = append(errs, errors.New("rabbitmq URL is not an AMQP URI: write it as amqp://user:password@host:5672/vhost (amqps:// for TLS)"))
	case c.TLS != nil && uri.Scheme != "amqps":
		errs = append(errs, fmt.Errorf("rabbitmq TLS is configured but the URL's scheme is %s: use amqps://", uri.Scheme))
	}
	d := c.WithDefaults()
	names := []struct{ field, name string }{
		{"exchange", c.Exchange}, {"queue", d.Queue},
		{"dead-letter exchange", d.DeadLetterExchange}, {"dead-letter queue", d.DeadLetterQueue},
	}
	for _, n := range names {
		if err := validateName(n.name); err != nil {
			errs = append(errs, fmt.Errorf("rabbitmq %s: %w", n.field, err))
		}
	}
	if d.Queue == d.DeadLetterQueue {
		errs = append(errs, fmt.Errorf("rabbitmq dead-letter queue must differ from the queue %q", d.Queue))
	}
	if c.Exchange != "" && (c.Exchange == d.DeadLetterExchange) {
		errs = append(errs, fmt.Errorf("rabbitmq dead-letter exchange must differ from the exchange %q", c.Exchange))
	}
	if c.Workers < 0 || c.Workers > 1024 {
		errs = append(errs, fmt.Errorf("rabbitmq workers must be 1 to 1024 (or 0 for %d), got %d", DefaultWorkers, c.Workers))
	}
	if c.Prefetch < 0 || c.Prefetch > maxPrefetch {
		errs = append(errs, fmt.Errorf("rabbitmq prefetch must be 1 to %d (or 0 for %d), got %d", maxPrefetch, DefaultPrefetch, c.Prefetch))
	}
	if c.MaxBatch < 0 || (c.Prefetch >= 0 && c.MaxBatch > d.Prefetch) {
		errs = append(errs, fmt.Errorf("rabbitmq max batch must be 1 to the prefetch %d (or 0 for the prefetch), got %d", d.Prefetch, c.MaxBatch))
	}
	if c.ConfirmTimeout < 0 {
		errs = append(errs, fmt.Errorf("rabbitmq confirm timeout must be > 0 (or 0 for %s), got %s", DefaultConfirmTimeout, c.ConfirmTimeout))
	}
	if c.MaxReconnectDelay < 0 {
		errs = append(errs, fmt.Errorf("rabbitmq max reconnect delay must be > 0 (or 0 for %s), got %s", DefaultMaxReconnectDelay, c.MaxReconnectDelay))
	}
	return errors.Join(errs...)
}

// validateName checks an exchange or queue name the broker would refuse.
func validateName(s string) error {
	switch {
	case len(s) > 255:
		return fmt.Errorf("name is %d bytes, at most 255 allowed", len(s))
	case strings.HasPrefix(s, "amq."):
		return fmt.Errorf("name %q starts with amq., which the broker reserves: choose another", s)
	}
	return nil
}

// endpoint is the broker's address for messages, without credentials.
func (c Config) endpoint() string {
	uri, err := amqp.ParseURI(c.URL)
	if err != nil {
		return "(invalid URL)"
	}
	return fmt.Sprintf("%s://%s:%d vhost %s", uri.Scheme, uri.Host, uri.Port, uri.Vhost)
}

// handshakeTimeout bounds a connection attempt's TCP, TLS and AMQP
// handshakes.
const handshakeTimeout = 15 * time.Second

// dial opens a connection named name (shown by rabbitmqctl
// list_connections), giving up when ctx is done.
func (c Config) dial(ctx context.Context, name string) (*amqp.Connection, error) {
	conn, err := amqp.DialConfig(c.URL, amqp.Config{
		TLSClientConfig: c.TLS,
		Properties:      amqp.Table{"connection_name": name},
		Dial: func(network, addr string) (net.Conn, error) {
			d := net.Dialer{Timeout: handshakeTimeout}
			conn, err := d.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// Cleared by the client once the AMQP handshake is done.
			if err := conn.SetDeadline(time.Now().Add(handshakeTimeout)); err != nil {
				conn.Close()
				return nil, err
			}
			return conn, nil
		},
	})
	if err != nil {
		return nil, fmt.Errorf("connect to RabbitMQ at %s (is it running and is the URL right?): %w", c.endpoint(), err)
	}
	return conn, nil
}

// dialRetrying dials until it succeeds or ctx is done, waiting between
// attempts from 50 ms doubling up to MaxReconnectDelay, and reports each
// failure to onErr.
func (c Config) dialRetrying(ctx context.Context, name string, onErr func(error)) (*amqp.Connection, error) {
	delay := firstReconnectDelay
	for {
		conn, err := c.dial(ctx, name)
		if err == nil {
			return conn, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		onErr(err)
		if !sleep(ctx, delay) {
			return nil, ctx.Err()
		}
		delay = min(2*delay, c.MaxReconnectDelay)
	}
}

// sleep waits for d or until ctx is done, and reports whether ctx is still
// live.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// report passes err to OnError.
func (c Config) report(err error) {
	if c.OnError != nil {
		c.OnError(err)
	}
}
