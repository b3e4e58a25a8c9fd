package control

import (
	"context"
	"crypto/tls"
	"crypto/x509"

	"github.com/tollgate-db/tollgate/projections"
)

// NATSTLSConfig is the TLS config of the embedded NATS listener for
// agents: control's host cert (renewed like the API's, see
// CertificateSource), and client certs required and verified against the
// host CA's trusted bundle as it is at each handshake (so it follows a
// rotation). first is the cert ServerCertificate returned.
func (s *Service) NATSTLSConfig(ctx context.Context, first tls.Certificate) *tls.Config {
	get := s.CertificateSource(ctx, first)
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			_, host := s.pools()
			return &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: get, ClientCAs: host,
				ClientAuth: tls.RequireAndVerifyClientCert}, nil
		},
	}
}

// AgentOfCert names the joined agent a client cert belongs to: the cert
// must chain to the host CA's trusted bundle for client auth, and its
// common name must be an agent in the projection (control's own cert,
// CN "control", is not an agent). Agents join at run time, so this is
// asked per connection.
func (s *Service) AgentOfCert(cert *x509.Certificate) (string, error) {
	_, host := s.pools()
	if _, err := cert.Verify(x509.VerifyOptions{Roots: host, CurrentTime: s.cfg.Clock.Now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
		return "", unauthorizedf("not a host cert of this cluster: %v", err)
	}
	id := cert.Subject.CommonName
	var ok bool
	s.View(func(st *projections.State) { _, ok = st.Agents[id] })
	if !ok || id == Source {
		return "", unauthorizedf("%q is not a joined agent", id)
	}
	return id, nil
}
