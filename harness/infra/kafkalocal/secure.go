package kafkalocal

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// SecureListener is a client listener that requires TLS and SASL
// (security protocol SASL_SSL), like the listeners of managed Kafka
// services. It exists so that cqrsbench's TLS and SASL client options can be
// tested against a real broker.
type SecureListener struct {
	// CertPEM is the listener's certificate chain, PEM-encoded; clients must
	// trust its issuer and it must name 127.0.0.1.
	CertPEM string
	// KeyPEM is the certificate's private key, unencrypted PKCS#8 PEM
	// ("BEGIN PRIVATE KEY").
	KeyPEM string
	// ClientCAPEM, when set, makes the listener require a client
	// certificate signed by one of these PEM authorities (mutual TLS), on
	// top of SASL.
	ClientCAPEM string
	// Users are the SASL accounts (name → password), accepted with
	// PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512. Names and passwords must not
	// hold '"', ',', '=', '[' or ']'.
	Users map[string]string
}

// secureListenerName is the listener's name in the broker's configuration.
const secureListenerName = "SASL_SSL"

// scramMechanisms are the SCRAM mechanisms every user is created for.
func scramMechanisms() []string { return []string{"SCRAM-SHA-256", "SCRAM-SHA-512"} }

// configure adds the listener on addr to a broker's properties.
func (s *SecureListener) configure(props map[string]string, addr string) {
	listener := secureListenerName + "://" + addr
	props["listeners"] += "," + listener
	props["advertised.listeners"] += "," + listener
	props["listener.security.protocol.map"] += "," + secureListenerName + ":SASL_SSL"
	prefix := "listener.name." + strings.ToLower(secureListenerName) + "."
	props[prefix+"sasl.enabled.mechanisms"] = "PLAIN," + strings.Join(scramMechanisms(), ",")
	var plain strings.Builder
	plain.WriteString("org.apache.kafka.common.security.plain.PlainLoginModule required")
	for _, user := range slices.Sorted(maps.Keys(s.Users)) {
		fmt.Fprintf(&plain, " user_%s=%q", user, s.Users[user])
	}
	props[prefix+"plain.sasl.jaas.config"] = plain.String() + ";"
	for _, m := range scramMechanisms() {
		props[prefix+strings.ToLower(m)+".sasl.jaas.config"] = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
	}
	props[prefix+"ssl.keystore.type"] = "PEM"
	props[prefix+"ssl.keystore.certificate.chain"] = s.CertPEM
	props[prefix+"ssl.keystore.key"] = s.KeyPEM
	if s.ClientCAPEM != "" {
		props[prefix+"ssl.client.auth"] = "required"
		props[prefix+"ssl.truststore.type"] = "PEM"
		props[prefix+"ssl.truststore.certificates"] = s.ClientCAPEM
	}
}

// scramArgs returns the StorageTool format arguments that create every user's
// SCRAM credentials in the new cluster's metadata.
func (s *SecureListener) scramArgs() []string {
	var args []string
	for _, user := range slices.Sorted(maps.Keys(s.Users)) {
		for _, m := range scramMechanisms() {
			args = append(args, "--add-scram", fmt.Sprintf("%s=[name=%s,password=%s]", m, user, s.Users[user]))
		}
	}
	return args
}
