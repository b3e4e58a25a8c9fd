package control

import (
	"crypto/x509"
	"slices"
	"time"

	"github.com/tollgate-db/tollgate/projections"
)

// Caller kinds.
const (
	CallerUser = "user"
	CallerHost = "host"
)

// Caller is the authenticated identity of an API call, from its client
// certificate. What it may do comes from the projection, not the cert.
type Caller struct {
	Kind string // CallerUser or CallerHost
	Name string // user name, or agent id / "control" for hosts
	// Database is the route of a user's database cert, if any.
	Database string
	NotAfter time.Time
	Serial   string
}

// Actor is the event actor string of the caller.
func (c Caller) Actor() string {
	if c.Kind == CallerHost {
		return "host:" + c.Name
	}
	return c.Name
}

// Identify turns a verified client certificate into a Caller.
func (s *Service) Identify(cert *x509.Certificate) (Caller, error) {
	return s.pki.identify(cert)
}

// roles returns the caller's current roles from the projection; a user
// that no longer exists has none.
func callerRoles(st *projections.State, c Caller) []string {
	if c.Kind != CallerUser {
		return nil
	}
	u, ok := st.Users[c.Name]
	if !ok {
		return nil
	}
	return slices.Clone(u.Roles)
}
