package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
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

// localCA is the benchmark's own CA, outside Tollgate: it issues the
// server cert of the rows that are not Tollgate's (the Go copy relay and
// pgbouncer share one) and the client cert those rows and the direct row
// present to PostgreSQL (CN = the bench role; PostgreSQL trusts this CA
// besides the clusters' db_client CAs). Control issues db_client certs to
// agents only, so the direct row cannot get one through the CLI.
type localCA struct {
	cert   *x509.Certificate
	key    *ecdsa.PrivateKey
	caFile string
	serial int64
}

// pemPair is a cert and key on disk, and the pair loaded.
type pemPair struct {
	certFile, keyFile string
	certPEM, keyPEM   []byte
}

func newLocalCA(dir string) (*localCA, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tollbench local CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create local CA: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	ca := &localCA{cert: cert, key: key, caFile: filepath.Join(dir, "local-ca.crt"), serial: 1}
	return ca, writeFile(ca.caFile, string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})))
}

// issue writes name.crt and name.key in dir: a server cert for 127.0.0.1
// or, when client, a client cert with common name cn.
func (ca *localCA) issue(dir, name, cn string, client bool) (pemPair, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return pemPair{}, err
	}
	ca.serial++
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(ca.serial), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	if client {
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	} else {
		tmpl.IPAddresses = []net.IP{net.IPv4(127, 0, 0, 1)}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return pemPair{}, fmt.Errorf("issue %s: %w", name, err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return pemPair{}, err
	}
	p := pemPair{certFile: filepath.Join(dir, name+".crt"), keyFile: filepath.Join(dir, name+".key"),
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})}
	if err := writeFile(p.certFile, string(p.certPEM)); err != nil {
		return pemPair{}, err
	}
	return p, writeFile(p.keyFile, string(p.keyPEM))
}

func (p pemPair) tls() (tls.Certificate, error) { return tls.X509KeyPair(p.certPEM, p.keyPEM) }

// clientTLS is a TLS client config presenting p and trusting the CA
// bundle in caFile.
func clientTLS(p pemPair, caFile string) (*tls.Config, error) {
	cert, err := p.tls()
	if err != nil {
		return nil, err
	}
	ca, err := os.ReadFile(caFile)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("no CA cert in %s", caFile)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, ServerName: "127.0.0.1"}, nil
}

func writeFile(path, data string) error { return os.WriteFile(path, []byte(data), 0o600) }
