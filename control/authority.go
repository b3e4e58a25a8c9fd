package control

import (
	"context"
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
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// routeScheme marks the database route of a user cert as a URI SAN.
const routeScheme = "tollgate-route"

// authority issues certificates from the four CAs. CA private keys live in
// the keystore directory (<data-dir>/keystore, files 0600); only public
// certs go into events.
type authority struct {
	s   *Service
	dir string
}

func newAuthority(s *Service) *authority {
	return &authority{s: s, dir: filepath.Join(s.cfg.DataDir, "keystore", "ca")}
}

type issued struct {
	certPEM  string
	serial   string
	notAfter time.Time
}

func newKey(alg string) (crypto.Signer, error) {
	switch strings.ToUpper(alg) {
	case "", "ECDSA-P256":
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case "RSA-2048":
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return nil, fmt.Errorf("key algorithm %q: use ECDSA-P256 or RSA-2048", alg)
}

func serialNumber() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 126))
}

func pemCert(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

// PinOf is the pin of a cert: sha256:<hex of SHA-256 of its
// SubjectPublicKeyInfo>.
func PinOf(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return "sha256:" + hex.EncodeToString(sum[:])
}

func parsePEMCert(p string) (*x509.Certificate, error) {
	block, _ := pem.Decode([]byte(p))
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("no PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

func pinOfPEM(p string) (string, error) {
	c, err := parsePEMCert(p)
	if err != nil {
		return "", err
	}
	return PinOf(c), nil
}

func (a *authority) createCA(_ context.Context, caType, alg string) (schemas.CACreated, error) {
	key, err := newKey(alg)
	if err != nil {
		return schemas.CACreated{}, err
	}
	serial, err := serialNumber()
	if err != nil {
		return schemas.CACreated{}, err
	}
	now := a.s.cfg.Clock.Now()
	cluster := a.s.cfg.ClusterName
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "tollgate " + caType + " CA", Organization: []string{cluster}},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return schemas.CACreated{}, fmt.Errorf("self-sign %s CA: %w", caType, err)
	}
	cert, _ := x509.ParseCertificate(der)
	keyID := caType + "-" + strings.TrimPrefix(PinOf(cert), "sha256:")[:16]
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return schemas.CACreated{}, err
	}
	if err := os.MkdirAll(a.dir, 0o700); err != nil {
		return schemas.CACreated{}, fmt.Errorf("create keystore: %w", err)
	}
	if err := os.WriteFile(filepath.Join(a.dir, keyID+".key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return schemas.CACreated{}, fmt.Errorf("store CA key: %w", err)
	}
	return schemas.CACreated{CAType: caType, KeyID: keyID, KeyAlg: strings.ToUpper(alg), CertPEM: pemCert(der)}, nil
}

// signer loads the active key and cert of a CA.
func (a *authority) signer(caType string) (*x509.Certificate, crypto.Signer, error) {
	var active projections.CAKey
	var ok bool
	a.s.View(func(st *projections.State) {
		var ca *projections.CA
		if ca, ok = st.CAs[caType]; ok {
			active = ca.Active
		}
	})
	if !ok {
		return nil, nil, fmt.Errorf("CA %s does not exist", caType)
	}
	cert, err := parsePEMCert(active.CertPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("CA %s cert: %w", caType, err)
	}
	raw, err := os.ReadFile(filepath.Join(a.dir, active.KeyID+".key"))
	if err != nil {
		return nil, nil, fmt.Errorf("load CA %s key %s from keystore: %w", caType, active.KeyID, err)
	}
	block, _ := pem.Decode(raw)
	if block == nil {
		return nil, nil, fmt.Errorf("CA %s key %s: damaged keystore file", caType, active.KeyID)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, nil, fmt.Errorf("CA %s key %s: %w", caType, active.KeyID, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, nil, fmt.Errorf("CA %s key %s: not a signing key", caType, active.KeyID)
	}
	return cert, signer, nil
}

func parsePublicKey(p string) (crypto.PublicKey, error) {
	block, _ := pem.Decode([]byte(p))
	if block == nil {
		return nil, invalidf("public_key_pem holds no PEM block")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, invalidf("public_key_pem: %v", err)
	}
	switch pub.(type) {
	case *ecdsa.PublicKey, *rsa.PublicKey:
		return pub, nil
	}
	return nil, invalidf("public_key_pem: use an ECDSA or RSA key")
}

type certReq struct {
	caType, kind, cn, forWho, database, actor string
	hosts                                     []string
	uris                                      []*url.URL
	ttl                                       time.Duration
	notAfter                                  time.Time
	pub                                       crypto.PublicKey
	usage                                     []x509.ExtKeyUsage
}

func (a *authority) issue(ctx context.Context, r certReq) (issued, *x509.Certificate, error) {
	caCert, caKey, err := a.signer(r.caType)
	if err != nil {
		return issued{}, nil, err
	}
	serial, err := serialNumber()
	if err != nil {
		return issued{}, nil, err
	}
	now := a.s.cfg.Clock.Now()
	notAfter := r.notAfter
	if notAfter.IsZero() {
		notAfter = now.Add(r.ttl)
	}
	if notAfter.After(caCert.NotAfter) {
		notAfter = caCert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: r.cn},
		NotBefore:    now.Add(-time.Minute),
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  r.usage,
		URIs:         r.uris,
	}
	for _, h := range r.hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, r.pub, caKey)
	if err != nil {
		return issued{}, nil, fmt.Errorf("sign %s cert: %w", r.kind, err)
	}
	cert, _ := x509.ParseCertificate(der)
	out := issued{certPEM: pemCert(der), serial: cert.SerialNumber.Text(16), notAfter: cert.NotAfter}
	a.s.audit.emit(ctx, schemas.TypeCertIssued, r.database, r.forWho, "", r.actor, schemas.CertIssued{
		Kind: r.kind, CAType: r.caType, Serial: out.serial, Subject: r.cn, Hosts: r.hosts,
		NotBefore: cert.NotBefore, NotAfter: cert.NotAfter, For: r.forWho, Database: r.database})
	return out, cert, nil
}

