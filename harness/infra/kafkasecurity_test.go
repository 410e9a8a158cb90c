package infra_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/cqrsbench/cqrsbench/harness/infra"
	"github.com/cqrsbench/cqrsbench/harness/infra/infratest"
	"github.com/cqrsbench/cqrsbench/harness/infra/kafkalocal"
	"github.com/cqrsbench/cqrsbench/harness/services"
)

func TestKafkaSecurityValidate(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name string
		sec  infra.KafkaSecurity
		want string // "" for valid; else a part of the message
	}{
		{"zero value", infra.KafkaSecurity{}, ""},
		{"tls only", infra.KafkaSecurity{TLS: true}, ""},
		{"scram", infra.KafkaSecurity{SASL: "scram-sha-512", User: "u", Password: "p"}, ""},
		{"unknown mechanism", infra.KafkaSecurity{SASL: "gssapi", User: "u", Password: "p"}, `unknown mechanism "gssapi"`},
		{"no user", infra.KafkaSecurity{SASL: "plain", Password: "p"}, "needs a user name"},
		{"no password", infra.KafkaSecurity{SASL: "plain", User: "u"}, infra.KafkaPasswordEnv},
		{"user without mechanism", infra.KafkaSecurity{User: "u"}, "no mechanism"},
		{"cert without key", infra.KafkaSecurity{CertFile: "c.pem"}, "both the certificate and its key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.sec.Validate()
			switch {
			case c.want == "" && err != nil:
				t.Fatalf("Validate() = %v, want nil", err)
			case c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want) || exitCodeOf(err) != 2):
				t.Fatalf("Validate() = %v (exit %d), want a usage error containing %q", err, exitCodeOf(err), c.want)
			}
		})
	}
	cfg := infra.Config{Provider: "local", KafkaSecurity: infra.KafkaSecurity{TLS: true}}
	if err := cfg.Validate(); exitCodeOf(err) != 2 || !strings.Contains(err.Error(), "only used with --infra external") {
		t.Errorf("TLS with the local provider: %v, want a usage error", err)
	}
}

func TestKafkaSecurityStringNeverShowsThePassword(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		sec  infra.KafkaSecurity
		want string
	}{
		{infra.KafkaSecurity{}, "PLAINTEXT"},
		{infra.KafkaSecurity{CAFile: "ca.pem"}, "SSL"},
		{infra.KafkaSecurity{SASL: "plain", User: "bench", Password: "hunter2"}, "SASL_PLAINTEXT PLAIN user bench"},
		{infra.KafkaSecurity{TLS: true, SASL: "scram-sha-512", User: "bench", Password: "hunter2"}, "SASL_SSL SCRAM-SHA-512 user bench"},
		{infra.KafkaSecurity{CertFile: "c.pem", KeyFile: "k.pem"}, "SSL client certificate"},
	} {
		if got := c.sec.String(); got != c.want {
			t.Errorf("%+v.String() = %q, want %q", c.sec, got, c.want)
		}
	}
}

func TestKafkaSecurityBadFilesAreUsageErrors(t *testing.T) {
	t.Parallel()
	missing := infra.KafkaSecurity{CAFile: t.TempDir() + "/nope.pem"}
	if _, err := missing.ClientOptions(); exitCodeOf(err) != 2 || !strings.Contains(err.Error(), "--kafka-ca") {
		t.Errorf("missing CA file: %v, want a --kafka-ca usage error", err)
	}
	cert := infratest.SelfSignedCert(t)
	notPEM := infra.KafkaSecurity{CAFile: cert.CAFile + ".bad"}
	writeFile(t, notPEM.CAFile, "not a certificate")
	if _, err := notPEM.ClientOptions(); exitCodeOf(err) != 2 || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("CA file without PEM: %v, want a --kafka-ca usage error", err)
	}
}

