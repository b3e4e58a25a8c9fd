package gateway

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"time"

	"github.com/tollgate-db/tollgate/agent/config"
	"github.com/tollgate-db/tollgate/agent/frontdoor"
	"github.com/tollgate-db/tollgate/agent/upstream"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/projections/access"
	"github.com/tollgate-db/tollgate/schemas"
)

// catalog serves the static databases of the config and the dynamic ones
// whose labels match its resource selectors.
type catalog struct{ g *Gateway }

func (c catalog) Lookup(name string) (frontdoor.Database, bool) {
	rc := c.g.runtime()
	if d, ok := rc.cfg.DBService.Database(name); ok {
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
		if d.AgentID == "" && !matches(rc.cfg.DBService.Resources, d.Labels) {
			return
		}
		out = frontdoor.Database{Name: d.Name, Protocol: d.Protocol, Labels: d.Labels}
		found = true
	})
	return out, found
}

func matches(ms []config.ResourceMatcher, labels map[string]string) bool {
	for _, m := range ms {
		if m.Matches(labels) {
			return true
		}
	}
	return false
}

// target says how to reach database name: address and TLS verification.
func (g *Gateway) target(name string) (upstream.Target, error) {
	rc := g.runtime()
	if d, ok := rc.cfg.DBService.Database(name); ok {
		t := upstream.Target{Addr: d.URI, Mode: d.TLS.Mode, ServerName: d.TLS.ServerName}
		if d.TLS.CACertFile != "" {
			t.Roots = rc.caFiles[d.TLS.CACertFile]
		} else {
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

// loadCAFiles reads every ca_cert_file of the static databases.
func loadCAFiles(f config.File) (map[string]*x509.CertPool, error) {
	out := map[string]*x509.CertPool{}
	for _, d := range f.DBService.Databases {
		p := d.TLS.CACertFile
		if p == "" || out[p] != nil {
			continue
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("database %s: ca_cert_file: %w", d.Name, err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("database %s: ca_cert_file %s holds no PEM certificate", d.Name, p)
		}
		out[p] = pool
	}
	return out, nil
}

// registerStatic registers the static databases with control.
func (g *Gateway) registerStatic(ctx context.Context, f config.File) error {
	for _, d := range f.DBService.Databases {
		sd := schemas.Database{Name: d.Name, Description: d.Description, Protocol: d.Protocol, URI: d.URI, Labels: d.Labels,
			AgentID: g.id.AgentID, PublicAddr: g.publicAddr(f)}
		if d.TLS.Mode != "" || d.TLS.ServerName != "" {
			sd.TLS = &schemas.DatabaseTLS{Mode: d.TLS.Mode, ServerName: d.TLS.ServerName}
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
		id, ok := access.IdentityFor(st, req.Identity.User)
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
		out.Reason = d.Reason
		out.AllowReplication = access.ReplicationAllowed(st, id.Roles)
		out.Expires = req.Identity.NotAfter
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
