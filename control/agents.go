package control

import (
	"context"
	"net"
	"slices"
	"strings"
	"time"

	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/control/secret"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// Agents are the joined agents: joining with a token, listing them and
// renewing their host certs.
type Agents struct{ s *Service }

// Agents returns the service's agents.
func (s *Service) Agents() Agents { return Agents{s} }

// NATSInProcess is the NATS URL handed to agents when the embedded server
// has no network listener: only an agent in the same process can use it.
const NATSInProcess = "in-process"

// HostCertTTL is the lifetime of an agent's host cert.
const HostCertTTL = 30 * 24 * time.Hour

// Join joins an agent that reaches control over the network (remote is
// its address, for the log): it consumes a join token and issues the agent
// a host cert plus what it needs to reach the event log. The token is
// consumed with an expectation on its subject, so a single-use token joins
// exactly one agent even when two race. When control cannot serve an
// agent on another host (its embedded NATS has no listener for agents),
// the join is refused before the token is looked at: nothing is spent and
// the agent stores no identity it could not use.
func (as Agents) Join(ctx context.Context, req wire.Join, remote string) (wire.Joined, error) {
	s := as.s
	if s.cfg.NATSURL == NATSInProcess {
		s.log.Warn().Str("hostname", req.Hostname).Str("remote", remote).Msg("agent join refused: no NATS listener for agents on other hosts")
		return wire.Joined{}, &Error{Code: CodeUnavailable,
			Message: "this control cannot serve an agent on another host: its embedded NATS has no listener for agents (nats.listen_addr: none). " +
				"Remove that setting (the default listens on control's listen host, port 7422) or use an external NATS (nats.url), " +
				"restart control, then start the agent again; its join token was not used"}
	}
	return s.join(ctx, req, remote)
}

// JoinLocal joins an agent running in control's own process: it reaches
// the event log in process, so any NATS setup serves it.
func (as Agents) JoinLocal(ctx context.Context, req wire.Join) (wire.Joined, error) {
	return as.s.join(ctx, req, "local")
}

func (s *Service) join(ctx context.Context, req wire.Join, remote string) (wire.Joined, error) {
	if req.Hostname == "" {
		return wire.Joined{}, invalidf("hostname is required")
	}
	pub, err := parsePublicKey(req.PublicKeyPEM)
	if err != nil {
		return wire.Joined{}, err
	}
	now := s.cfg.Clock.Now().UTC()
	id := req.Hostname + "-" + s.builder.IDs.NewID(now)[:10]
	var hash string
	_, err = s.change(ctx, "agent:"+id, eventlog.KindToken, secret.HashToken(req.Token), schemas.TypeTokenConsumed, func(st *projections.State) (any, error) {
		t, err := tokenUsable(st, req.Token, now)
		if err != nil {
			return nil, err
		}
		hash = t.Hash
		return schemas.TokenConsumed{Hash: t.Hash, AgentID: id}, nil
	})
	if err != nil {
		s.log.Warn().Str("hostname", req.Hostname).Str("remote", remote).Str("reason", AsError(err).Message).Msg("agent join refused")
		return wire.Joined{}, err
	}
	hosts := []string{req.Hostname}
	if req.PublicAddr != "" {
		if h, _, err := net.SplitHostPort(req.PublicAddr); err == nil && h != req.Hostname {
			hosts = append(hosts, h)
		}
	}
	iss, err := s.pki.issueHost(ctx, id, hosts, pub, HostCertTTL, "agent:"+id)
	if err != nil {
		return wire.Joined{}, err
	}
	agent := schemas.Agent{ID: id, Hostname: req.Hostname, PublicAddr: req.PublicAddr, Resources: req.Resources,
		HostCertKeyID: iss.keyID, HostCertPEM: iss.certPEM, Version: req.Version}
	if _, err := s.change(ctx, "agent:"+id, eventlog.KindAgent, id, schemas.TypeAgentJoined, func(*projections.State) (any, error) {
		return schemas.AgentJoined{Agent: agent, TokenHash: hash, CertSerial: iss.serial}, nil
	}); err != nil {
		return wire.Joined{}, err
	}
	s.log.Info().Str("agent", id).Str("remote", remote).Msg("agent joined")
	out := wire.Joined{AgentID: id, CertPEM: iss.certPEM, NATSURL: s.cfg.NATSURL}
	if s.cfg.NATSURLFor != nil && req.ControlHost != "" {
		out.NATSURL = s.cfg.NATSURLFor(req.ControlHost)
	}
	s.View(func(st *projections.State) {
		out.Cluster = st.Cluster.Name
		for t, dst := range map[string]*[]string{schemas.CAHost: &out.HostCAPEM, schemas.CAUser: &out.UserCAPEM, schemas.CADB: &out.DBCAPEM} {
			if ca, ok := st.CAs[t]; ok {
				*dst = append(*dst, ca.Trusted...)
			}
		}
	})
	return out, nil
}

// List lists the joined agents, sorted by id, as the projection has
// them (wire.Agent says what each field means). It needs the cluster read
// right (as tollctl status).
func (as Agents) List(c Caller) ([]wire.Agent, error) {
	s := as.s
	var (
		out []wire.Agent
		err error
	)
	s.View(func(st *projections.State) {
		if err = authorizeIn(st, c, schemas.ResourceCluster, schemas.VerbRead); err != nil {
			return
		}
		stale := map[string]bool{}
		for _, id := range staleAgentsIn(st, schemas.CAHost) {
			stale[id] = true
		}
		dbs := map[string][]string{}
		for _, d := range st.Databases {
			if d.AgentID != "" {
				dbs[d.AgentID] = append(dbs[d.AgentID], d.Name)
			}
		}
		for _, a := range st.Agents {
			w := wire.Agent{ID: a.ID, Hostname: a.Hostname, PublicAddr: a.PublicAddr, Version: a.Version, JoinedAt: a.JoinedAt,
				LastSeen: a.LastSeen, LastEvent: a.LastEvent, OldHostKey: stale[a.ID], Databases: dbs[a.ID]}
			if cert, perr := pki.ParseCertPEM([]byte(a.HostCertPEM)); perr == nil {
				w.HostCertNotAfter = cert.NotAfter.UTC()
			}
			slices.Sort(w.Databases)
			out = append(out, w)
		}
	})
	slices.SortFunc(out, func(a, b wire.Agent) int { return strings.Compare(a.ID, b.ID) })
	return out, err
}
