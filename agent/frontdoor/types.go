package frontdoor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"time"
)

// Credentials gives the current TLS material. It is asked on every
// connection, so a CA rotation or a renewed server cert applies to the next
// connection without a restart.
type Credentials interface {
	// ClientCAs returns the pool of trusted user CA certs.
	ClientCAs() (*x509.CertPool, error)
	// ServerCertificate returns the agent's TLS server cert.
	ServerCertificate() (*tls.Certificate, error)
}

// StaticCredentials is Credentials that never change.
type StaticCredentials struct {
	Pool *x509.CertPool
	Cert *tls.Certificate
}

// ClientCAs returns Pool.
func (s StaticCredentials) ClientCAs() (*x509.CertPool, error) { return s.Pool, nil }

// ServerCertificate returns Cert.
func (s StaticCredentials) ServerCertificate() (*tls.Certificate, error) { return s.Cert, nil }

// Identity is who a verified client cert names.
type Identity struct {
	// User is the Tollgate user.
	User string
	// Database is the route: the database the cert was issued for.
	Database string
	// Serial is the cert serial (hex).
	Serial string
	// NotAfter is the cert's expiry.
	NotAfter time.Time
	// MFASessionUntil is set on a database cert issued after a one-time
	// code (require_mfa: session): how long its session may last.
	MFASessionUntil time.Time
	// Cert is the verified leaf.
	Cert *x509.Certificate
}

// IdentityFunc extracts an Identity from a verified leaf cert (control/pki
// ParseIdentity, adapted). It fills User and Database; frontdoor fills
// Serial, NotAfter and Cert.
type IdentityFunc func(cert *x509.Certificate) (Identity, error)

// Database is what the front door needs to know of a database.
type Database struct {
	Name     string
	Protocol string
	Labels   map[string]string
}

// Catalog says which databases this agent serves.
type Catalog interface {
	// Lookup returns the database called name if this agent serves it.
	Lookup(name string) (Database, bool)
}

// Request is what the Authorizer decides on.
type Request struct {
	SessionID  string
	Identity   Identity
	Database   Database
	DBUser     string
	DBName     string // never empty: defaults to DBUser
	Params     map[string]string
	ClientAddr string
	// Replication is set when the startup asks for a walsender session.
	Replication bool
	Now         time.Time
}

// Decision is the Authorizer's answer.
type Decision struct {
	Allowed bool
	// Code is a schemas.Reject* code when refused (default denied).
	Code string
	// Reason is shown to the client and recorded; never a secret.
	Reason string
	// SQLState when refused (default 28000).
	SQLState string
	// Roles of the user and the role that allowed, for session.started.
	Roles     []string
	DecidedBy string
	// AllowReplication permits a `replication` startup parameter.
	AllowReplication bool
	// Expires, when set, is when the session must end (the cert's expiry
	// or a role's max session TTL).
	Expires time.Time
	// AccessRequest is the access request whose grant gave DecidedBy,
	// when one did: the session ends when the grant does.
	AccessRequest string
}

// Authorizer decides whether a session may start: implemented over
// projections/access (roles, labels, db users/names, locks).
type Authorizer interface {
	Authorize(ctx context.Context, req Request) (Decision, error)
}

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(ctx context.Context, req Request) (Decision, error)

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, req Request) (Decision, error) {
	return f(ctx, req)
}

// CancelHandler receives a CancelRequest (which arrives on its own
// certificate-less connection): agent/cancel matches, rate-limits,
// records and forwards it. secretKey is 4 bytes (protocol 3.0) or up to
// pgwire.MaxCancelKey (3.2); it is valid only during the call.
type CancelHandler interface {
	HandleCancel(ctx context.Context, clientAddr net.Addr, processID uint32, secretKey []byte)
}

var _ Credentials = StaticCredentials{}
var _ Authorizer = AuthorizerFunc(nil)