func (a *authority) issueUser(ctx context.Context, user, route, pubPEM string, ttl time.Duration) (issued, error) {
	pub, err := parsePublicKey(pubPEM)
	if err != nil {
		return issued{}, err
	}
	r := certReq{caType: schemas.CAUser, kind: schemas.CertKindUser, cn: user, forWho: user, actor: user, ttl: ttl, pub: pub,
		usage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if route != "" {
		r.kind, r.database = schemas.CertKindDB, route
		r.uris = []*url.URL{{Scheme: routeScheme, Host: url.PathEscape(route)}}
	}
	iss, _, err := a.issue(ctx, r)
	return iss, err
}

func (a *authority) issueHost(ctx context.Context, id string, hosts []string, pub crypto.PublicKey, ttl time.Duration, actor string) (issued, error) {
	iss, _, err := a.issue(ctx, certReq{caType: schemas.CAHost, kind: schemas.CertKindHost, cn: id, forWho: id, actor: actor,
		hosts: hosts, ttl: ttl, pub: pub, usage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}})
	return iss, err
}

func (a *authority) issueDBClient(ctx context.Context, actor string, req wire.DBClientCertRequest, now time.Time) (issued, error) {
	pub, err := parsePublicKey(req.PublicKeyPEM)
	if err != nil {
		return issued{}, err
	}
	notAfter := req.NotAfter
	if max := now.Add(DefaultSessionTTL); notAfter.After(max) {
		notAfter = max
	}
	iss, _, err := a.issue(ctx, certReq{caType: schemas.CADBClient, kind: schemas.CertKindDBClient, cn: req.DBUser,
		forWho: req.ForUser, database: req.Database, actor: actor, notAfter: notAfter, pub: pub,
		usage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	return iss, err
}

// keyPEM returns a fresh key and its PKCS#8 PEM.
func keyPEM(alg string) (crypto.Signer, string, error) {
	k, err := newKey(alg)
	if err != nil {
		return nil, "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, "", err
	}
	return k, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})), nil
}

