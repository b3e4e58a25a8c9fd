package gateway

import (
	"context"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/tollgate-db/tollgate/agent/frontdoor"
	"github.com/tollgate-db/tollgate/agent/upstream"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/projections/access"
	"github.com/tollgate-db/tollgate/schemas"
)

// catalog serves the static databases of the options and the dynamic ones
// whose labels match their resource selectors.
type catalog struct{ g *Gateway }

func (c catalog) Lookup(name string) (frontdoor.Database, bool) {
	rc := c.g.runtime()
	if d, ok := rc.database(name); ok {
		return frontdoor.Database{Name: d.Name, Protocol: d.Protocol, Labels: d.Labels}, true
	}
	var out frontdoor.Database
	found := false
	c.g.state.view(func(st *projections.State) {
		d, ok := st.Databases[name]
		if !ok {
			return
		}
		if d.AgentID != "" && d.AgentID != c.g.id.AgentID {
			return
		}
		if d.AgentID == "" && !rc.selects(d.Labels) {
			return
		}
		out = frontdoor.Database{Name: d.Name, Protocol: d.Protocol, Labels: d.Labels}
		found = true
	})
	return out, found
}

// database returns the static database called name.
func (r *Reloadable) database(name string) (Database, bool) {
	for _, d := range r.Databases {
		if d.Name == name {
			return d, true
		}
	}
	return Database{}, false
}

// selects reports whether a resource selector matches labels.
func (r *Reloadable) selects(labels map[string]string) bool {
	for _, s := range r.Resources {
		if s.Matches(labels) {
			return true
		}
	}
	return false
}

// target says how to reach database name: address and TLS verification.
func (g *Gateway) target(name string) (upstream.Target, error) {
	if d, ok := g.runtime().database(name); ok {
		t := upstream.Target{Addr: d.URI, Mode: d.TLSMode, ServerName: d.ServerName, Roots: d.Roots}
		if t.Roots == nil {
			t.Roots = g.state.pool(schemas.CADB)
		}
		if t.Roots == nil {
			return t, fmt.Errorf("no CA to verify database %s against", name)
		}
		return t, nil
	}
	var (
		t   upstream.Target
		err error
	)
	g.state.view(func(st *projections.State) {
		d, ok := st.Databases[name]
		if !ok {
			err = fmt.Errorf("database %s is no longer registered", name)
			return
		}
		t.Addr = d.URI
		if d.TLS != nil {
			t.Mode, t.ServerName = d.TLS.Mode, d.TLS.ServerName
			if d.TLS.CACertPEM != "" {
				t.Roots = x509.NewCertPool()
				t.Roots.AppendCertsFromPEM([]byte(d.TLS.CACertPEM))
			}
		}
	})
	if err != nil {
		return t, err
	}
	if t.Roots == nil {
		t.Roots = g.state.pool(schemas.CADB)
	}
	if t.Roots == nil {
		return t, fmt.Errorf("no CA to verify database %s against", name)
	}
	return t, nil
}

// registerStatic registers the static databases of r with control.
func (g *Gateway) registerStatic(ctx context.Context, r *Reloadable) error {
	for _, d := range r.Databases {
		sd := schemas.Database{Name: d.Name, Description: d.Description, Protocol: d.Protocol, URI: d.URI, Labels: d.Labels,
			AgentID: g.id.AgentID, PublicAddr: g.publicAddr(r)}
		if d.TLSMode != "" || d.ServerName != "" {
			sd.TLS = &schemas.DatabaseTLS{Mode: d.TLSMode, ServerName: d.ServerName}
		}
		if err := g.deps.Control.RegisterDatabase(ctx, g.id.AgentID, sd); err != nil {
			return fmt.Errorf("register database %s: %w", d.Name, err)
		}
	}
	return nil
}

// authorizer decides over projections/access.
type authorizer struct{ g *Gateway }

func (a authorizer) Authorize(_ context.Context, req frontdoor.Request) (frontdoor.Decision, error) {
	var out frontdoor.Decision
	a.g.state.view(func(st *projections.State) {
		id, ok := access.IdentityFor(st, req.Identity.User, req.Now)
		if !ok {
			out = frontdoor.Decision{Code: schemas.RejectDenied,
				Reason: fmt.Sprintf("Tollgate user %q does not exist (any more)", req.Identity.User)}
			return
		}
		out.Roles = id.Roles
		if l := access.LockFor(st, id, req.Database.Name, a.g.id.AgentID, req.Now); l != nil {
			out.Code, out.Reason = schemas.RejectLocked, lockMessage(l)
			return
		}
		if role, per := access.SessionMFARequired(st, id.Roles); per && req.Identity.MFASessionUntil.IsZero() {
			out.Code, out.Reason, out.DecidedBy = schemas.RejectDenied, "role "+role+
				" requires a second factor for each session: connect with toll db connect, which asks for a code", role
			return
		}
		d := access.Decide(st, id, req.Database.Name, req.DBUser, req.DBName, req.Now)
		if !d.Allowed {
			out.Code, out.Reason = d.Code, d.Reason
			if d.Code == schemas.RejectUnknownDB {
				out.SQLState = "3D000"
			}
			return
		}
		out.Allowed = true
		out.DecidedBy = d.Role
		if d.Grant != nil {
			out.AccessRequest = d.Grant.Request
		}
		out.Reason = d.Reason
		out.AllowReplication = access.ReplicationAllowed(st, id.Roles)
		out.Expires = req.Identity.NotAfter
		if u := req.Identity.MFASessionUntil; !u.IsZero() {
			// A one-minute cert from a one-time code opens a session
			// that lasts as long as the user's own cert.
			out.Expires = u
		}
		if ttl := access.MaxSessionTTL(st, id.Roles, 0); ttl > 0 {
			if e := req.Now.Add(ttl); out.Expires.IsZero() || e.Before(out.Expires) {
				out.Expires = e
			}
		}
	})
	return out, nil
}

func lockMessage(l *projections.Lock) string {
	msg := "access locked by Tollgate"
	if l.Message != "" {
		msg += ": " + l.Message
	}
	if !l.Expires.IsZero() {
		msg += " (until " + l.Expires.UTC().Format(time.RFC3339) + ")"
	}
	return msg
}
