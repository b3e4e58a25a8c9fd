package control

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// CATTL is the lifetime of a CA made at bootstrap.
const CATTL = 10 * 365 * 24 * time.Hour

// authority issues certificates from the four CAs with control/pki. CA
// private keys live in the keystore by key id; only public certs go into
// events.
type authority struct {
	s  *Service
	ks Keys

	mu      sync.Mutex
	issuers map[string]*pki.Issuer // by key id
}

func newAuthority(s *Service, ks Keys) *authority {
	return &authority{s: s, ks: ks, issuers: map[string]*pki.Issuer{}}
}

// issued is one signed cert (and its key, when control generated it).
type issued struct {
	certPEM  string
	keyPEM   string
	serial   string
	notAfter time.Time
	// keyID is the CA key that signed the cert.
	keyID string
}

// createCA makes a CA of caType for the cluster named cluster (the
// projection's name: the subject's O, as rotated CAs get it) and stores
// its key.
func (a *authority) createCA(ctx context.Context, caType, alg, cluster string) (schemas.CACreated, error) {
	alg, err := pki.NormalizeAlg(alg)
	if err != nil {
		return schemas.CACreated{}, err
	}
	certPEM, key, err := pki.NewCA(caType, alg, cluster, a.s.cfg.Clock.Now(), CATTL)
	if err != nil {
		return schemas.CACreated{}, err
	}
	pin, err := pki.Pin(certPEM)
	if err != nil {
		return schemas.CACreated{}, err
	}
	keyID := caType + "-" + strings.TrimPrefix(pin, "sha256:")[:16]
	if err := a.ks.Put(ctx, keyID, key); err != nil {
		return schemas.CACreated{}, fmt.Errorf("store %s CA key: %w", caType, err)
	}
	return schemas.CACreated{CAType: caType, KeyID: keyID, KeyAlg: alg, CertPEM: string(certPEM)}, nil
}

// signingKeyFor is the key of ca that signs a cert of kind in the CA's
// rotation phase. Client certs (user, db, db_client) follow CA.SigningKey:
// the new key from update_clients on. Server certs (host, db_server) move
// to the new key only in update_servers: until then clients that still
// trust only the old CA keep reaching servers, and from then on every
// client has had update_clients to fetch the old+new trusted bundle.
func signingKeyFor(ca *projections.CA, kind string) projections.CAKey {
	if ca.Next != nil && ca.Phase == schemas.PhaseUpdateClients && isServerKind(kind) {
		return ca.Active
	}
	return ca.SigningKey()
}

func isServerKind(kind string) bool {
	return kind == schemas.CertKindHost || kind == schemas.CertKindDBServer
}

// issuer returns the issuer of the CA key that signs certs of kind now
// (signingKeyFor), its key algorithm and its key id.
func (a *authority) issuer(ctx context.Context, caType, kind string) (*pki.Issuer, string, string, error) {
	var (
		signing projections.CAKey
		ok      bool
	)
	a.s.View(func(st *projections.State) {
		var ca *projections.CA
		if ca, ok = st.CAs[caType]; ok {
			signing = signingKeyFor(ca, kind)
		}
	})
	if !ok {
		return nil, "", "", fmt.Errorf("CA %s does not exist", caType)
	}
	is, alg, err := a.issuerOf(ctx, caType, signing)
	return is, alg, signing.KeyID, err
}

// issuerOf returns the (cached) issuer of one CA key.
func (a *authority) issuerOf(ctx context.Context, caType string, k projections.CAKey) (*pki.Issuer, string, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if is, ok := a.issuers[k.KeyID]; ok {
		return is, k.KeyAlg, nil
	}
	key, err := a.ks.Get(ctx, k.KeyID)
	if err != nil {
		return nil, "", fmt.Errorf("load CA %s key %s: %w", caType, k.KeyID, err)
	}
	is, err := pki.NewIssuer([]byte(k.CertPEM), key)
	if err != nil {
		return nil, "", fmt.Errorf("CA %s: %w", caType, err)
	}
	a.issuers[k.KeyID] = is
	return is, k.KeyAlg, nil
}

// recipient is what cert.issued records besides the cert: for whom, the
// database, and who asked.
type recipient struct{ who, database, actor string }

