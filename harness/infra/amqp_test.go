package infra_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/cqrsbench/cqrsbench/harness/infra"
	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/rabbitlocal"
)

func TestParseAMQPURL(t *testing.T) {
	t.Parallel()
	good := []struct {
		url, host, vhost string
		port             int
	}{
		{"amqp://user:s3cret@127.0.0.1:5672/", "127.0.0.1", "/", 5672},
		{"amqp://127.0.0.1", "127.0.0.1", "/", 5672},
		{"amqps://user:s3cret@broker.example:5671/orders", "broker.example", "orders", 5671},
		{"amqps://broker.example/", "broker.example", "/", 5671},
		{"AMQP://broker.example", "broker.example", "/", 5672},
		{"amqp://user:s3cret@[::1]:5673/%2F", "::1", "/", 5673},
		{"amqp://u:p%40ss@h:1/v?heartbeat=10", "h", "v", 1},
	}
	for _, c := range good {
		uri, err := infra.ParseAMQPURL(c.url)
		if err != nil {
			t.Errorf("ParseAMQPURL(%q): %v", c.url, err)
			continue
		}
		if uri.Host != c.host || uri.Port != c.port || uri.Vhost != c.vhost {
			t.Errorf("ParseAMQPURL(%q) = host %q port %d vhost %q, want %q %d %q", c.url, uri.Host, uri.Port, uri.Vhost, c.host, c.port, c.vhost)
		}
	}
	bad := []struct{ url, says string }{
		{"", "is empty"},
		{"  ", "is empty"},
		{"amqp://user:s3cret@127.0.0.1:5672/ x", "white space"},
		{"http://user:s3cret@127.0.0.1:5672/", "does not start with amqp:// or amqps://"},
		{"127.0.0.1:5672", "does not start with amqp://"},
		{"amqp:user:s3cret@127.0.0.1", "does not start with amqp://"},
		{"amqp://user:s3cret@:5672/", "no host"},
		{"amqp://user:s3cret@127.0.0.1:notaport/", "not a URL"},
		{"amqp://user:s3cret@127.0.0.1:70000/", "1 to 65535"},
		{"amqp://user:s3cret@127.0.0.1:5672/a/b", "more than one path segment"},
		{"amqp://user:s3cret@127.0.0.1:5672/?heartbeat=x", "heartbeat"},
		{"amqp://user:s3cr%t@127.0.0.1/", "percent-encode"},
	}
	for _, c := range bad {
		_, err := infra.ParseAMQPURL(c.url)
		if err == nil {
			t.Errorf("ParseAMQPURL(%q) accepted it", c.url)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.says) || !strings.Contains(msg, "--amqp-url") || !strings.Contains(msg, "example: amqp://user:pass@127.0.0.1:5672/") {
			t.Errorf("ParseAMQPURL(%q) = %q, want it to say %q, name --amqp-url and give the example", c.url, msg, c.says)
		}
		if strings.Contains(msg, "s3cr") {
			t.Errorf("ParseAMQPURL(%q) shows the password: %q", c.url, msg)
		}
		if exitCodeOf(err) != 2 {
			t.Errorf("ParseAMQPURL(%q): exit code %d, want 2", c.url, exitCodeOf(err))
		}
	}
}

func TestRedactAMQPURL(t *testing.T) {
	t.Parallel()
	if got := infra.RedactAMQPURL("amqp://user:s3cret@h:5672/v"); got != "amqp://user:xxxxx@h:5672/v" {
		t.Errorf("RedactAMQPURL = %q", got)
	}
	if got := infra.RedactAMQPURL("amqp://user:s3cr%t@h/"); strings.Contains(got, "s3cr") {
		t.Errorf("RedactAMQPURL of an unparsable URL = %q, shows the password", got)
	}
}

func TestPingAMQPClosedPortIsUnavailable(t *testing.T) {
	t.Parallel()
	_, err := infra.PingAMQP(t.Context(), "amqp://user:s3cret@"+closedPort(t)+"/", nil)
	var u *infra.UnavailableError
	if !errors.As(err, &u) || exitCodeOf(err) != 3 || !strings.Contains(u.Fix, "check that RabbitMQ runs and --amqp-url is right") {
		t.Fatalf("PingAMQP of a closed port: %v (exit %d), want unavailable, fix: check that RabbitMQ runs", err, exitCodeOf(err))
	}
	if strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error shows the password: %v", err)
	}
	_, err = infra.PingAMQP(t.Context(), "amqp://"+closedPort(t)+"/", &tls.Config{})
	if exitCodeOf(err) != 2 {
		t.Errorf("PingAMQP of amqp:// with a TLS config: %v, want a usage error", err)
	}
}

func TestPingAMQPTellsRefusedCredentialsAndVhostApart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a RabbitMQ node; skipped in -short mode")
	}
	if _, err := rabbitlocal.FindBinaries(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	n, err := rabbitlocal.Start(t.Context(), rabbitlocal.Options{})
	if err != nil {
		t.Fatalf("start RabbitMQ node: %v", err)
	}
	t.Cleanup(func() { _ = n.Close(context.Background()) })

	version, err := infra.PingAMQP(t.Context(), n.URL(), nil)
	if err != nil || version != n.Version() {
		t.Fatalf("PingAMQP of the node = %q, %v; want %q", version, err, n.Version())
	}
	u, _ := url.Parse(n.URL())
	for _, c := range []struct {
		what, url, fix string
	}{
		{"a wrong password", "amqp://" + rabbitlocal.DefaultUser + ":wr0ngpass@" + n.Addr() + "/", "the broker refused the credentials"},
		{"an unknown user", "amqp://nobody:wr0ngpass@" + n.Addr() + "/", "the broker refused the credentials"},
		{"an unknown vhost", (&url.URL{Scheme: "amqp", User: u.User, Host: n.Addr(), Path: "/no-such-vhost"}).String(), `virtual host "no-such-vhost"`},
	} {
		_, err := infra.PingAMQP(t.Context(), c.url, nil)
		var ue *infra.UnavailableError
		if !errors.As(err, &ue) || !strings.Contains(ue.Fix, c.fix) {
			t.Errorf("PingAMQP with %s: %v, want unavailable with fix %q", c.what, err, c.fix)
			continue
		}
		password, _ := u.User.Password()
		if strings.Contains(err.Error(), "wr0ngpass") || strings.Contains(err.Error(), password) {
			t.Errorf("PingAMQP with %s shows a password: %v", c.what, err)
		}
	}
}