// TestExternalKafkaOverTLSAndSASL runs the external provider against a real
// broker whose client listener requires TLS and SASL, with each mechanism,
// and checks that a wrong password and an untrusted certificate are
// unavailable errors that say what to fix.
func TestExternalKafkaOverTLSAndSASL(t *testing.T) {
	t.Parallel()
	if _, err := kafkalocal.FindDistribution(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	pg := startPostgres(t)
	cert := infratest.SelfSignedCert(t)
	ctx := t.Context()
	broker, err := kafkalocal.Start(ctx, kafkalocal.Options{HeapMB: 512, Secure: &kafkalocal.SecureListener{
		CertPEM: cert.CertPEM, KeyPEM: cert.KeyPEM, Users: map[string]string{"bench": "s3cret-pw"},
	}})
	if err != nil {
		t.Fatalf("start broker with a secure listener: %v", err)
	}
	t.Cleanup(func() { _ = broker.Close(context.Background()) })
	open := func(sec infra.KafkaSecurity) (infra.Infra, error) {
		return infra.Open(ctx, infra.Config{Provider: "external", PostgresDSN: pg.DSN(), KafkaBrokers: broker.SecureBrokers(), KafkaSecurity: sec})
	}

	for _, mechanism := range []string{infra.SASLPlain, infra.SASLScramSHA256, infra.SASLScramSHA512} {
		t.Run(mechanism, func(t *testing.T) {
			env, err := open(infra.KafkaSecurity{CAFile: cert.CAFile, SASL: mechanism, User: "bench", Password: "s3cret-pw"})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer env.Close(ctx)
			kafka, _ := env.Describe().Find(services.RoleKafka)
			if want := "SASL_SSL " + strings.ToUpper(mechanism) + " user bench"; kafka.Security != want {
				t.Errorf("Describe() Kafka = %+v, want security %q", kafka, want)
			}
			roundTrip(t, env, "secure-"+mechanism)
		})
	}

	_, err = open(infra.KafkaSecurity{CAFile: cert.CAFile, SASL: infra.SASLScramSHA512, User: "bench", Password: "wrong"})
	t.Logf("wrong password: %v", err)
	if exitCodeOf(err) != 3 || !strings.Contains(err.Error(), "refused the credentials") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("wrong password: %v (exit %d), want an unavailable error about the credentials, without the password", err, exitCodeOf(err))
	}
	_, err = open(infra.KafkaSecurity{TLS: true, SASL: infra.SASLScramSHA512, User: "bench", Password: "s3cret-pw"})
	t.Logf("untrusted certificate: %v", err)
	if exitCodeOf(err) != 3 || !strings.Contains(err.Error(), "--kafka-ca") {
		t.Errorf("untrusted certificate: %v (exit %d), want an unavailable error suggesting --kafka-ca", err, exitCodeOf(err))
	}
}

// TestExternalKafkaWithClientCertificate runs the external provider
// against a listener that requires a client certificate (mutual TLS) as
// well as SASL: with --kafka-cert/--kafka-key it connects; without, the
// broker turns it away.
func TestExternalKafkaWithClientCertificate(t *testing.T) {
	t.Parallel()
	if _, err := kafkalocal.FindDistribution(""); err != nil {
		infratest.Missing(t, "%v", err)
	}
	pg := startPostgres(t)
	server, client := infratest.SelfSignedCert(t), infratest.SelfSignedCert(t)
	ctx := t.Context()
	broker, err := kafkalocal.Start(ctx, kafkalocal.Options{HeapMB: 512, Secure: &kafkalocal.SecureListener{
		CertPEM: server.CertPEM, KeyPEM: server.KeyPEM, ClientCAPEM: client.CertPEM, Users: map[string]string{"bench": "pw"},
	}})
	if err != nil {
		t.Fatalf("start broker with a mutual-TLS listener: %v", err)
	}
	t.Cleanup(func() { _ = broker.Close(context.Background()) })
	sec := infra.KafkaSecurity{CAFile: server.CAFile, SASL: infra.SASLPlain, User: "bench", Password: "pw"}
	cfg := infra.Config{Provider: "external", PostgresDSN: pg.DSN(), KafkaBrokers: broker.SecureBrokers()}

	cfg.KafkaSecurity = sec
	if _, err := infra.Open(ctx, cfg); exitCodeOf(err) != 3 || !strings.Contains(err.Error(), "--kafka-cert") {
		t.Errorf("without a client certificate: %v (exit %d), want unavailable, suggesting --kafka-cert", err, exitCodeOf(err))
	}
	sec.CertFile, sec.KeyFile = client.CAFile, client.KeyFile
	cfg.KafkaSecurity = sec
	env, err := infra.Open(ctx, cfg)
	if err != nil {
		t.Fatalf("with a client certificate: %v", err)
	}
	defer env.Close(ctx)
	if kafka, _ := env.Describe().Find(services.RoleKafka); kafka.Security != "SASL_SSL PLAIN user bench client certificate" {
		t.Errorf("Describe() Kafka = %+v, want security \"SASL_SSL PLAIN user bench client certificate\"", kafka)
	}
	roundTrip(t, env, "mutual-tls")
}

// roundTrip produces a record through env's brokers with its client options
// and consumes it back.
func roundTrip(t *testing.T, env infra.Infra, topic string) {
	t.Helper()
	opts := append([]kgo.Opt{kgo.SeedBrokers(env.KafkaBrokers()...), kgo.AllowAutoTopicCreation(),
		kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart())}, env.KafkaOptions()...)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("over TLS")}).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
	fetches := cl.PollFetches(ctx)
	if err := fetches.Err0(); err != nil {
		t.Fatalf("consume: %v", err)
	}
	if recs := fetches.Records(); len(recs) != 1 || string(recs[0].Value) != "over TLS" {
		t.Fatalf("consumed %d records, want the one produced", len(recs))
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
