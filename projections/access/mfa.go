package access

import (
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// MFAMissing returns a role of id (its own or granted) that requires a
// second factor (options.require_mfa: login) when id's user has enrolled
// none: such an identity reaches nothing until it does.
func MFAMissing(s *projections.State, id Identity) (role string, missing bool) {
	if u, ok := s.Users[id.User]; ok && u.MFA != "" {
		return "", false
	}
	return MFARequired(s, id.Roles)
}

// MFARequired tells whether any of roles requires a second factor (at
// login, or per session, which needs it at login too).
func MFARequired(s *projections.State, roles []string) (string, bool) {
	for _, r := range roleSet(s, roles) {
		if m := r.Spec.Options.RequireMFA; m == schemas.RequireMFALogin || m == schemas.RequireMFASession {
			return r.Name, true
		}
	}
	return "", false
}

// SessionMFARequired tells whether any of roles requires a second factor
// for each database session (require_mfa: session).
func SessionMFARequired(s *projections.State, roles []string) (string, bool) {
	for _, r := range roleSet(s, roles) {
		if r.Spec.Options.RequireMFA == schemas.RequireMFASession {
			return r.Name, true
		}
	}
	return "", false
}

// mfaReason is what an identity without its required second factor is told.
func mfaReason(role string) string {
	return "role " + role + " requires a second factor and you have none: enroll one with `toll mfa add --type=totp`, then `toll login` again"
}