func (a *authority) signDBServer(ctx context.Context, actor, format string, hosts []string, ttl time.Duration) ([]wire.SignedFile, error) {
	var alg string
	a.s.View(func(st *projections.State) {
		if ca, ok := st.CAs[schemas.CADB]; ok {
			alg = ca.Active.KeyAlg
		}
	})
	key, kp, err := keyPEM(alg)
	if err != nil {
		return nil, err
	}
	cn := hosts[0]
	if format == "cockroachdb" {
		cn = "node"
	}
	iss, _, err := a.issue(ctx, certReq{caType: schemas.CADB, kind: schemas.CertKindDBServer, cn: cn, forWho: actor, actor: actor,
		hosts: hosts, ttl: ttl, pub: key.Public(),
		usage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}})
	if err != nil {
		return nil, err
	}
	dbCA := strings.Join(a.s.trusted(schemas.CADB), "")
	clientCA := strings.Join(a.s.trusted(schemas.CADBClient), "")
	switch format {
	case "cockroachdb":
		return []wire.SignedFile{{Name: "ca.crt", Data: dbCA}, {Name: "ca-client.crt", Data: clientCA},
			{Name: "node.crt", Data: iss.certPEM}, {Name: "node.key", Data: kp, Private: true}}, nil
	case "db":
		return []wire.SignedFile{{Name: "server.cas", Data: clientCA}, {Name: "server.crt", Data: iss.certPEM},
			{Name: "server.key", Data: kp, Private: true}}, nil
	default:
		return []wire.SignedFile{{Name: "ca.crt", Data: dbCA}, {Name: "ca-client.crt", Data: clientCA},
			{Name: "tls.crt", Data: iss.certPEM}, {Name: "tls.key", Data: kp, Private: true}}, nil
	}
}

// pools returns the trusted cert pools of the user and host CAs.
func (s *Service) pools() (user, host *x509.CertPool) {
	user, host = x509.NewCertPool(), x509.NewCertPool()
	for _, p := range s.trusted(schemas.CAUser) {
		user.AppendCertsFromPEM([]byte(p))
	}
	for _, p := range s.trusted(schemas.CAHost) {
		host.AppendCertsFromPEM([]byte(p))
	}
	return user, host
}

// ClientCAs is the pool the API accepts client certs from: user and host
// CAs.
func (s *Service) ClientCAs() *x509.CertPool {
	pool := x509.NewCertPool()
	for _, t := range []string{schemas.CAUser, schemas.CAHost} {
		for _, p := range s.trusted(t) {
			pool.AppendCertsFromPEM([]byte(p))
		}
	}
	return pool
}

func (a *authority) identify(cert *x509.Certificate) (Caller, error) {
	userPool, hostPool := a.s.pools()
	opts := x509.VerifyOptions{Roots: userPool, CurrentTime: a.s.cfg.Clock.Now(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	c := Caller{Name: cert.Subject.CommonName, NotAfter: cert.NotAfter, Serial: cert.SerialNumber.Text(16)}
	if _, err := cert.Verify(opts); err == nil {
		c.Kind = CallerUser
		for _, u := range cert.URIs {
			if u.Scheme == routeScheme {
				c.Database, _ = url.PathUnescape(u.Host)
			}
		}
		return c, nil
	}
	opts.Roots = hostPool
	if _, err := cert.Verify(opts); err == nil {
		c.Kind = CallerHost
		return c, nil
	}
	return Caller{}, unauthorizedf("client certificate is not from this cluster's user or host CA (or it expired); log in again")
}