// issue signs r with the CA of its kind and records cert.issued. Without a
// public key, a key of the CA's algorithm is generated and returned.
func (a *authority) issue(ctx context.Context, r pki.Request, to recipient) (issued, error) {
	caType := pki.CAForKind(r.Kind)
	is, alg, keyID, err := a.issuer(ctx, caType, r.Kind)
	if err != nil {
		return issued{}, err
	}
	if r.Now.IsZero() {
		r.Now = a.s.cfg.Clock.Now()
	}
	if r.PublicKey == nil && r.KeyAlg == "" {
		r.KeyAlg = alg
	}
	certPEM, keyPEM, cert, err := is.Issue(ctx, r)
	if err != nil {
		return issued{}, invalidf("%s", err.Error())
	}
	out := issued{certPEM: string(certPEM), keyPEM: string(keyPEM), serial: cert.SerialNumber.Text(16), notAfter: cert.NotAfter, keyID: keyID}
	a.s.audit.emit(ctx, schemas.TypeCertIssued, to.database, to.who, to.actor, schemas.CertIssued{
		Kind: r.Kind, CAType: caType, Serial: out.serial, Subject: r.CommonName, Hosts: r.Hosts,
		NotBefore: cert.NotBefore, NotAfter: cert.NotAfter, For: to.who, Database: to.database})
	return out, nil
}

// parsePublicKey reads a PKIX public key PEM sent for a cert.
func parsePublicKey(p string) (crypto.PublicKey, error) {
	block, _ := pem.Decode([]byte(p))
	if block == nil {
		return nil, invalidf("public_key_pem holds no PEM block")
	}
	pub, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		return nil, invalidf("public_key_pem: %v", err)
	}
	return pub, nil
}

func (a *authority) issueUser(ctx context.Context, user, route, pubPEM string, ttl time.Duration, mfaUntil time.Time) (issued, error) {
	pub, err := parsePublicKey(pubPEM)
	if err != nil {
		return issued{}, err
	}
	r := pki.Request{Kind: schemas.CertKindUser, CommonName: user, PublicKey: pub, TTL: ttl, MFASessionUntil: mfaUntil}
	if route != "" {
		r.Kind, r.Route = schemas.CertKindDB, route
	}
	return a.issue(ctx, r, recipient{who: user, database: route, actor: user})
}

func (a *authority) issueHost(ctx context.Context, id string, hosts []string, pub crypto.PublicKey, ttl time.Duration, actor string) (issued, error) {
	return a.issue(ctx, pki.Request{Kind: schemas.CertKindHost, CommonName: id, Hosts: hosts, PublicKey: pub, TTL: ttl},
		recipient{who: id, actor: actor})
}

func (a *authority) issueDBClient(ctx context.Context, actor string, req wire.DBClientCertRequest, now time.Time) (issued, error) {
	pub, err := parsePublicKey(req.PublicKeyPEM)
	if err != nil {
		return issued{}, err
	}
	return a.issue(ctx, pki.Request{Kind: schemas.CertKindDBClient, CommonName: req.DBUser, PublicKey: pub, Now: now,
		TTL: DefaultSessionTTL, NotAfter: req.NotAfter}, recipient{who: req.ForUser, database: req.Database, actor: actor})
}

// signDBServer makes auth sign's parts: a db_server cert and key from the
// db CA and the db and db_client CA bundles.
func (a *authority) signDBServer(ctx context.Context, actor, format string, hosts []string, ttl time.Duration) (pki.SignOutput, error) {
	cn := hosts[0]
	if format == "cockroachdb" {
		cn = "node"
	}
	iss, err := a.issue(ctx, pki.Request{Kind: schemas.CertKindDBServer, CommonName: cn, Hosts: hosts, TTL: ttl,
		ClientAuth: format == "cockroachdb"}, recipient{who: actor, actor: actor})
	if err != nil {
		return pki.SignOutput{}, err
	}
	return pki.SignOutput{CertPEM: []byte(iss.certPEM), KeyPEM: []byte(iss.keyPEM),
		DBCA: pki.Bundle(stringsToBytes(a.s.trusted(schemas.CADB))...), ClientCA: pki.Bundle(stringsToBytes(a.s.trusted(schemas.CADBClient))...)}, nil
}

func stringsToBytes(xs []string) [][]byte {
	out := make([][]byte, len(xs))
	for i, x := range xs {
		out[i] = []byte(x)
	}
	return out
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

// identify verifies a client cert against the user CA (then the host CA)
// and reads its identity with pki.ParseIdentity.
func (a *authority) identify(cert *x509.Certificate) (Caller, error) {
	userPool, hostPool := a.s.pools()
	opts := x509.VerifyOptions{Roots: userPool, CurrentTime: a.s.cfg.Clock.Now(), KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	if _, err := cert.Verify(opts); err == nil {
		id, err := pki.ParseIdentity(cert)
		if err != nil {
			return Caller{}, unauthorizedf("client certificate: %v; log in again", err)
		}
		return Caller{Kind: CallerUser, Name: id.User, Database: id.Database, NotAfter: id.NotAfter, Serial: id.Serial}, nil
	}
	opts.Roots = hostPool
	if _, err := cert.Verify(opts); err == nil {
		return Caller{Kind: CallerHost, Name: cert.Subject.CommonName, NotAfter: cert.NotAfter, Serial: cert.SerialNumber.Text(16)}, nil
	}
	return Caller{}, unauthorizedf("client certificate is not from this cluster's user or host CA (or it expired); log in again")
}
