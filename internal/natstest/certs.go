package natstest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// TLSFiles are PEM files: the CA both sides trust and one side's cert and
// key.
type TLSFiles struct {
	CAFile   string
	CertFile string
	KeyFile  string
}

// serverTLS is the servers' side of Options.TLS.
type serverTLS = TLSFiles

// makeCerts writes a CA, a server cert (127.0.0.1, localhost) and a client
// cert into dir.
func makeCerts(dir string) (client TLSFiles, server serverTLS, err error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return client, server, fmt.Errorf("natstest: %w", err)
	}
	ca, caKey, err := newCert(nil, nil, &x509.Certificate{Subject: pkix.Name{CommonName: "natstest CA"}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature})
	if err != nil {
		return client, server, err
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := writePEM(caFile, "CERTIFICATE", ca.Raw); err != nil {
		return client, server, err
	}
	server, err = leaf(dir, "server", ca, caKey, &x509.Certificate{Subject: pkix.Name{CommonName: "natstest server"},
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}})
	if err != nil {
		return client, server, err
	}
	client, err = leaf(dir, "client", ca, caKey, &x509.Certificate{Subject: pkix.Name{CommonName: "natstest client"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	server.CAFile, client.CAFile = caFile, caFile
	return client, server, err
}

func leaf(dir, name string, ca *x509.Certificate, caKey *ecdsa.PrivateKey, tmpl *x509.Certificate) (TLSFiles, error) {
	tmpl.KeyUsage = x509.KeyUsageDigitalSignature
	cert, key, err := newCert(ca, caKey, tmpl)
	if err != nil {
		return TLSFiles{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return TLSFiles{}, fmt.Errorf("natstest: %w", err)
	}
	f := TLSFiles{CertFile: filepath.Join(dir, name+".crt"), KeyFile: filepath.Join(dir, name+".key")}
	if err := writePEM(f.CertFile, "CERTIFICATE", cert.Raw); err != nil {
		return TLSFiles{}, err
	}
	return f, writePEM(f.KeyFile, "PRIVATE KEY", der)
}

// newCert signs tmpl with parent (self-signed when parent is nil).
func newCert(parent *x509.Certificate, parentKey *ecdsa.PrivateKey, tmpl *x509.Certificate) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("natstest: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, fmt.Errorf("natstest: %w", err)
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		return nil, nil, fmt.Errorf("natstest: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("natstest: %w", err)
	}
	return cert, key, nil
}

func writePEM(path, typ string, der []byte) error {
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		return fmt.Errorf("natstest: %w", err)
	}
	return nil
}
