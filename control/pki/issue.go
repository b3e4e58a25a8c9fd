package pki

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"time"

	"github.com/tollgate-db/tollgate/schemas"
)

// Issuer signs leaf certs with one CA's cert and private key.
type Issuer struct {
	cert    *x509.Certificate
	certPEM []byte
	key     crypto.Signer
}

// NewIssuer checks that certPEM is a CA cert whose public key is key's.
func NewIssuer(certPEM []byte, key crypto.Signer) (*Issuer, error) {
	c, err := ParseCertPEM(certPEM)
	if err != nil {
		return nil, fmt.Errorf("issuer cert: %w", err)
	}
	if !c.IsCA {
		return nil, fmt.Errorf("%w: issuer cert %q is not a CA", ErrInvalid, c.Subject.CommonName)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(c.PublicKey) {
		return nil, fmt.Errorf("%w: issuer key does not match the CA cert %q", ErrInvalid, c.Subject.CommonName)
	}
	return &Issuer{cert: c, certPEM: EncodeCertPEM(c.Raw), key: key}, nil
}

// Cert is the CA cert.
func (i *Issuer) Cert() *x509.Certificate { return i.cert }

// CertPEM is the CA cert as PEM.
func (i *Issuer) CertPEM() []byte { return i.certPEM }

// Kind is the CA kind recorded in the CA cert ("" for foreign CAs).
func (i *Issuer) Kind() string { return CAKind(i.cert) }

// Request describes one leaf cert.
type Request struct {
	// Kind is a schemas.CertKind*: user, db (user cert with a route),
	// host, db_client, db_server.
	Kind string
	// CommonName: user name (user, db), host id (host), db user
	// (db_client), e.g. "node" (db_server).
	CommonName string
	// Route is the database route of a "db" cert.
	Route string
	// Hosts become DNS or IP SANs (host and db_server; db_server needs at
	// least one).
	Hosts []string
	// ClientAuth adds ClientAuth to a db_server cert (CockroachDB node.crt).
	ClientAuth bool
	// PublicKey, when set, is certified and no key is generated (keyPEM is
	// nil). Otherwise a key of KeyAlg is generated.
	PublicKey crypto.PublicKey
	KeyAlg    string
	// Now is the issuance time; NotBefore is Now minus a minute.
	Now time.Time
	// TTL from Now; the cert ends at the earliest of Now+TTL, NotAfter (if
	// set) and the CA's own NotAfter. db_client requires NotAfter: it
	// expires with the user's own cert or sooner.
	TTL      time.Duration
	NotAfter time.Time
	// MFASessionUntil, on a db cert, records that it was issued after a
	// second factor and how long its session may last.
	MFASessionUntil time.Time
}

// caFor is the CA kind each cert kind is signed by.
var caFor = map[string]string{
	schemas.CertKindUser:     schemas.CAUser,
	schemas.CertKindDB:       schemas.CAUser,
	schemas.CertKindHost:     schemas.CAHost,
	schemas.CertKindDBClient: schemas.CADBClient,
	schemas.CertKindDBServer: schemas.CADB,
}

// CAForKind returns the CA kind that signs certs of kind ("" if unknown).
func CAForKind(kind string) string { return caFor[kind] }

// Issue signs the cert r describes. keyPEM is the PKCS#8 PEM of the
// generated key, nil when r.PublicKey was given.
func (i *Issuer) Issue(ctx context.Context, r Request) (certPEM, keyPEM []byte, cert *x509.Certificate, err error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, nil, err
	}
	tmpl, err := i.template(r)
	if err != nil {
		return nil, nil, nil, err
	}
	pub := r.PublicKey
	if pub == nil {
		key, err := GenerateKey(r.KeyAlg)
		if err != nil {
			return nil, nil, nil, err
		}
		if keyPEM, err = EncodeKeyPEM(key); err != nil {
			return nil, nil, nil, err
		}
		pub = key.Public()
	}
	switch pub.(type) {
	case *ecdsa.PublicKey:
	case *rsa.PublicKey:
		tmpl.KeyUsage |= x509.KeyUsageKeyEncipherment
	default:
		return nil, nil, nil, fmt.Errorf("%w: public key must be ECDSA or RSA", ErrInvalid)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, i.cert, pub, i.key)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("sign %s cert: %w", r.Kind, err)
	}
	if cert, err = x509.ParseCertificate(der); err != nil {
		return nil, nil, nil, fmt.Errorf("parse issued %s cert: %w", r.Kind, err)
	}
	return EncodeCertPEM(der), keyPEM, cert, nil
}

