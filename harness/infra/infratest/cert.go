package infratest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// Certificate is a self-signed TLS certificate for 127.0.0.1, valid for a
// day, usable by a server and by a client, with its key; the certificate is
// its own CA.
type Certificate struct {
	// CertPEM is the certificate, PEM-encoded.
	CertPEM string
	// KeyPEM is the RSA private key, unencrypted PKCS#8 PEM, the form Java
	// PEM key stores read.
	KeyPEM string
	// CAFile is a file holding CertPEM, for clients to trust; it doubles
	// as the certificate file of a client presenting it.
	CAFile string
	// KeyFile is a file holding KeyPEM.
	KeyFile string
}

// SelfSignedCert makes a Certificate in a temporary directory of t.
func SelfSignedCert(t testing.TB) Certificate {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatalf("generate key: %v", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(now.UnixNano()),
		Subject:               pkix.Name{CommonName: "cqrsbench test broker"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatalf("create certificate: %v", err)
	}
	pkcs8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatalf("marshal key: %v", err)
	}
	dir := t.TempDir()
	c := Certificate{
		CertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		KeyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8})),
		CAFile:  filepath.Join(dir, "cert.pem"),
		KeyFile: filepath.Join(dir, "key.pem"),
	}
	for path, content := range map[string]string{c.CAFile: c.CertPEM, c.KeyFile: c.KeyPEM} {
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatalf("write %s: %v", path, err)
		}
	}
	return c
}
