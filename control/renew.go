package control

import (
	"context"
	"net"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// Renew issues a joined agent, authenticated by its current host
// cert (Caller of kind host), a new host cert for the same agent id and
// hosts, signed by the key that signs host certs now, valid HostCertTTL,
// and recorded as cert.issued; agent.updated then records the signing key
// (host_cert_key_id), which completing a host CA rotation checks, and the
// cert itself (host_cert_pem), which audit verify checks the agent's
// checkpoints with. The
// answer carries the host CA's trusted bundle.
func (as Agents) Renew(ctx context.Context, c Caller, req wire.AgentRenew) (wire.Cert, error) {
	s := as.s
	if c.Kind != CallerHost {
		return wire.Cert{}, forbiddenf("host certs are renewed for agents only")
	}
	pub, err := parsePublicKey(req.PublicKeyPEM)
	if err != nil {
		return wire.Cert{}, err
	}
	var agent *projections.Agent
	s.View(func(st *projections.State) { agent = st.Agents[c.Name] })
	if agent == nil {
		return wire.Cert{}, &Error{Code: CodeForbidden, Message: "agent " + c.Name + " is not joined"}
	}
	hosts := []string{agent.Hostname}
	if agent.PublicAddr != "" {
		if h, _, err := net.SplitHostPort(agent.PublicAddr); err == nil && h != agent.Hostname {
			hosts = append(hosts, h)
		}
	}
	iss, err := s.pki.issueHost(ctx, agent.ID, hosts, pub, HostCertTTL, c.Actor())
	if err != nil {
		return wire.Cert{}, err
	}
	if _, err := s.change(ctx, c.Actor(), eventlog.KindAgent, agent.ID, schemas.TypeAgentUpdated, func(st *projections.State) (any, error) {
		cur, ok := st.Agents[agent.ID]
		if !ok {
			return nil, forbiddenf("agent %s is not joined", agent.ID)
		}
		a := cur.Agent
		a.HostCertKeyID, a.HostCertPEM = iss.keyID, iss.certPEM
		if req.Version != "" {
			a.Version = req.Version
		}
		return a, nil
	}); err != nil {
		return wire.Cert{}, err
	}
	s.log.Info().Str("agent", agent.ID).Str("serial", iss.serial).Str("key_id", iss.keyID).Msg("renewed agent host cert")
	return wire.Cert{CertPEM: iss.certPEM, Serial: iss.serial, NotAfter: iss.notAfter, HostCAPEM: s.trusted(schemas.CAHost)}, nil
}
