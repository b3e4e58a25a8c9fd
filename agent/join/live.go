package join

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/version"
)

// Renewer renews an agent's host cert (POST /v1/agents/renew).
type Renewer interface {
	RenewHostCert(ctx context.Context, agentID string, req wire.AgentRenew) (wire.Cert, error)
}

// Live is an agent's identity while it runs: its host cert is renewed and
// its host CA bundle follows rotations. Each change is written to the
// identity dir first (so a restart, and every NATS reconnect, which
// re-reads host-ca.pem, host.crt and host.key, uses it) and then swapped
// in place for the TLS configs made by ClientTLS.
type Live struct {
	dataDir string

	mu   sync.Mutex // serializes changes
	id   Identity
	cert atomic.Pointer[tls.Certificate]
	pool atomic.Pointer[x509.CertPool]
}

// NewLive starts a Live from id, stored under dataDir ("" : changes are
// kept in memory only).
func NewLive(dataDir string, id *Identity) (*Live, error) {
	l := &Live{dataDir: dataDir, id: *id}
	cert, err := id.TLSCertificate()
	if err != nil {
		return nil, err
	}
	l.cert.Store(&cert)
	l.pool.Store(poolOf(id.HostCAPEM))
	return l, nil
}

func poolOf(pems []string) *x509.CertPool {
	p := x509.NewCertPool()
	for _, s := range pems {
		p.AppendCertsFromPEM([]byte(s))
	}
	return p
}

// AgentID is the agent's id.
func (l *Live) AgentID() string { return l.id.AgentID }

// Certificate is the current host cert with its key (Leaf set).
func (l *Live) Certificate() *tls.Certificate { return l.cert.Load() }

// HostCAPool is the current host CA trust.
func (l *Live) HostCAPool() *x509.CertPool { return l.pool.Load() }

// HostCAPEM is the current host CA bundle.
func (l *Live) HostCAPEM() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.id.HostCAPEM)
}

// SetHostCA replaces the host CA bundle (persisting it) when pems differ
// from it; it tells whether it did. An empty pems changes nothing.
func (l *Live) SetHostCA(pems []string) (bool, error) {
	if len(pems) == 0 {
		return false, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if slices.Equal(pems, l.id.HostCAPEM) {
		return false, nil
	}
	if l.dataDir != "" {
		if err := WriteFile(filepath.Join(Dir(l.dataDir), hostCA), []byte(strings.Join(pems, "")), 0o644); err != nil {
			return false, err
		}
	}
	l.id.HostCAPEM = slices.Clone(pems)
	l.pool.Store(poolOf(pems))
	return true, nil
}

// SetCert replaces the host cert and its key (persisting them, the key
// 0600).
func (l *Live) SetCert(certPEM, keyPEM string) error {
	cert, err := tls.X509KeyPair([]byte(certPEM), []byte(keyPEM))
	if err != nil {
		return fmt.Errorf("agent host cert: %w", err)
	}
	if cert.Leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
		return fmt.Errorf("agent host cert: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dataDir != "" {
		dir := Dir(l.dataDir)
		if err := WriteFile(filepath.Join(dir, keyFile), []byte(keyPEM), 0o600); err != nil {
			return err
		}
		if err := WriteFile(filepath.Join(dir, certFile), []byte(certPEM), 0o644); err != nil {
			return err
		}
	}
	l.id.CertPEM, l.id.KeyPEM = certPEM, keyPEM
	l.cert.Store(&cert)
	return nil
}

// ClientTLS is a TLS client config for reaching control at serverName
// that presents the current host cert and verifies the server against the
// current host CA bundle, both read at each handshake.
func (l *Live) ClientTLS(serverName string) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		ServerName: serverName,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return l.Certificate(), nil
		},
		// Verification is VerifyConnection's, against the live pool.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("control presented no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: l.HostCAPool(), Intermediates: inter,
				DNSName: serverName, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
			if err != nil {
				return fmt.Errorf("control's certificate is not from the host CA this agent trusts: %w", err)
			}
			return nil
		},
	}
}

// Renew gets a new host cert for a fresh key through r and swaps it in
// (with the host CA bundle control answers).
func (l *Live) Renew(ctx context.Context, r Renewer) (wire.Cert, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return wire.Cert{}, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return wire.Cert{}, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return wire.Cert{}, err
	}
	res, err := r.RenewHostCert(ctx, l.id.AgentID, wire.AgentRenew{
		PublicKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})), Version: version.Version})
	if err != nil {
		return wire.Cert{}, fmt.Errorf("renew the agent host cert: %w", err)
	}
	if _, err := l.SetHostCA(res.HostCAPEM); err != nil {
		return wire.Cert{}, err
	}
	if err := l.SetCert(res.CertPEM, string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))); err != nil {
		return wire.Cert{}, err
	}
	// Control knows a caller by the cert of its TLS connection: kept-alive
	// connections would go on presenting the old one.
	if c, ok := r.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
	return res, nil
}
