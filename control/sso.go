package control

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"sort"
	"strings"

	"github.com/tollgate-db/tollgate/control/keystore"
	"github.com/tollgate-db/tollgate/control/sso"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// SSO is single sign-on: OIDC connectors (their client secrets in the
// keystore, the rest in the log) and the login through them, which
// creates the user at its first login and recomputes its roles and traits
// from the provider's claims at each (user.created / user.updated, actor
// "sso:NAME").
type SSO struct{ s *Service }

// SSO returns the service's single sign-on.
func (s *Service) SSO() SSO { return SSO{s} }

func ssoSecretName(connector string) string { return "sso/client-secret/" + connector }

// ssoKeyName is the keystore secret every control seals login flows with.
const ssoKeyName = "sso/flow-key"

// Sealing purposes.
const (
	sealFlow     = "sso-flow"     // begin → the browser → finish
	sealVerified = "sso-verified" // a verified login waiting for its one-time code
)

func connectorView(c *projections.SSOConnector) wire.SSOConnectorView {
	return wire.SSOConnectorView{OIDCConnector: c.OIDC, Kind: c.Kind, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
}

// checkConnector says what is wrong with c, in the words of its YAML.
func checkConnector(c schemas.OIDCConnector) error {
	if err := validName("connector", c.Name); err != nil {
		return err
	}
	u, err := url.Parse(c.IssuerURL)
	if err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && loopbackHost(u.Hostname()))) {
		return invalidf("connector %s: spec.issuer_url %q must be an https URL (http only on a loopback address, for tests)", c.Name, c.IssuerURL)
	}
	if c.ClientID == "" {
		return invalidf("connector %s: spec.client_id is empty: the id the provider gave Tollgate's client", c.Name)
	}
	if len(c.ClaimsToRoles) == 0 {
		return invalidf("connector %s: spec.claims_to_roles is empty: nobody could log in (map a claim to roles, e.g. {claim: groups, value: dba, roles: [access]})", c.Name)
	}
	for i, m := range c.ClaimsToRoles {
		if m.Claim == "" || m.Value == "" || len(m.Roles) == 0 {
			return invalidf("connector %s: spec.claims_to_roles[%d] needs claim, value (\"*\" for any) and roles", c.Name, i)
		}
	}
	for k, vs := range c.Traits {
		for _, v := range vs {
			if err := sso.CheckTemplate(v); err != nil {
				return invalidf("connector %s: spec.traits.%s: %v", c.Name, k, err)
			}
		}
	}
	if _, err := sso.HTTPClient(c); err != nil {
		return invalidf("connector %s: spec.ca_pem: %v", c.Name, err)
	}
	return nil
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// Create creates a connector; Update replaces one (an empty secret keeps
// the stored one).
func (o SSO) Create(ctx context.Context, c Caller, conn wire.SSOConnector) (wire.SSOConnectorView, error) {
	return o.save(ctx, c, conn, true)
}

// Update replaces connector name.
func (o SSO) Update(ctx context.Context, c Caller, name string, conn wire.SSOConnector) (wire.SSOConnectorView, error) {
	if conn.Name == "" {
		conn.Name = name
	}
	if conn.Name != name {
		return wire.SSOConnectorView{}, invalidf("the file names connector %s, not %s", conn.Name, name)
	}
	return o.save(ctx, c, conn, false)
}

func (o SSO) save(ctx context.Context, c Caller, in wire.SSOConnector, create bool) (wire.SSOConnectorView, error) {
	s := o.s
	conn := in.OIDCConnector
	conn.HasSecret = in.ClientSecret != ""
	conn.Scopes = sso.Scopes(conn)
	if err := checkConnector(conn); err != nil {
		return wire.SSOConnectorView{}, err
	}
	verb := schemas.VerbCreate
	if !create {
		verb = schemas.VerbUpdate
	}
	var authErr error
	s.View(func(st *projections.State) {
		authErr = authorizeIn(st, c, schemas.ResourceSSOConnector, verb)
		if old, ok := st.SSOConnectors[conn.Name]; ok && !create && in.ClientSecret == "" {
			conn.HasSecret = old.OIDC.HasSecret
		}
	})
	if authErr != nil {
		return wire.SSOConnectorView{}, authErr
	}
	secret := in.ClientSecret
	if secret == "" && conn.HasSecret {
		b, err := s.keys.GetSecret(ctx, ssoSecretName(conn.Name))
		if err != nil {
			return wire.SSOConnectorView{}, fmt.Errorf("read connector secret: %w", err)
		}
		secret = string(b)
	}
	// The provider must answer now: a connector nobody can log in with
	// is refused here rather than at the first login.
	if _, err := sso.Discover(ctx, conn, secret, sso.Flow{Redirect: "http://127.0.0.1/callback"}); err != nil {
		return wire.SSOConnectorView{}, invalidf("connector %s: %v (is spec.issuer_url right, and can control reach it?)", conn.Name, err)
	}
	if in.ClientSecret != "" {
		if err := s.keys.PutSecret(ctx, ssoSecretName(conn.Name), []byte(in.ClientSecret)); err != nil {
			return wire.SSOConnectorView{}, fmt.Errorf("keep connector secret: %w", err)
		}
	}
	typ := schemas.TypeSSOConnectorSaved
	_, err := s.change(ctx, c.Actor(), eventlog.KindSSO, conn.Name, typ, func(st *projections.State) (any, error) {
		if err := authorizeIn(st, c, schemas.ResourceSSOConnector, verb); err != nil {
			return nil, err
		}
		_, exists := st.SSOConnectors[conn.Name]
		if create && exists {
			return nil, existsf("connector %s already exists (tollctl sso update -f FILE replaces it)", conn.Name)
		}
		if !create && !exists {
			return nil, notFoundf("connector %s not found (tollctl sso ls)", conn.Name)
		}
		for _, m := range conn.ClaimsToRoles {
			if err := checkRoles(st, m.Roles); err != nil {
				return nil, invalidf("connector %s: claims_to_roles: %v", conn.Name, err)
			}
		}
		return schemas.SSOConnectorSaved{Kind: schemas.ConnectorOIDC, OIDC: conn}, nil
	})
	if err != nil {
		return wire.SSOConnectorView{}, err
	}
	return o.Get(c, conn.Name)
}

