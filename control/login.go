package control

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/tollgate-db/tollgate/control/secret"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// Auth turns a password into a user cert: login (throttled per user after
// failures) and signup with an invite.
type Auth struct{ s *Service }

// Auth returns the service's auth.
func (s *Service) Auth() Auth { return Auth{s} }

// Login throttling: each failed attempt for a user delays the next answer
// by FailureDelay times the failures so far; MaxFailures failures in a row
// lock password login for that user for LockoutFor. A success resets the
// count. The counters live in control's memory, not in the log.
const (
	MaxFailures  = 5
	LockoutFor   = 15 * time.Minute
	FailureDelay = 200 * time.Millisecond
)

type throttle struct {
	mu    sync.Mutex
	fails map[string]int
	until map[string]time.Time
	delay time.Duration
}

func newThrottle(delay time.Duration) *throttle {
	return &throttle{fails: map[string]int{}, until: map[string]time.Time{}, delay: delay}
}

func (t *throttle) locked(user string, now time.Time) (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	u, ok := t.until[user]
	if ok && now.Before(u) {
		return u, true
	}
	return time.Time{}, false
}

// fail records a failure and returns how long to wait before answering.
func (t *throttle) fail(user string, now time.Time) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.fails[user]++
	n := t.fails[user]
	if n >= MaxFailures {
		t.until[user] = now.Add(LockoutFor)
		t.fails[user] = 0
	}
	return time.Duration(n) * t.delay
}

func (t *throttle) ok(user string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.fails, user)
	delete(t.until, user)
}

// state returns user's failures in a row and, while locked at now, until
// when.
func (t *throttle) state(user string, now time.Time) (fails int, until time.Time) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if u, ok := t.until[user]; ok && now.Before(u) {
		until = u
	}
	return t.fails[user], until
}

// clear forgets user's failures and lockout; it returns until when user
// was locked at now (zero if not).
func (t *throttle) clear(user string, now time.Time) time.Time {
	_, until := t.state(user, now)
	t.ok(user)
	return until
}

func (s *Service) loginAudit(ctx context.Context, user, method, remote string, success bool, reason string) {
	s.audit.emit(ctx, schemas.TypeAuthLogin, "", user, user, schemas.AuthLogin{
		User: user, Success: success, Method: method, Reason: reason, RemoteAddr: remote})
}

// Login checks a password and issues a user cert for req.PublicKeyPEM.
func (au Auth) Login(ctx context.Context, req wire.Login, remote string) (wire.Cert, error) {
	s := au.s
	if err := au.checkLogin(ctx, req, remote); err != nil {
		return wire.Cert{}, err
	}
	cert, err := s.issueUserCert(ctx, req.User, req.TTL, req.PublicKeyPEM, "", time.Time{})
	if err != nil {
		s.loginAudit(ctx, req.User, "password", remote, false, "certificate not issued")
		return wire.Cert{}, err
	}
	s.loginAudit(ctx, req.User, "password", remote, true, "")
	return cert, nil
}

// checkLogin checks req's password and one-time code (throttled, each
// failure audited); it returns nil when the user may log in.
func (au Auth) checkLogin(ctx context.Context, req wire.Login, remote string) error {
	s := au.s
	now := s.cfg.Clock.Now()
	bad := unauthorizedf("wrong user name or password")
	if until, locked := s.throttle.locked(req.User, now); locked {
		s.loginAudit(ctx, req.User, "password", remote, false, "locked out after repeated failures")
		return &Error{Code: CodeLocked, Err: ErrLoginThrottled,
			Message: "too many failed logins for " + req.User + "; password login is locked until " + until.UTC().Format(time.RFC3339)}
	}
	var exists bool
	s.View(func(st *projections.State) { _, exists = st.Users[req.User] })
	okPw := exists && s.checkPassword(ctx, req.User, req.Password)
	if !okPw {
		reason := "wrong password"
		if !exists {
			reason = "unknown user"
		}
		s.loginAudit(ctx, req.User, "password", remote, false, reason)
		wait := s.throttle.fail(req.User, now)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		return bad
	}
	if err := s.userLockedOut(req.User); err != nil {
		s.loginAudit(ctx, req.User, "password", remote, false, "locked")
		return err
	}
	if err := s.secondFactor(ctx, req.User, req.OTP); err != nil {
		if errors.Is(err, ErrMFARequired) {
			return err // toll asks for the code and tries again
		}
		s.loginAudit(ctx, req.User, "password", remote, false, "wrong or reused one-time code")
		wait := s.throttle.fail(req.User, now)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
		}
		return err
	}
	s.throttle.ok(req.User)
	return nil
}

