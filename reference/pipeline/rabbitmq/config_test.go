package rabbitmq_test

import (
	"crypto/tls"
	"strings"
	"testing"

	"github.com/cqrsbench/cqrsbench/reference/pipeline/rabbitmq"
)

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c := rabbitmq.Config{URL: "amqp://guest:guest@127.0.0.1:5672/"}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	d := c.WithDefaults()
	if d.Queue != rabbitmq.DefaultQueue || d.DeadLetterExchange != rabbitmq.DefaultDeadLetterExchange ||
		d.DeadLetterQueue != rabbitmq.DefaultDeadLetterQueue || d.Workers != rabbitmq.DefaultWorkers ||
		d.Prefetch != rabbitmq.DefaultPrefetch || d.MaxBatch != rabbitmq.DefaultPrefetch ||
		d.ConfirmTimeout != rabbitmq.DefaultConfirmTimeout || d.MaxReconnectDelay != rabbitmq.DefaultMaxReconnectDelay ||
		d.Exchange != "" {
		t.Errorf("defaults: %+v", d)
	}
	if d := (rabbitmq.Config{Prefetch: 10}).WithDefaults(); d.MaxBatch != 10 {
		t.Errorf("MaxBatch defaults to %d with Prefetch 10, want 10", d.MaxBatch)
	}
	tlsOK := rabbitmq.Config{URL: "amqps://u:p@broker:5671/v", TLS: &tls.Config{ServerName: "broker"}}
	if err := tlsOK.Validate(); err != nil {
		t.Errorf("amqps with TLS: %v", err)
	}
}

func TestConfigValidateNamesTheField(t *testing.T) {
	t.Parallel()
	const url = "amqp://guest:guest@127.0.0.1:5672/"
	for _, tc := range []struct {
		cfg  rabbitmq.Config
		want string
	}{
		{rabbitmq.Config{}, "URL is empty"},
		{rabbitmq.Config{URL: "http://secret@host/"}, "URL is not an AMQP URI"},
		{rabbitmq.Config{URL: url, TLS: &tls.Config{}}, "use amqps://"},
		{rabbitmq.Config{URL: url, Workers: -1}, "workers must be 1 to 1024"},
		{rabbitmq.Config{URL: url, Prefetch: -1}, "prefetch must be 1 to 65535"},
		{rabbitmq.Config{URL: url, Prefetch: 70000}, "prefetch must be 1 to 65535"},
		{rabbitmq.Config{URL: url, Prefetch: 10, MaxBatch: 11}, "max batch must be 1 to the prefetch 10"},
		{rabbitmq.Config{URL: url, MaxBatch: -1}, "max batch"},
		{rabbitmq.Config{URL: url, ConfirmTimeout: -1}, "confirm timeout must be > 0"},
		{rabbitmq.Config{URL: url, MaxReconnectDelay: -1}, "max reconnect delay must be > 0"},
		{rabbitmq.Config{URL: url, Queue: "amq.x"}, "queue: name \"amq.x\" starts with amq."},
		{rabbitmq.Config{URL: url, Queue: strings.Repeat("q", 256)}, "queue: name is 256 bytes"},
		{rabbitmq.Config{URL: url, Queue: "q", DeadLetterQueue: "q"}, "dead-letter queue must differ"},
		{rabbitmq.Config{URL: url, Exchange: "x", DeadLetterExchange: "x"}, "dead-letter exchange must differ"},
	} {
		err := tc.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Validate(%+v) = %v, want an error containing %q", tc.cfg, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("Validate's error shows the URL's credentials: %v", err)
		}
	}
}
