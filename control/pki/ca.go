package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/tollgate-db/tollgate/schemas"
)

// Key algorithms (schemas' names).
const (
	AlgECDSAP256 = schemas.KeyAlgECDSAP256
	AlgRSA2048   = schemas.KeyAlgRSA2048
)

// ErrInvalid is wrapped by errors about bad arguments.
var ErrInvalid = errors.New("invalid certificate request")

// GenerateKey makes a fresh key: ECDSA P-256 for "" or "ECDSA-P256",
// RSA-2048 for "RSA-2048" (case-insensitive).
func GenerateKey(alg string) (crypto.Signer, error) {
	switch strings.ToUpper(alg) {
	case "", AlgECDSAP256:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case AlgRSA2048:
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return nil, fmt.Errorf("%w: key algorithm %q: use %s or %s", ErrInvalid, alg, AlgECDSAP256, AlgRSA2048)
}

// NormalizeAlg returns the canonical name of alg ("" → ECDSA-P256).
func NormalizeAlg(alg string) (string, error) {
	switch strings.ToUpper(alg) {
	case "", AlgECDSAP256:
		return AlgECDSAP256, nil
	case AlgRSA2048:
		return AlgRSA2048, nil
	}
	return "", fmt.Errorf("%w: key algorithm %q: use %s or %s", ErrInvalid, alg, AlgECDSAP256, AlgRSA2048)
}

func serialNumber() (*big.Int, error) {
	for {
		n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
		if err != nil {
			return nil, fmt.Errorf("random serial: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

func validKind(kind string) bool {
	switch kind {
	case schemas.CAUser, schemas.CAHost, schemas.CADB, schemas.CADBClient:
		return true
	}
	return false
}

// NewCA makes a self-signed CA of kind (schemas.CAUser, CAHost, CADB or
// CADBClient) for clusterName, valid from now (minus a minute of skew) for
// ttl. The subject is CN "Tollgate <kind> CA", O clusterName, OU kind; a
// CA without a cluster name is refused, so every CA (first or rotated)
// names its cluster.
func NewCA(kind, alg, clusterName string, now time.Time, ttl time.Duration) (certPEM []byte, key crypto.Signer, err error) {
	if !validKind(kind) {
		return nil, nil, fmt.Errorf("%w: CA kind %q: use user, host, db or db_client", ErrInvalid, kind)
	}
	if clusterName == "" {
		return nil, nil, fmt.Errorf("%w: a CA needs the cluster name (its subject's O)", ErrInvalid)
	}
	if ttl <= 0 {
		return nil, nil, fmt.Errorf("%w: CA ttl must be positive", ErrInvalid)
	}
	if key, err = GenerateKey(alg); err != nil {
		return nil, nil, err
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject: pkix.Name{CommonName: "Tollgate " + kind + " CA", Organization: []string{clusterName},
			OrganizationalUnit: []string{kind}},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(ttl),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("self-sign %s CA: %w", kind, err)
	}
	return EncodeCertPEM(der), key, nil
}

// CAKind returns the kind NewCA recorded in a CA cert's OU ("" if none).
func CAKind(cert *x509.Certificate) string {
	for _, ou := range cert.Subject.OrganizationalUnit {
		if validKind(ou) {
			return ou
		}
	}
	return ""
}

// Pin returns "sha256:" + hex(SHA-256(SubjectPublicKeyInfo DER)) of the
// first cert in certPEM.
func Pin(certPEM []byte) (string, error) {
	c, err := ParseCertPEM(certPEM)
	if err != nil {
		return "", err
	}
	return PinCert(c), nil
}

// PinCert is Pin for a parsed cert.
func PinCert(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// EncodeCertPEM wraps DER as a CERTIFICATE PEM block.
func EncodeCertPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// ParseCertPEM parses the first CERTIFICATE block of p.
func ParseCertPEM(p []byte) (*x509.Certificate, error) {
	certs, err := ParseCertsPEM(p)
	if err != nil {
		return nil, err
	}
	return certs[0], nil
}

// ParseCertsPEM parses every CERTIFICATE block of p (at least one);
// other block types are skipped.
func ParseCertsPEM(p []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := p
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse certificate: %w", err)
		}
		out = append(out, c)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM certificate found")
	}
	return out, nil
}

// EncodeKeyPEM encodes key as a PKCS#8 "PRIVATE KEY" PEM block.
func EncodeKeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// ParseKeyPEM parses a PKCS#8, SEC 1 (EC) or PKCS#1 (RSA) private key PEM.
// Its errors never contain key material.
func ParseKeyPEM(p []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(p)
	if block == nil {
		return nil, errors.New("no PEM private key found")
	}
	var k any
	var err error
	switch block.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(block.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key", block.Type)
	}
	if err != nil {
		return nil, errors.New("damaged private key")
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("private key cannot sign")
	}
	return s, nil
}

// Bundle concatenates PEM certs into one trusted bundle, each ending in a
// newline, dropping exact duplicates and empty entries.
func Bundle(pems ...[]byte) []byte {
	var b bytes.Buffer
	seen := map[string]bool{}
	for _, p := range pems {
		p = bytes.TrimSpace(p)
		if len(p) == 0 || seen[string(p)] {
			continue
		}
		seen[string(p)] = true
		b.Write(p)
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Pool returns a cert pool holding every cert of the given PEMs.
func Pool(pems ...[]byte) (*x509.CertPool, error) {
	pool := x509.NewCertPool()
	for _, p := range pems {
		certs, err := ParseCertsPEM(p)
		if err != nil {
			return nil, err
		}
		for _, c := range certs {
			pool.AddCert(c)
		}
	}
	return pool, nil
}
