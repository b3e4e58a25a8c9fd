package gateway

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"time"

	"github.com/tollgate-db/tollgate/agent/join"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// DefaultIdentityCheck is how often the agent checks its host cert and
// host CA trust against its projection (CA events check at once).
const DefaultIdentityCheck = time.Minute

// renewalReason tells why cert needs renewing now, or "" when it does not:
// less than a third of its lifetime is left, or the host CA signs host
// certs with another key than cert's issuer in update_servers or standby
// (a rotation moved host certs to the new key, or was rolled back).
func renewalReason(cert *x509.Certificate, ca *projections.CA, now time.Time) string {
	life := cert.NotAfter.Sub(cert.NotBefore)
	if cert.NotAfter.Sub(now) < life/3 {
		return "less than a third of its lifetime left"
	}
	if ca == nil || ca.Phase == schemas.PhaseInit || ca.Phase == schemas.PhaseUpdateClients {
		return ""
	}
	block, _ := pem.Decode([]byte(ca.SigningKey().CertPEM))
	if block == nil {
		return ""
	}
	signer, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return ""
	}
	if cert.CheckSignatureFrom(signer) != nil {
		return "the host CA signs with a new key"
	}
	return ""
}

// pokeIdentity asks maintainIdentity to check now.
func (g *Gateway) pokeIdentity() {
	select {
	case g.identityCh <- struct{}{}:
	default:
	}
}

// maintainIdentity keeps the agent's host CA trust equal to the host CA's
// trusted set in the projection (persisted in the identity dir) and renews
// the host cert when renewalReason says so, until ctx ends.
func (g *Gateway) maintainIdentity(ctx context.Context) {
	t := time.NewTicker(g.opt.IdentityCheck)
	defer t.Stop()
	for {
		g.checkIdentity(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-g.identityCh:
		}
	}
}

func (g *Gateway) checkIdentity(ctx context.Context) {
	var (
		ca      *projections.CA
		trusted []string
	)
	g.state.view(func(st *projections.State) {
		if c, ok := st.CAs[schemas.CAHost]; ok {
			cp := *c
			ca, trusted = &cp, append([]string(nil), c.Trusted...)
		}
	})
	if changed, err := g.identity.SetHostCA(trusted); err != nil {
		g.log.Error().Err(err).Msg("store the host CA bundle")
	} else if changed {
		g.log.Info().Int("certs", len(trusted)).Msg("host CA trust follows the control state")
	}
	cert := g.identity.Certificate()
	reason := renewalReason(cert.Leaf, ca, g.opt.Now())
	if reason == "" {
		return
	}
	r, ok := g.deps.Control.(join.Renewer)
	if !ok {
		return
	}
	res, err := g.identity.Renew(ctx, r)
	if err != nil {
		g.log.Error().Err(err).Str("reason", reason).Msg("renew the agent host cert (retried)")
		return
	}
	g.creds.cert.Store(g.identity.Certificate())
	g.log.Info().Str("reason", reason).Str("serial", res.Serial).Time("not_after", res.NotAfter).Msg("renewed the agent host cert")
}

// HostCertificate is the agent's current host cert.
func (g *Gateway) HostCertificate() *x509.Certificate { return g.identity.Certificate().Leaf }