// List lists the connectors.
func (o SSO) List(c Caller) ([]wire.SSOConnectorView, error) {
	var (
		out []wire.SSOConnectorView
		err error
	)
	o.s.View(func(st *projections.State) {
		if err = authorizeIn(st, c, schemas.ResourceSSOConnector, schemas.VerbList); err != nil {
			return
		}
		for _, x := range st.SSOConnectors {
			out = append(out, connectorView(x))
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, err
}

// Get returns one connector.
func (o SSO) Get(c Caller, name string) (wire.SSOConnectorView, error) {
	var (
		out wire.SSOConnectorView
		err error
	)
	o.s.View(func(st *projections.State) {
		if err = authorizeIn(st, c, schemas.ResourceSSOConnector, schemas.VerbRead); err != nil {
			return
		}
		x, ok := st.SSOConnectors[name]
		if !ok {
			err = notFoundf("connector %s not found (tollctl sso ls)", name)
			return
		}
		out = connectorView(x)
	})
	return out, err
}

// Rm deletes a connector and its secret; its users stay (tollctl users rm).
func (o SSO) Rm(ctx context.Context, c Caller, name string) error {
	s := o.s
	_, err := s.change(ctx, c.Actor(), eventlog.KindSSO, name, schemas.TypeSSOConnectorDeleted, func(st *projections.State) (any, error) {
		if err := authorizeIn(st, c, schemas.ResourceSSOConnector, schemas.VerbDelete); err != nil {
			return nil, err
		}
		if _, ok := st.SSOConnectors[name]; !ok {
			return nil, notFoundf("connector %s not found (tollctl sso ls)", name)
		}
		return schemas.SSOConnectorDeleted{Name: name}, nil
	})
	if err != nil {
		return err
	}
	if err := s.keys.DeleteSecret(ctx, ssoSecretName(name)); err != nil && !errors.Is(err, keystore.ErrNotFound) {
		return fmt.Errorf("delete connector secret: %w", err)
	}
	return nil
}

// sealer returns the sealer of login flows, with the key every control
// shares (made by the first login; a control that lost a race to make it
// reads the winner's, so they agree).
func (s *Service) sealer(ctx context.Context) (*sso.Sealer, error) {
	key, err := s.keys.GetSecret(ctx, ssoKeyName)
	if errors.Is(err, keystore.ErrNotFound) {
		key = make([]byte, sso.KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := s.keys.PutSecret(ctx, ssoKeyName, key); err != nil {
			return nil, fmt.Errorf("keep sso key: %w", err)
		}
		key, err = s.keys.GetSecret(ctx, ssoKeyName)
	}
	if err != nil {
		return nil, fmt.Errorf("read sso key: %w", err)
	}
	return sso.NewSealer(key)
}

// pickConnector returns the connector named, or the only one.
func pickConnector(st *projections.State, name string) (schemas.OIDCConnector, error) {
	if name != "" {
		c, ok := st.SSOConnectors[name]
		if !ok {
			return schemas.OIDCConnector{}, notFoundf("no single sign-on connector %s; the cluster has: %s", name, connectorNames(st))
		}
		return c.OIDC, nil
	}
	switch len(st.SSOConnectors) {
	case 0:
		return schemas.OIDCConnector{}, notFoundf("this cluster has no single sign-on connector: an admin creates one with tollctl sso create -f oidc.yaml")
	case 1:
		for _, c := range st.SSOConnectors {
			return c.OIDC, nil
		}
	}
	return schemas.OIDCConnector{}, invalidf("this cluster has several single sign-on connectors: name one with --connector=%s", strings.ReplaceAll(connectorNames(st), ", ", "|"))
}

func connectorNames(st *projections.State) string {
	var names []string
	for n := range st.SSOConnectors {
		names = append(names, n)
	}
	slices.Sort(names)
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// checkRedirect allows only a loopback http redirect with a port: the
// browser comes back to toll on the user's own machine.
func checkRedirect(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Port() == "" || !loopbackHost(u.Hostname()) || u.User != nil || u.Fragment != "" {
		return invalidf("redirect_url %q is not a loopback http URL with a port (toll listens on http://127.0.0.1:PORT/callback)", raw)
	}
	return nil
}

func (s *Service) connectorSecret(ctx context.Context, conn schemas.OIDCConnector) (string, error) {
	if !conn.HasSecret {
		return "", nil
	}
	b, err := s.keys.GetSecret(ctx, ssoSecretName(conn.Name))
	if err != nil {
		return "", fmt.Errorf("read connector secret: %w", err)
	}
	return string(b), nil
}