func (i *Issuer) template(r Request) (*x509.Certificate, error) {
	ca, ok := caFor[r.Kind]
	if !ok {
		return nil, fmt.Errorf("%w: cert kind %q: use user, db, host, db_client or db_server", ErrInvalid, r.Kind)
	}
	if k := i.Kind(); k != "" && k != ca {
		return nil, fmt.Errorf("%w: a %s cert is signed by the %s CA, not the %s CA", ErrInvalid, r.Kind, ca, k)
	}
	if r.CommonName == "" {
		return nil, fmt.Errorf("%w: %s cert needs a common name", ErrInvalid, r.Kind)
	}
	if r.Now.IsZero() {
		return nil, fmt.Errorf("%w: Now is required", ErrInvalid)
	}
	if r.TTL <= 0 && r.NotAfter.IsZero() {
		return nil, fmt.Errorf("%w: %s cert needs a TTL or NotAfter", ErrInvalid, r.Kind)
	}
	notAfter := r.NotAfter
	if r.TTL > 0 && (notAfter.IsZero() || r.Now.Add(r.TTL).Before(notAfter)) {
		notAfter = r.Now.Add(r.TTL)
	}
	if notAfter.After(i.cert.NotAfter) {
		notAfter = i.cert.NotAfter
	}
	if !notAfter.After(r.Now) {
		return nil, fmt.Errorf("%w: %s cert would already be expired at issuance", ErrInvalid, r.Kind)
	}
	serial, err := serialNumber()
	if err != nil {
		return nil, err
	}
	t := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: r.CommonName},
		NotBefore:    r.Now.Add(-time.Minute),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	client := []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
	switch r.Kind {
	case schemas.CertKindUser, schemas.CertKindDB:
		t.ExtKeyUsage = client
		t.URIs = []*url.URL{identityURI(uriUser, r.CommonName)}
		if r.Kind == schemas.CertKindDB {
			if r.Route == "" {
				return nil, fmt.Errorf("%w: a db cert needs a route", ErrInvalid)
			}
			t.URIs = append(t.URIs, identityURI(uriDB, r.Route))
			if !r.MFASessionUntil.IsZero() {
				t.URIs = append(t.URIs, identityURI(uriMFA, strconv.FormatInt(r.MFASessionUntil.Unix(), 10)))
			}
		} else if r.Route != "" {
			return nil, fmt.Errorf("%w: a user cert has no route; use kind db", ErrInvalid)
		}
	case schemas.CertKindDBClient:
		if r.NotAfter.IsZero() {
			return nil, fmt.Errorf("%w: a db_client cert needs NotAfter (the user cert's expiry)", ErrInvalid)
		}
		t.ExtKeyUsage = client
	case schemas.CertKindHost:
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}
		addHosts(t, r.Hosts)
	case schemas.CertKindDBServer:
		if len(r.Hosts) == 0 {
			return nil, fmt.Errorf("%w: a db_server cert needs at least one host", ErrInvalid)
		}
		t.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}
		if r.ClientAuth {
			t.ExtKeyUsage = append(t.ExtKeyUsage, x509.ExtKeyUsageClientAuth)
		}
		addHosts(t, r.Hosts)
	}
	return t, nil
}

func addHosts(t *x509.Certificate, hosts []string) {
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			t.IPAddresses = append(t.IPAddresses, ip)
		} else if h != "" {
			t.DNSNames = append(t.DNSNames, h)
		}
	}
}
