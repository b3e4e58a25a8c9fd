package control

import (
	"context"
	"strings"
	"time"

	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// MaxSignTTL bounds auth sign certificates (about 5 years).
const MaxSignTTL = 5 * 365 * 24 * time.Hour

// Status describes the cluster and its CAs.
func (s *Service) Status(c Caller) (wire.Status, error) {
	var (
		out wire.Status
		err error
	)
	s.View(func(st *projections.State) {
		if err = authorizeIn(st, c, schemas.ResourceCluster, schemas.VerbRead); err != nil {
			return
		}
		out = wire.Status{Cluster: st.Cluster.Name, Version: st.Cluster.Version, Users: len(st.Users), Roles: len(st.Roles),
			Agents: len(st.Agents), DBs: len(st.Databases), LastSeq: st.LastSeq}
		for _, t := range CATypes {
			ca, ok := st.CAs[t]
			if !ok {
				continue
			}
			pin, perr := pki.Pin([]byte(ca.Active.CertPEM))
			if perr != nil {
				err = perr
				return
			}
			out.CAs = append(out.CAs, wire.CAInfo{Type: t, KeyAlg: ca.Active.KeyAlg, Pin: pin, Phase: ca.Phase})
			if t == schemas.CAHost {
				out.CAPin = pin
			}
		}
	})
	return out, err
}

// Ping is the unauthenticated cluster description a new client pins.
func (s *Service) Ping() wire.Ping {
	var out wire.Ping
	s.View(func(st *projections.State) {
		out = wire.Ping{Cluster: st.Cluster.Name, Version: st.Cluster.Version}
		if ca, ok := st.CAs[schemas.CAHost]; ok {
			out.HostCAPEM = append(out.HostCAPEM, ca.Trusted...)
		}
	})
	return out
}

// Whoami describes the caller.
func (s *Service) Whoami(c Caller) (wire.Whoami, error) {
	out := wire.Whoami{Kind: c.Kind, Name: c.Name, NotAfter: c.NotAfter}
	var err error
	s.View(func(st *projections.State) {
		out.Cluster = st.Cluster.Name
		if c.Kind != CallerUser {
			return
		}
		u, ok := st.Users[c.Name]
		if !ok {
			err = unauthorizedf("user %s no longer exists; log in again", c.Name)
			return
		}
		out.Roles, out.Traits = u.Roles, u.Traits
	})
	return out, err
}

// normalizeCAType accepts the CLI spellings (db-client) of CA types.
func normalizeCAType(t string) (string, error) {
	t = strings.ReplaceAll(strings.ToLower(t), "-", "_")
	for _, k := range CATypes {
		if k == t {
			return t, nil
		}
	}
	return "", invalidf("CA type %q: use user, host, db or db-client", t)
}

// Export returns the PEM of every cert the CA trusts now.
func (s *Service) Export(c Caller, caType string) ([]string, error) {
	t, err := normalizeCAType(caType)
	if err != nil {
		return nil, err
	}
	var out []string
	s.View(func(st *projections.State) {
		if err = authorizeIn(st, c, schemas.ResourceCA, schemas.VerbRead); err != nil {
			return
		}
		ca, ok := st.CAs[t]
		if !ok {
			err = notFoundf("CA %s does not exist yet", t)
			return
		}
		out = append(out, ca.Trusted...)
	})
	return out, err
}

func (s *Service) trusted(caType string) []string {
	var out []string
	s.View(func(st *projections.State) {
		if ca, ok := st.CAs[caType]; ok {
			out = append(out, ca.Trusted...)
		}
	})
	return out
}

// Sign makes database server certs (auth sign); the keys are generated here
// and returned over the mTLS API, never stored or logged.
func (s *Service) Sign(ctx context.Context, c Caller, req wire.SignRequest) (wire.Signed, error) {
	if err := s.Authorize(c, schemas.ResourceCert, schemas.VerbSign); err != nil {
		return wire.Signed{}, err
	}
	if len(req.Hosts) == 0 {
		return wire.Signed{}, invalidf("--host is required: the names and IPs clients use to reach the database")
	}
	if req.TTL <= 0 || req.TTL > MaxSignTTL {
		return wire.Signed{}, invalidf("ttl %s: use a positive duration up to %s", req.TTL, MaxSignTTL)
	}
	switch req.Format {
	case "cockroachdb", "db", "tls":
	default:
		return wire.Signed{}, invalidf("format %q: use cockroachdb, db or tls", req.Format)
	}
	out, err := s.pki.signDBServer(ctx, c.Actor(), req.Format, req.Hosts, req.TTL)
	if err != nil {
		return wire.Signed{}, err
	}
	return wire.Signed{CertPEM: string(out.CertPEM), KeyPEM: string(out.KeyPEM), DBCAPEM: string(out.DBCA),
		ClientCAPEM: string(out.ClientCA)}, nil
}

// DBCert issues the caller a user cert carrying a database route, for
// toll db login. The route is checked against the projection now; the
// agent checks again at each connection.
func (s *Service) DBCert(ctx context.Context, c Caller, req wire.DBCertRequest) (wire.Cert, error) {
	if c.Kind != CallerUser {
		return wire.Cert{}, forbiddenf("database certs are for users")
	}
	var err error
	s.View(func(st *projections.State) {
		if _, ok := st.Databases[req.Database]; !ok {
			err = notFoundf("database %s not found (toll db ls)", req.Database)
		}
	})
	if err != nil {
		return wire.Cert{}, err
	}
	ttl := time.Until(c.NotAfter)
	if ttl <= 0 {
		return wire.Cert{}, unauthorizedf("your certificate expired; toll login again")
	}
	cert, err := s.issueUserCert(ctx, c.Name, ttl, req.PublicKeyPEM, req.Database)
	if err != nil {
		return wire.Cert{}, err
	}
	cert.CAPEM = s.trusted(schemas.CAHost)
	return cert, nil
}

// DBClientCert issues an agent a per-session db_client cert (CN = db user)
// expiring no later than the user's own cert.
func (s *Service) DBClientCert(ctx context.Context, c Caller, req wire.DBClientCertRequest) (wire.Cert, error) {
	if c.Kind != CallerHost {
		return wire.Cert{}, forbiddenf("db_client certs are issued to agents only")
	}
	if req.DBUser == "" {
		return wire.Cert{}, invalidf("db_user is required")
	}
	now := s.cfg.Clock.Now()
	if !req.NotAfter.After(now) {
		return wire.Cert{}, invalidf("not_after %s is not in the future", req.NotAfter.Format(time.RFC3339))
	}
	var known bool
	s.View(func(st *projections.State) { _, known = st.Agents[c.Name] })
	if !known && c.Name != Source {
		return wire.Cert{}, &Error{Code: CodeForbidden, Message: "agent " + c.Name + " is not joined"}
	}
	iss, err := s.pki.issueDBClient(ctx, c.Actor(), req, now)
	if err != nil {
		return wire.Cert{}, err
	}
	return wire.Cert{CertPEM: iss.certPEM, Serial: iss.serial, NotAfter: iss.notAfter}, nil
}

// TrustedCAs returns the public certs a CA trusts now; no authentication is
// needed (CA certs are public), so agents and new clients can fetch them.
func (s *Service) TrustedCAs(caType string) ([]string, error) {
	t, err := normalizeCAType(caType)
	if err != nil {
		return nil, err
	}
	out := s.trusted(t)
	if len(out) == 0 {
		return nil, notFoundf("CA %s does not exist yet", t)
	}
	return out, nil
}
