package control

import (
	"context"
	"time"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// Certs issues the certificates that are not logins: database server
// certs (auth sign), a user's database route cert and an agent's
// per-session db_client certs.
type Certs struct{ s *Service }

// Certs returns the service's certs.
func (s *Service) Certs() Certs { return Certs{s} }

// MaxSignTTL bounds auth sign certificates (about 5 years).
const MaxSignTTL = 5 * 365 * 24 * time.Hour

// Sign makes database server certs (auth sign); the keys are generated here
// and returned over the mTLS API, never stored or logged.
func (cs Certs) Sign(ctx context.Context, c Caller, req wire.SignRequest) (wire.Signed, error) {
	s := cs.s
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

// DB issues the caller a user cert carrying a database route, for
// toll db login. The route is checked against the projection now; the
// agent checks again at each connection.
func (cs Certs) DB(ctx context.Context, c Caller, req wire.DBCertRequest) (wire.Cert, error) {
	s := cs.s
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
	var mfaUntil time.Time
	if per, err := s.sessionFactor(ctx, c, req.OTP); err != nil {
		return wire.Cert{}, err
	} else if per {
		ttl, mfaUntil = min(ttl, SessionMFACertTTL), c.NotAfter
	}
	cert, err := s.issueUserCert(ctx, c.Name, ttl, req.PublicKeyPEM, req.Database, mfaUntil)
	if err != nil {
		return wire.Cert{}, err
	}
	cert.CAPEM = s.trusted(schemas.CAHost)
	return cert, nil
}

// DBClient issues an agent a per-session db_client cert (CN = db user)
// expiring no later than the user's own cert.
func (cs Certs) DBClient(ctx context.Context, c Caller, req wire.DBClientCertRequest) (wire.Cert, error) {
	s := cs.s
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
