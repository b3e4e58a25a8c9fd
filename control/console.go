package control

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"time"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/projections"
)

// sealConsole is the sealing purpose of a web console session.
const sealConsole = "console-session"

// ConsoleSession is a web console login: who, until when, and the token
// every change must carry (CSRF).
type ConsoleSession struct {
	User    string    `json:"u"`
	Expires time.Time `json:"e"`
	CSRF    string    `json:"c"`
}

// ConsoleLogin checks a password (and one-time code) as Login does and
// returns a console session, sealed (any control of the cluster opens
// it) to be kept in an HttpOnly cookie. It lasts as a user cert would.
func (au Auth) ConsoleLogin(ctx context.Context, req wire.Login, remote string) (string, ConsoleSession, error) {
	s := au.s
	if err := au.checkLogin(ctx, req, remote); err != nil {
		return "", ConsoleSession{}, err
	}
	token, cs, err := s.consoleSession(ctx, req.User)
	if err != nil {
		return "", ConsoleSession{}, err
	}
	s.loginAudit(ctx, req.User, "password", remote, true, "")
	return token, cs, nil
}

// FinishConsole finishes a web console login through single sign-on
// (SSO.Finish's checks) with a console session instead of a cert; a
// login that needs a one-time code answers MFARequired and its Pending
// (finished with it and the code).
func (o SSO) FinishConsole(ctx context.Context, req wire.SSOFinish, remote string) (string, ConsoleSession, wire.SSOLogin, error) {
	s := o.s
	v, pending, err := o.check(ctx, req, remote)
	if err != nil || pending.MFARequired {
		return "", ConsoleSession{}, pending, err
	}
	token, cs, err := s.consoleSession(ctx, v.User)
	if err != nil {
		return "", ConsoleSession{}, wire.SSOLogin{}, err
	}
	s.ssoAudit(ctx, v, remote, true, "")
	return token, cs, wire.SSOLogin{User: v.User}, nil
}

// consoleSession seals a console session of user, lasting as a user cert
// would.
func (s *Service) consoleSession(ctx context.Context, user string) (string, ConsoleSession, error) {
	var ttl time.Duration
	s.View(func(st *projections.State) {
		if u, ok := st.Users[user]; ok {
			ttl = sessionTTL(st, u.Roles, 0)
		}
	})
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", ConsoleSession{}, err
	}
	cs := ConsoleSession{User: user, Expires: s.cfg.Clock.Now().Add(ttl).UTC(), CSRF: base64.RawURLEncoding.EncodeToString(b)}
	sealer, err := s.sealer(ctx)
	if err != nil {
		return "", ConsoleSession{}, err
	}
	token, err := sealer.Seal(sealConsole, cs.Expires, cs)
	if err != nil {
		return "", ConsoleSession{}, err
	}
	return token, cs, nil
}

// ConsoleCaller opens a console session token: the caller it speaks for
// (who must still exist and not be locked) and the session.
func (au Auth) ConsoleCaller(ctx context.Context, token string) (Caller, ConsoleSession, error) {
	s := au.s
	sealer, err := s.sealer(ctx)
	if err != nil {
		return Caller{}, ConsoleSession{}, err
	}
	var cs ConsoleSession
	if err := sealer.Open(sealConsole, token, s.cfg.Clock.Now(), &cs); err != nil {
		return Caller{}, ConsoleSession{}, unauthorizedf("your console session ended: log in again")
	}
	var exists bool
	s.View(func(st *projections.State) { _, exists = st.Users[cs.User] })
	if !exists {
		return Caller{}, ConsoleSession{}, unauthorizedf("user %s no longer exists", cs.User)
	}
	if err := s.userLockedOut(cs.User); err != nil {
		return Caller{}, ConsoleSession{}, err
	}
	return Caller{Kind: CallerUser, Name: cs.User, NotAfter: cs.Expires}, cs, nil
}
