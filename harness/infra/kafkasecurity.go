package infra

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// SASL mechanisms accepted in KafkaSecurity.SASL.
const (
	SASLPlain       = "plain"
	SASLScramSHA256 = "scram-sha-256"
	SASLScramSHA512 = "scram-sha-512"
)

// saslMechanisms lists the accepted SASL mechanism names.
func saslMechanisms() []string { return []string{SASLPlain, SASLScramSHA256, SASLScramSHA512} }

// KafkaPasswordEnv is the environment variable the command line reads the
// SASL password from: a flag would show it in the process list.
const KafkaPasswordEnv = "CQRSBENCH_KAFKA_PASSWORD"

// KafkaSecurity is how cqrsbench connects to an external Kafka cluster
// that requires TLS, SASL or both, as managed services do. The zero value
// is a plaintext connection without authentication.
type KafkaSecurity struct {
	// TLS encrypts every connection, verifying the brokers against the
	// system's roots, or CAFile's.
	TLS bool
	// CAFile is a PEM bundle of the authorities that sign the brokers'
	// certificates; it implies TLS.
	CAFile string
	// CertFile and KeyFile are a PEM client certificate and key, for
	// brokers that authenticate clients by TLS (mutual TLS); they imply
	// TLS and go together.
	CertFile, KeyFile string
	// SASL is the authentication mechanism: "" (none), plain, scram-sha-256
	// or scram-sha-512. PLAIN sends the password itself: use it with TLS.
	SASL string
	// User and Password are the SASL credentials.
	User, Password string
}

// Enabled reports whether any TLS or SASL setting is made.
func (s KafkaSecurity) Enabled() bool {
	return s.usesTLS() || s.SASL != "" || s.User != "" || s.Password != ""
}

func (s KafkaSecurity) usesTLS() bool {
	return s.TLS || s.CAFile != "" || s.CertFile != "" || s.KeyFile != ""
}

// Validate checks the settings without reading any file.
func (s KafkaSecurity) Validate() error {
	switch {
	case s.SASL != "" && !slices.Contains(saslMechanisms(), s.SASL):
		return &ConfigError{"--kafka-sasl", fmt.Sprintf("unknown mechanism %q; use one of %s", s.SASL, strings.Join(saslMechanisms(), ", "))}
	case s.SASL != "" && s.User == "":
		return &ConfigError{"--kafka-user", "--kafka-sasl " + s.SASL + " needs a user name"}
	case s.SASL != "" && s.Password == "":
		return &ConfigError{"--kafka-sasl", "needs the password in $" + KafkaPasswordEnv}
	case s.SASL == "" && (s.User != "" || s.Password != ""):
		return &ConfigError{"--kafka-sasl", "a user or password is given but no mechanism; pass --kafka-sasl " + strings.Join(saslMechanisms(), "|")}
	case (s.CertFile == "") != (s.KeyFile == ""):
		return &ConfigError{"--kafka-cert/--kafka-key", "a client certificate needs both the certificate and its key"}
	}
	return nil
}

// String describes the settings for results and messages: the security
// protocol, mechanism and user, never the password.
func (s KafkaSecurity) String() string {
	protocol := "PLAINTEXT"
	switch {
	case s.usesTLS() && s.SASL != "":
		protocol = "SASL_SSL"
	case s.usesTLS():
		protocol = "SSL"
	case s.SASL != "":
		protocol = "SASL_PLAINTEXT"
	}
	var parts []string
	parts = append(parts, protocol)
	if s.SASL != "" {
		parts = append(parts, strings.ToUpper(s.SASL), "user "+s.User)
	}
	if s.CertFile != "" {
		parts = append(parts, "client certificate")
	}
	return strings.Join(parts, " ")
}

// ClientOptions returns the franz-go options that apply the settings,
// reading the certificate files; nil for the zero value. A file that
// cannot be read or parsed is a ConfigError naming its flag.
func (s KafkaSecurity) ClientOptions() ([]kgo.Opt, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	var opts []kgo.Opt
	if s.usesTLS() {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if s.CAFile != "" {
			pem, err := os.ReadFile(s.CAFile)
			if err != nil {
				return nil, &ConfigError{"--kafka-ca", fmt.Sprintf("cannot read the CA bundle: %v", err)}
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return nil, &ConfigError{"--kafka-ca", fmt.Sprintf("%s holds no PEM certificate", s.CAFile)}
			}
		}
		if s.CertFile != "" {
			cert, err := tls.LoadX509KeyPair(s.CertFile, s.KeyFile)
			if err != nil {
				return nil, &ConfigError{"--kafka-cert/--kafka-key", fmt.Sprintf("cannot load the client certificate: %v", err)}
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	if m := s.mechanism(); m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

// mechanism returns the SASL mechanism, nil without one.
func (s KafkaSecurity) mechanism() sasl.Mechanism {
	switch s.SASL {
	case SASLPlain:
		return plain.Auth{User: s.User, Pass: s.Password}.AsMechanism()
	case SASLScramSHA256:
		return scram.Auth{User: s.User, Pass: s.Password}.AsSha256Mechanism()
	case SASLScramSHA512:
		return scram.Auth{User: s.User, Pass: s.Password}.AsSha512Mechanism()
	}
	return nil
}
