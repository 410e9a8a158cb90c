package rabbitmq_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/cqrsbench/cqrsbench/reference/pipeline/rabbitmq"
)

// Environment variables that give the TLS test the same broker's TLS
// listener.
const (
	// tlsURLEnv is an amqps:// URL of the broker of urlEnv.
	tlsURLEnv = "CQRSBENCH_AMQPS_URL"
	// tlsCAEnv is a PEM file holding the CA that signed its certificate.
	tlsCAEnv = "CQRSBENCH_AMQPS_CA_FILE"
)

func TestTLS(t *testing.T) {
	t.Parallel()
	cfg := testConfig(t)
	url, caFile := os.Getenv(tlsURLEnv), os.Getenv(tlsCAEnv)
	if url == "" || caFile == "" {
		t.Skipf("set %s and %s to test amqps://", tlsURLEnv, tlsCAEnv)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatalf("no certificate in %s", caFile)
	}
	cfg.URL = url

	// Without the CA, the broker's certificate is refused.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := rabbitmq.NewPublisher(ctx, cfg); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("NewPublisher without the CA = %v, want a certificate error", err)
	}

	cfg.TLS = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	const n = 500
	publishAll(t, newPublisher(t, cfg), msgs(n), 100, 1)
	rec := newRecorder()
	c := startConsumer(t, cfg, func(_ context.Context, batch []rabbitmq.Delivery) ([]int, error) {
		rec.accept(batch, nil)
		return nil, nil
	})
	rec.waitDistinct(t, n, time.Minute)
	closeConsumer(t, c)
	rec.check(t, n, nil, 0)
}