func (s *Service) userLockedOut(user string) error {
	var msg string
	now := s.cfg.Clock.Now()
	s.View(func(st *projections.State) {
		u, ok := st.Users[user]
		if !ok {
			return
		}
		for _, lk := range st.Locks {
			if !lk.Expires.IsZero() && !now.Before(lk.Expires) {
				continue
			}
			t := lk.Target
			if t.Database != "" || t.Agent != "" || t.Session != "" {
				continue
			}
			if t.User != "" && t.User != user {
				continue
			}
			if t.Role != "" && !contains(u.Roles, t.Role) {
				continue
			}
			msg = "user " + user + " is locked: " + lk.Message
		}
	})
	if msg != "" {
		return &Error{Code: CodeLocked, Message: msg}
	}
	return nil
}

func contains(xs []string, x string) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// Signup consumes an invite, sets the password and issues a user cert.
func (au Auth) Signup(ctx context.Context, req wire.Login, remote string) (wire.Cert, error) {
	s := au.s
	hash := secret.HashInvite(req.Invite)
	now := s.cfg.Clock.Now()
	var (
		user string
		err  error
	)
	s.View(func(st *projections.State) {
		for _, u := range st.Users {
			if u.InviteHash != "" && u.InviteHash == hash {
				user = u.Name
				if !now.Before(u.InviteExpires) {
					err = &Error{Code: CodeExpired,
						Message: "invite expired at " + u.InviteExpires.Format(time.RFC3339) + "; ask an admin for a new one (tollctl users reset " + u.Name + ")"}
				}
				return
			}
		}
		err = unauthorizedf("invite not recognized: it was already used or replaced; ask an admin for a new one (tollctl users reset NAME)")
	})
	if err != nil {
		if user == "" {
			user = "(unknown invite)"
		}
		s.loginAudit(ctx, user, "signup", remote, false, "bad invite")
		return wire.Cert{}, err
	}
	// A password reset does not reset a second factor: its code is asked
	// for here too (a lost device is tollctl users reset-mfa).
	if err := s.secondFactor(ctx, user, req.OTP); err != nil {
		if !errors.Is(err, ErrMFARequired) {
			s.loginAudit(ctx, user, "signup", remote, false, "wrong or reused one-time code")
		}
		return wire.Cert{}, err
	}
	if err := s.setPassword(ctx, user, req.Password); err != nil {
		return wire.Cert{}, err
	}
	_, err = s.change(ctx, user, eventlog.KindUser, user, schemas.TypeUserPasswordSet, func(st *projections.State) (any, error) {
		u, ok := st.Users[user]
		if !ok || u.InviteHash != hash {
			return nil, unauthorizedf("invite not recognized: it was already used or replaced")
		}
		return schemas.UserPasswordSet{Name: user, Via: "invite", InviteHash: hash}, nil
	})
	if err != nil {
		return wire.Cert{}, err
	}
	s.throttle.ok(user)
	cert, err := s.issueUserCert(ctx, user, req.TTL, req.PublicKeyPEM, "", time.Time{})
	if err != nil {
		return wire.Cert{}, err
	}
	s.loginAudit(ctx, user, "signup", remote, true, "")
	return cert, nil
}

// issueUserCert issues a user cert for user's current roles, TTL capped by
// access.MaxSessionTTL, optionally with a database route and, after a
// one-time code, the end of the session it may open (mfaUntil).
func (s *Service) issueUserCert(ctx context.Context, user string, ttl time.Duration, pubPEM string, route string, mfaUntil time.Time) (wire.Cert, error) {
	var (
		roles   []string
		cluster string
		hostCAs []string
		found   bool
	)
	s.View(func(st *projections.State) {
		u, ok := st.Users[user]
		if !ok {
			return
		}
		found = true
		roles = append(roles, u.Roles...)
		ttl = sessionTTL(st, u.Roles, ttl)
		cluster = st.Cluster.Name
		if ca, ok := st.CAs[schemas.CAHost]; ok {
			hostCAs = append(hostCAs, ca.Trusted...)
		}
	})
	if !found {
		return wire.Cert{}, notFoundf("user %s not found", user)
	}
	iss, err := s.pki.issueUser(ctx, user, route, pubPEM, ttl, mfaUntil)
	if err != nil {
		return wire.Cert{}, err
	}
	return wire.Cert{User: user, Roles: roles, CertPEM: iss.certPEM, Serial: iss.serial, NotAfter: iss.notAfter,
		HostCAPEM: hostCAs, Cluster: cluster}, nil
}
