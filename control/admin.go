package control

import (
	"context"
	"path/filepath"
	"strings"
	"time"

	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/internal/profile"
	"github.com/tollgate-db/tollgate/schemas"
)

// AdminCertTTL is the lifetime of the local admin identity's cert; it is
// renewed at start when less than a third is left.
const AdminCertTTL = 30 * 24 * time.Hour

// AdminDir is the local admin identity's directory in a data dir.
func AdminDir(dataDir string) string { return filepath.Join(dataDir, "admin") }

// EnsureAdminIdentity writes (or renews) the local admin identity under
// <data-dir>/admin for control at proxy, so tollctl on this host works with
// no login.
func (s *Service) EnsureAdminIdentity(ctx context.Context, proxy string) (*profile.Profile, error) {
	dir := AdminDir(s.cfg.DataDir)
	if p, err := profile.Load(dir); err == nil {
		if c, err := p.Certificate(); err == nil && s.cfg.Clock.Now().Before(c.NotAfter.Add(-AdminCertTTL/3)) && p.Proxy == proxy {
			return p, nil
		}
	}
	iss, err := s.pki.issue(ctx, pki.Request{Kind: schemas.CertKindUser, CommonName: AdminUser, TTL: AdminCertTTL},
		recipient{who: AdminUser, actor: AdminUser})
	if err != nil {
		return nil, err
	}
	hostCAs := s.trusted(schemas.CAHost)
	st, _ := s.Cluster().Status(Caller{Kind: CallerUser, Name: AdminUser})
	p := &profile.Profile{Dir: dir, Proxy: proxy, User: AdminUser, Cluster: st.Cluster, CAPin: st.CAPin,
		CertPEM: []byte(iss.certPEM), KeyPEM: []byte(iss.keyPEM), HostCAPEM: []byte(strings.Join(hostCAs, ""))}
	if err := p.Save(); err != nil {
		return nil, err
	}
	return p, nil
}
