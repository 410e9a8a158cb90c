package infra

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	amqp "github.com/rabbitmq/amqp091-go"
)

// AMQPURLFlag names the setting of a RabbitMQ broker's URL in errors.
const AMQPURLFlag = "--amqp-url"

// amqpURLExample is what a bad AMQP URL's error shows.
const amqpURLExample = "amqp://user:pass@127.0.0.1:5672/"

// ParseAMQPURL checks an AMQP 0-9-1 URL — amqp:// or amqps://, a host, an
// optional port (default 5672, amqps 5671), an optional virtual host of
// one path segment (default "/"; %2F for a slash in its name) — and returns
// it parsed. A bad URL is a ConfigError (exit code 2) saying what is wrong,
// with an example; it never shows the password.
func ParseAMQPURL(s string) (amqp.URI, error) {
	bad := func(format string, args ...any) (amqp.URI, error) {
		return amqp.URI{}, &ConfigError{AMQPURLFlag, fmt.Sprintf(format, args...) + " (example: " + amqpURLExample + ")"}
	}
	if strings.TrimSpace(s) == "" {
		return bad("is empty")
	}
	if strings.ContainsAny(s, " \t\r\n") {
		return bad("contains white space")
	}
	if lower := strings.ToLower(s); !strings.HasPrefix(lower, "amqp://") && !strings.HasPrefix(lower, "amqps://") {
		return bad("does not start with amqp:// or amqps://")
	}
	u, err := url.Parse(s)
	if err != nil {
		// url.Error repeats the whole URL, password included: keep only
		// what it found wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return bad("is not a URL: %v; percent-encode reserved characters (@ : / ? #) in the user name and password", err)
	}
	if u.Hostname() == "" {
		return bad("has no host")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return bad("port %q is not a number from 1 to 65535", p)
		}
	}
	if vhost := strings.TrimPrefix(u.EscapedPath(), "/"); strings.Contains(vhost, "/") {
		return bad("the virtual host %q is more than one path segment; write a slash in its name as %%2F", vhost)
	}
	uri, err := amqp.ParseURI(s)
	if err != nil {
		return bad("%v", err) // query parameters: messages name the parameter, not the URL
	}
	return uri, nil
}

// RedactAMQPURL returns an AMQP URL with its password replaced by "xxxxx",
// for messages and results; a URL that does not parse is replaced whole.
func RedactAMQPURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable AMQP URL)"
	}
	return u.Redacted()
}

// PingAMQP connects to the broker at rawURL, completes an AMQP handshake
// (TLS for amqps://: tlsConfig, or the system's roots and the URL's
// certfile, keyfile and cacertfile parameters when nil) and returns the
// RabbitMQ version the broker announces. A bad URL is a ConfigError; a
// broker that cannot be reached, or that refuses the credentials or the
// virtual host, is an UnavailableError (exit code 3) whose Fix says which.
// The password is never shown.
func PingAMQP(ctx context.Context, rawURL string, tlsConfig *tls.Config) (version string, err error) {
	uri, err := ParseAMQPURL(rawURL)
	if err != nil {
		return "", err
	}
	if tlsConfig != nil && uri.Scheme != "amqps" {
		return "", &ConfigError{AMQPURLFlag, "TLS is configured but the URL is amqp://; use amqps:// (example: amqps://user:pass@broker:5671/)"}
	}
	ctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	cfg := amqp.Config{Dial: func(network, addr string) (net.Conn, error) {
		conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		deadline, _ := ctx.Deadline()
		_ = conn.SetDeadline(deadline) // the handshake's; cleared once it is done
		return conn, nil
	}}
	if tlsConfig != nil {
		cfg.TLSClientConfig = tlsConfig.Clone() // DialConfig sets ServerName in it
	}
	service := "RabbitMQ at " + net.JoinHostPort(uri.Host, strconv.Itoa(uri.Port))
	conn, err := amqp.DialConfig(rawURL, cfg)
	if err != nil {
		return "", Unavailable(service, amqpFix(err, uri.Vhost), err)
	}
	defer conn.Close()
	version, _ = conn.Properties["version"].(string)
	return version, nil
}

// amqpFix says what to check when a broker does not take a connection.
func amqpFix(err error, vhost string) string {
	var amqpErr *amqp.Error
	var certErr *tls.CertificateVerificationError
	var recordErr tls.RecordHeaderError
	switch {
	case errors.As(err, &amqpErr) && amqpErr.Code == amqp.AccessRefused:
		return "the broker refused the credentials: check the user name and password in " + AMQPURLFlag
	case errors.As(err, &amqpErr) && amqpErr.Code == amqp.NotAllowed:
		return fmt.Sprintf("the broker refused access to the virtual host %q: check that it exists and that the user may use it", vhost)
	case errors.As(err, &certErr):
		return "the broker's certificate is not trusted: give the CA that signed it (cacertfile= in " + AMQPURLFlag + ")"
	case errors.As(err, &recordErr):
		return "the port does not speak TLS: use amqp://, or the broker's TLS port"
	}
	return "check that RabbitMQ runs and " + AMQPURLFlag + " is right"
}
