package control

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"slices"
	"time"

	"github.com/tollgate-db/tollgate/control/keystore"
	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// ServerCertTTL is the lifetime of control's own host cert (HTTPS API and
// the embedded NATS listener). It is kept in the keystore and renewed when
// less than a third of it is left: at start and, while running, at the
// next TLS handshake (see ServerCertificate).
const ServerCertTTL = 90 * 24 * time.Hour

// Keystore secret names of control's host cert and key.
const (
	serverCertSecret = "control/host.crt"
	serverKeySecret  = "control/host.key"
)

// ServerCertificate returns control's host cert (host CA, CN "control",
// localhost and the configured Hosts as SANs). The cert and key are kept
// in the keystore; a new pair is issued when none is there, when the
// hosts changed or the host CA key that signs server certs changed (a
// rotation reached update_servers, completed or rolled back; see
// signingKeyFor), or when less than a third of ServerCertTTL is left.
func (s *Service) ServerCertificate(ctx context.Context) (tls.Certificate, error) {
	s.certMu.Lock()
	defer s.certMu.Unlock()
	hosts := dedupe(append([]string{"localhost", "127.0.0.1", "::1"}, s.cfg.Hosts...))
	if c, ok := s.storedServerCert(ctx, hosts); ok {
		return c, nil
	}
	iss, err := s.pki.issue(ctx, pki.Request{Kind: schemas.CertKindHost, CommonName: Source, Hosts: hosts, TTL: ServerCertTTL},
		recipient{who: Source, actor: Source})
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := s.local.PutSecret(ctx, serverKeySecret, []byte(iss.keyPEM)); err != nil {
		return tls.Certificate{}, fmt.Errorf("store control's host key: %w", err)
	}
	if err := s.local.PutSecret(ctx, serverCertSecret, []byte(iss.certPEM)); err != nil {
		return tls.Certificate{}, fmt.Errorf("store control's host cert: %w", err)
	}
	s.log.Info().Str("serial", iss.serial).Time("not_after", iss.notAfter).Msg("issued control's host cert")
	return tls.X509KeyPair([]byte(iss.certPEM), []byte(iss.keyPEM))
}

// storedServerCert returns the stored host cert if it is still good for
// hosts and has more than a third of its lifetime left.
func (s *Service) storedServerCert(ctx context.Context, hosts []string) (tls.Certificate, bool) {
	certPEM, err := s.local.GetSecret(ctx, serverCertSecret)
	if err != nil {
		if !errors.Is(err, keystore.ErrNotFound) {
			s.log.Warn().Err(err).Msg("read control's host cert; issuing a new one")
		}
		return tls.Certificate{}, false
	}
	keyPEM, err := s.local.GetSecret(ctx, serverKeySecret)
	if err != nil {
		return tls.Certificate{}, false
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return tls.Certificate{}, false
	}
	leaf := c.Leaf
	if leaf == nil {
		return tls.Certificate{}, false
	}
	if !s.certFresh(leaf) {
		return tls.Certificate{}, false
	}
	have := append(slices.Clone(leaf.DNSNames), ipStrings(leaf)...)
	for _, h := range hosts {
		if !slices.Contains(have, h) && !slices.Contains(have, canonicalIP(h)) {
			return tls.Certificate{}, false
		}
	}
	_, hostPool := s.pools()
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: hostPool, CurrentTime: s.cfg.Clock.Now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}); err != nil {
		return tls.Certificate{}, false
	}
	if signer, ok := s.serverSigner(); !ok || !signedBy(leaf, signer) {
		// A host CA rotation moved server certs to another key.
		return tls.Certificate{}, false
	}
	return c, true
}

// serverSigner is the host CA key that signs server certs in the current
// rotation phase (signingKeyFor).
func (s *Service) serverSigner() (projections.CAKey, bool) {
	var (
		k  projections.CAKey
		ok bool
	)
	s.View(func(st *projections.State) {
		var ca *projections.CA
		if ca, ok = st.CAs[schemas.CAHost]; ok {
			k = signingKeyFor(ca, schemas.CertKindHost)
		}
	})
	return k, ok
}

// signedBy says whether leaf was signed by the CA key k.
func signedBy(leaf *x509.Certificate, k projections.CAKey) bool {
	ca, err := pki.ParseCertPEM([]byte(k.CertPEM))
	return err == nil && leaf.CheckSignatureFrom(ca) == nil
}

// certFresh says whether more than a third of the cert's lifetime is left.
func (s *Service) certFresh(leaf *x509.Certificate) bool {
	life := leaf.NotAfter.Sub(leaf.NotBefore)
	return s.cfg.Clock.Now().Before(leaf.NotAfter.Add(-life / 3))
}

// CertificateSource returns a tls.Config GetCertificate that serves
// control's host cert and renews it when less than a third is left, or
// when a host CA rotation moved server certs to another key (see
// signingKeyFor), so a handshake always gets a cert from the key the
// current phase serves with.
func (s *Service) CertificateSource(ctx context.Context, first tls.Certificate) func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	cur, curKey := &first, ""
	return func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		signer, _ := s.serverSigner()
		s.certMu.Lock()
		c, ck := cur, curKey
		s.certMu.Unlock()
		if c.Leaf != nil && s.certFresh(c.Leaf) {
			if ck == signer.KeyID {
				return c, nil
			}
			if ck == "" && signedBy(c.Leaf, signer) {
				s.certMu.Lock()
				curKey = signer.KeyID
				s.certMu.Unlock()
				return c, nil
			}
		}
		next, err := s.ServerCertificate(ctx)
		if err != nil {
			s.log.Error().Err(err).Msg("renew control's host cert; serving the old one")
			return c, nil
		}
		s.certMu.Lock()
		cur, curKey = &next, ""
		if next.Leaf != nil && signedBy(next.Leaf, signer) {
			curKey = signer.KeyID
		}
		s.certMu.Unlock()
		return &next, nil
	}
}

func ipStrings(c *x509.Certificate) []string {
	out := make([]string, len(c.IPAddresses))
	for i, ip := range c.IPAddresses {
		out[i] = ip.String()
	}
	return out
}

func dedupe(xs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, x := range xs {
		if x != "" && !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}

// canonicalIP is how an IP SAN prints (e.g. "::1"); other names unchanged.
func canonicalIP(h string) string {
	if ip := net.ParseIP(h); ip != nil {
		return ip.String()
	}
	return h
}
