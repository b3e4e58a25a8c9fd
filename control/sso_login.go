package control

import (
	"context"
	"errors"
	"net/url"
	"reflect"
	"slices"
	"time"

	"github.com/tollgate-db/tollgate/control/sso"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// How long a login may take: from begin to the browser's return, and from
// an answer asking a one-time code to that code.
const (
	SSOFlowTTL    = 10 * time.Minute
	SSOPendingTTL = 5 * time.Minute
)

// verifiedLogin is a login the provider vouched for, waiting for its
// user's one-time code (sealed in SSOLogin.Pending).
type verifiedLogin struct {
	Connector string `json:"c"`
	User      string `json:"u"`
}

// Begin starts a login through a connector: the provider's authorization
// URL, with the flow sealed in its state.
func (o SSO) Begin(ctx context.Context, req wire.SSOBegin) (wire.SSOAuth, error) {
	if err := checkRedirect(req.RedirectURL); err != nil {
		return wire.SSOAuth{}, err
	}
	return o.begin(ctx, req)
}

// ConsoleSSOPath is the web console's single sign-on callback: a
// provider's client for the console registers https://CONTROL/ + it.
const ConsoleSSOPath = "/web/sso/callback"

// BeginConsole starts a web console login through a connector, coming
// back to control's own console callback (an https URL ending in
// ConsoleSSOPath, registered at the provider).
func (o SSO) BeginConsole(ctx context.Context, connector, redirect string) (wire.SSOAuth, error) {
	u, err := url.Parse(redirect)
	if err != nil || u.Scheme != "https" || u.Path != ConsoleSSOPath || u.RawQuery != "" || u.User != nil {
		return wire.SSOAuth{}, invalidf("the console's redirect %q is not https://HOST%s", redirect, ConsoleSSOPath)
	}
	return o.begin(ctx, wire.SSOBegin{Connector: connector, RedirectURL: redirect})
}

// Names lists the connectors' names (the console's login page offers
// them; they are no secret).
func (o SSO) Names() []string {
	var names []string
	o.s.View(func(st *projections.State) {
		for n := range st.SSOConnectors {
			names = append(names, n)
		}
	})
	slices.Sort(names)
	return names
}

func (o SSO) begin(ctx context.Context, req wire.SSOBegin) (wire.SSOAuth, error) {
	s := o.s
	var (
		conn schemas.OIDCConnector
		err  error
	)
	s.View(func(st *projections.State) { conn, err = pickConnector(st, req.Connector) })
	if err != nil {
		return wire.SSOAuth{}, err
	}
	secret, err := s.connectorSecret(ctx, conn)
	if err != nil {
		return wire.SSOAuth{}, err
	}
	flow, err := sso.NewFlow(conn.Name, req.RedirectURL)
	if err != nil {
		return wire.SSOAuth{}, err
	}
	p, err := sso.Discover(ctx, conn, secret, flow)
	if err != nil {
		return wire.SSOAuth{}, &Error{Code: CodeUnavailable, Message: err.Error(), Err: err}
	}
	sealer, err := s.sealer(ctx)
	if err != nil {
		return wire.SSOAuth{}, err
	}
	state, err := sealer.Seal(sealFlow, s.cfg.Clock.Now().Add(SSOFlowTTL), flow)
	if err != nil {
		return wire.SSOAuth{}, err
	}
	return wire.SSOAuth{Connector: conn.Name, URL: p.AuthURL(state), State: state}, nil
}

// Finish finishes a login: the code exchanged and the ID token verified,
// the claims mapped to the user (created or updated as they say), its
// second factor when it has one, then a user cert.
func (o SSO) Finish(ctx context.Context, req wire.SSOFinish, remote string) (wire.SSOLogin, error) {
	s := o.s
	v, pending, err := o.check(ctx, req, remote)
	if err != nil || pending.MFARequired {
		return pending, err
	}
	cert, err := s.issueUserCert(ctx, v.User, req.TTL, req.PublicKeyPEM, "", time.Time{})
	if err != nil {
		s.ssoAudit(ctx, v, remote, false, "certificate not issued")
		return wire.SSOLogin{}, err
	}
	s.ssoAudit(ctx, v, remote, true, "")
	return wire.SSOLogin{Cert: &cert, User: v.User}, nil
}

// check verifies a login up to its second factor: the code exchanged (or
// a pending login opened), the user brought up to date, not locked, its
// one-time code right. A login that needs a code answers MFARequired and
// its sealed Pending.
func (o SSO) check(ctx context.Context, req wire.SSOFinish, remote string) (verifiedLogin, wire.SSOLogin, error) {
	s := o.s
	sealer, err := s.sealer(ctx)
	if err != nil {
		return verifiedLogin{}, wire.SSOLogin{}, err
	}
	now := s.cfg.Clock.Now()
	var v verifiedLogin
	if req.Pending != "" {
		if err := sealer.Open(sealVerified, req.Pending, now, &v); err != nil {
			return v, wire.SSOLogin{}, unauthorizedf("this login waited too long for its one-time code, or is not one control began: run toll login --auth=oidc again")
		}
	} else {
		if v, err = o.verify(ctx, sealer, req, remote); err != nil {
			return v, wire.SSOLogin{}, err
		}
	}
	fail := func(reason string) { s.ssoAudit(ctx, v, remote, false, reason) }
	if until, locked := s.throttle.locked(v.User, now); locked {
		fail("locked out after repeated failures")
		return v, wire.SSOLogin{}, &Error{Code: CodeLocked, Err: ErrLoginThrottled,
			Message: "too many failed logins for " + v.User + "; login is locked until " + until.UTC().Format(time.RFC3339)}
	}
	if err := s.userLockedOut(v.User); err != nil {
		fail("locked")
		return v, wire.SSOLogin{}, err
	}
	if err := s.secondFactor(ctx, v.User, req.OTP); err != nil {
		if errors.Is(err, ErrMFARequired) {
			pending, serr := sealer.Seal(sealVerified, now.Add(SSOPendingTTL), v)
			if serr != nil {
				return v, wire.SSOLogin{}, serr
			}
			return v, wire.SSOLogin{MFARequired: true, Pending: pending, User: v.User}, nil
		}
		fail("wrong or reused one-time code")
		wait := s.throttle.fail(v.User, now)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		return v, wire.SSOLogin{}, err
	}
	s.throttle.ok(v.User)
	return v, wire.SSOLogin{User: v.User}, nil
}

func (s *Service) ssoAudit(ctx context.Context, v verifiedLogin, remote string, ok bool, reason string) {
	user := v.User
	if user == "" {
		user = "(unknown)"
	}
	s.audit.emit(ctx, schemas.TypeAuthLogin, "", user, user, schemas.AuthLogin{
		User: user, Success: ok, Method: "oidc", Connector: v.Connector, Reason: reason, RemoteAddr: remote})
}

// verify opens the flow, exchanges the code and brings the user up to
// date with what the provider says.
func (o SSO) verify(ctx context.Context, sealer *sso.Sealer, req wire.SSOFinish, remote string) (verifiedLogin, error) {
	s := o.s
	var flow sso.Flow
	if err := sealer.Open(sealFlow, req.State, s.cfg.Clock.Now(), &flow); err != nil {
		return verifiedLogin{}, unauthorizedf("this login's state is not one control began, or it is older than %s: run toll login --auth=oidc again", SSOFlowTTL)
	}
	v := verifiedLogin{Connector: flow.Connector}
	var (
		conn schemas.OIDCConnector
		err  error
	)
	s.View(func(st *projections.State) { conn, err = pickConnector(st, flow.Connector) })
	if err != nil {
		return v, err
	}
	secret, err := s.connectorSecret(ctx, conn)
	if err != nil {
		return v, err
	}
	p, err := sso.Discover(ctx, conn, secret, flow)
	if err != nil {
		return v, &Error{Code: CodeUnavailable, Message: err.Error(), Err: err}
	}
	claims, err := p.Exchange(ctx, req.Code)
	if err != nil {
		s.ssoAudit(ctx, v, remote, false, "provider refused the code")
		return v, unauthorizedf("%v", err)
	}
	id, err := sso.Map(conn, claims)
	if err != nil {
		v.User = id.User
		s.ssoAudit(ctx, v, remote, false, err.Error())
		return v, forbiddenf("%v", err)
	}
	v.User = id.User
	if err := s.ssoUser(ctx, conn.Name, id); err != nil {
		s.ssoAudit(ctx, v, remote, false, "user not brought up to date")
		return v, err
	}
	return v, nil
}

// ssoUser creates id's user through connector at its first login, or
// updates its roles and traits when the provider's claims changed them
// (no event when nothing changed). A local user of that name, or one of
// another connector, is not taken over.
func (s *Service) ssoUser(ctx context.Context, connector string, id sso.Identity) error {
	if err := validName("user", id.User); err != nil {
		return err
	}
	actor := "sso:" + connector
	var (
		exists, same bool
	)
	s.View(func(st *projections.State) {
		u, ok := st.Users[id.User]
		exists = ok
		same = ok && u.SSO == connector && slices.Equal(u.Roles, id.Roles) && reflect.DeepEqual(nilIfEmpty(u.Traits), nilIfEmpty(id.Traits))
	})
	if same {
		return nil
	}
	user := schemas.User{Name: id.User, Roles: id.Roles, Traits: id.Traits}
	typ := schemas.TypeUserUpdated
	if !exists {
		typ = schemas.TypeUserCreated
	}
	_, err := s.change(ctx, actor, eventlog.KindUser, id.User, typ, func(st *projections.State) (any, error) {
		if err := checkRoles(st, id.Roles); err != nil {
			return nil, invalidf("connector %s maps %s to roles this cluster lacks: %v", connector, id.User, err)
		}
		u, ok := st.Users[id.User]
		switch {
		case ok != exists:
			return nil, conflictf("user %s changed during the login: log in again", id.User)
		case ok && u.SSO == "":
			return nil, forbiddenf("%s is a local user of this cluster (with a password), not one of connector %s: "+
				"an admin removes the local user (tollctl users rm %s) before it may log in through single sign-on", id.User, connector, id.User)
		case ok && u.SSO != connector:
			return nil, forbiddenf("%s logs in through connector %s, not %s", id.User, u.SSO, connector)
		case ok:
			return user, nil
		}
		return schemas.UserCreated{User: user, SSO: connector}, nil
	})
	return err
}

func nilIfEmpty(m map[string][]string) map[string][]string {
	if len(m) == 0 {
		return nil
	}
	return m
}
