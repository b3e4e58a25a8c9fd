package control

import (
	"time"

	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/projections/access"
)

// DefaultSessionTTL is a user cert's TTL when no role sets max_session_ttl.
const DefaultSessionTTL = 12 * time.Hour

// Authorize checks that caller may perform verb on resource, by the rules
// of its current roles. Hosts may do nothing through role rules.
func (s *Service) Authorize(c Caller, resource, verb string) error {
	var err error
	s.View(func(st *projections.State) { err = authorizeIn(st, c, resource, verb) })
	return err
}

func authorizeIn(st *projections.State, c Caller, resource, verb string) error {
	if c.Kind != CallerUser {
		return forbiddenf("a host certificate may not %s %s; use a user identity (toll login or the local admin identity)", verb, resource)
	}
	u, ok := st.Users[c.Name]
	if !ok {
		return &Error{Code: CodeUnauthorized, Message: "user " + c.Name + " no longer exists; log in again"}
	}
	if ok, why := access.CanDo(st, u.Roles, resource, verb); !ok {
		return forbiddenf("user %s may not %s %s: %s", c.Name, verb, resource, why)
	}
	if role, missing := access.MFAMissing(st, access.Identity{User: u.Name, Roles: u.Roles}); missing {
		return forbiddenf("user %s may not %s %s yet: role %s requires a second factor: enroll one with `toll mfa add --type=totp`", c.Name, verb, resource, role)
	}
	return nil
}

func sessionTTL(st *projections.State, roles []string, requested time.Duration) time.Duration {
	limit := access.MaxSessionTTL(st, roles, DefaultSessionTTL)
	if requested <= 0 || requested > limit {
		return limit
	}
	return requested
}
