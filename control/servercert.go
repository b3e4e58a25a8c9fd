package control

import (
	"context"
	"crypto/tls"
	"time"

	"github.com/tollgate-db/tollgate/schemas"
)

// ServerCertTTL is the lifetime of control's own HTTPS host cert; it is
// made afresh at every start.
const ServerCertTTL = 90 * 24 * time.Hour

// ServerCertificate issues control's HTTPS host cert (host CA, CN
// "control", the configured Hosts as SANs) for a fresh key kept only in
// memory.
func (s *Service) ServerCertificate(ctx context.Context) (tls.Certificate, error) {
	alg := ""
	if s.cfg.KeyAlg != nil {
		alg = s.cfg.KeyAlg(schemas.CAHost)
	}
	key, keyPEMStr, err := keyPEM(alg)
	if err != nil {
		return tls.Certificate{}, err
	}
	hosts := append([]string{"localhost", "127.0.0.1", "::1"}, s.cfg.Hosts...)
	iss, err := s.pki.issueHost(ctx, Source, dedupe(hosts), key.Public(), ServerCertTTL, Source)
	if err != nil {
		return tls.Certificate{}, err
	}
	chain := iss.certPEM
	return tls.X509KeyPair([]byte(chain), []byte(keyPEMStr))
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
