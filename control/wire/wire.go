package wire

import (
	"time"

	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// Error is every error body: {code, message}.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// CAInfo is one CA in status.
type CAInfo struct {
	Type    string   `json:"type"`
	KeyAlg  string   `json:"key_alg"`
	Pin     string   `json:"pin"`
	Phase   string   `json:"phase"`
	Trusted []string `json:"trusted,omitempty"`
}

// Status answers GET /v1/status.
type Status struct {
	Cluster string   `json:"cluster"`
	Version string   `json:"version"`
	CAPin   string   `json:"ca_pin"` // host CA pin
	CAs     []CAInfo `json:"cas"`
	Users   int      `json:"users"`
	Roles   int      `json:"roles"`
	Agents  int      `json:"agents"`
	DBs     int      `json:"databases"`
	LastSeq uint64   `json:"last_seq"`
}

// Ping answers GET /v1/ping (unauthenticated): enough to pin the cluster.
type Ping struct {
	Cluster   string   `json:"cluster"`
	Version   string   `json:"version"`
	HostCAPEM []string `json:"host_ca_pem"`
}

// TokenAdd is POST /v1/tokens.
type TokenAdd struct {
	Type     string        `json:"type"`
	TTL      time.Duration `json:"ttl"`
	Reusable bool          `json:"reusable"`
}

// Token describes a join token; Value is set only in the answer to its
// creation.
type Token struct {
	Value     string    `json:"value,omitempty"`
	Hash      string    `json:"hash"`
	Type      string    `json:"type"`
	Expires   time.Time `json:"expires"`
	Reusable  bool      `json:"reusable"`
	Consumed  bool      `json:"consumed"`
	CreatedAt time.Time `json:"created_at"`
}

// User describes a user.
type User struct {
	Name          string              `json:"name"`
	Roles         []string            `json:"roles"`
	Traits        map[string][]string `json:"traits,omitempty"`
	PasswordSet   bool                `json:"password_set"`
	CreatedAt     time.Time           `json:"created_at"`
	InviteExpires time.Time           `json:"invite_expires,omitempty"`
	// FailedLogins counts the failed password logins in a row since the
	// last success or lockout; LockedUntil is set while password login is
	// locked after too many of them. Both live in the answering control's
	// memory, not in the log.
	FailedLogins int       `json:"failed_logins,omitempty"`
	LockedUntil  time.Time `json:"locked_until,omitzero"`
	// Warnings say what the user cannot do as configured (e.g. reach any
	// database); set by users update.
	Warnings []string `json:"warnings,omitempty"`
}

// Invite answers users add and users reset: the one-time secret.
type Invite struct {
	User    string    `json:"user"`
	Invite  string    `json:"invite"`
	Expires time.Time `json:"expires"`
	// LockoutCleared is set by users reset when it ended a login lockout
	// (until then).
	LockoutCleared time.Time `json:"lockout_cleared,omitzero"`
	// Warnings say what the user cannot do as created (users add).
	Warnings []string `json:"warnings,omitempty"`
}

// Role is a role's name and spec plus times.
type Role struct {
	schemas.Role
	CreatedAt time.Time `json:"created_at,omitempty"`
	UpdatedAt time.Time `json:"updated_at,omitempty"`
}

// Lock is a lock.
type Lock struct {
	schemas.LockCreated
	TTL       time.Duration `json:"ttl,omitempty"`
	CreatedAt time.Time     `json:"created_at,omitempty"`
	CreatedBy string        `json:"created_by,omitempty"`
}

// Database is a database as a caller may see it.
type Database struct {
	schemas.Database
	// DBUsers are the db users the caller may use ("*" is kept literal).
	DBUsers []string `json:"db_users,omitempty"`
	// DBNames are the db names the caller may use, where enforced.
	DBNames []string `json:"db_names,omitempty"`
	// RequestRoles, when set, are roles the caller may request that reach
	// this database, which it does not reach now (DBUsers and DBNames are
	// then those the roles would give).
	RequestRoles []string `json:"request_roles,omitempty"`
}

// Login is POST /v1/login and POST /v1/signup (Invite instead of User).
type Login struct {
	User     string        `json:"user,omitempty"`
	Invite   string        `json:"invite,omitempty"`
	Password string        `json:"password"`
	TTL      time.Duration `json:"ttl,omitempty"`
	// PublicKeyPEM is the PKIX public key the cert is issued for; the
	// private key never leaves the client.
	PublicKeyPEM string `json:"public_key_pem"`
	// OTP is the one-time code of the user's second factor, when it has
	// one (login answers unauthorized with code mfa_required without it).
	OTP string `json:"otp,omitempty"`
}

// Cert answers every certificate request.
type Cert struct {
	User      string    `json:"user,omitempty"`
	Roles     []string  `json:"roles,omitempty"`
	CertPEM   string    `json:"cert_pem"`
	Serial    string    `json:"serial"`
	NotAfter  time.Time `json:"not_after"`
	HostCAPEM []string  `json:"host_ca_pem,omitempty"`
	// CAPEM is the CA a database route cert is used with (db CA bundle).
	CAPEM   []string `json:"ca_pem,omitempty"`
	Cluster string   `json:"cluster,omitempty"`
}

// Whoami answers GET /v1/whoami.
type Whoami struct {
	Kind     string              `json:"kind"`
	Name     string              `json:"name"`
	Roles    []string            `json:"roles"`
	Traits   map[string][]string `json:"traits,omitempty"`
	NotAfter time.Time           `json:"not_after"`
	Cluster  string              `json:"cluster"`
	// MFA is the caller's enrolled second factor ("totp"), "" for none.
	MFA string `json:"mfa,omitempty"`
}

// DBCertRequest is POST /v1/certs/db: a user cert carrying a database route.
type DBCertRequest struct {
	Database     string `json:"database"`
	DBUser       string `json:"db_user,omitempty"`
	DBName       string `json:"db_name,omitempty"`
	PublicKeyPEM string `json:"public_key_pem"`
	// OTP is a one-time code, for a user whose roles ask one per session
	// (require_mfa: session): the cert then lasts a minute and opens a
	// session that may last as long as the user's own cert.
	OTP string `json:"otp,omitempty"`
}

// DBClientCertRequest is POST /v1/certs/db-client (agents only).
type DBClientCertRequest struct {
	DBUser       string    `json:"db_user"`
	Database     string    `json:"database"`
	ForUser      string    `json:"for_user"`
	NotAfter     time.Time `json:"not_after"`
	PublicKeyPEM string    `json:"public_key_pem"`
}

// SignRequest is POST /v1/auth/sign.
type SignRequest struct {
	Format string        `json:"format"` // cockroachdb | db | tls
	Hosts  []string      `json:"hosts"`
	TTL    time.Duration `json:"ttl"`
}

// Signed answers auth sign: the db_server cert and its key, the db CA
// bundle and the db_client CA bundle. tollctl writes them with
// pki.WriteCockroachDB, WriteDB or WriteTLS.
type Signed struct {
	CertPEM     string `json:"cert_pem"`
	KeyPEM      string `json:"key_pem"`
	DBCAPEM     string `json:"db_ca_pem"`
	ClientCAPEM string `json:"client_ca_pem"`
}

// Output is s in the form the pki writers (WriteCockroachDB, WriteDB,
// WriteTLS) take.
func (s Signed) Output() pki.SignOutput {
	return pki.SignOutput{CertPEM: []byte(s.CertPEM), KeyPEM: []byte(s.KeyPEM), DBCA: []byte(s.DBCAPEM), ClientCA: []byte(s.ClientCAPEM)}
}

// Join is POST /v1/join (agent, with a token).
type Join struct {
	Token        string                `json:"token"`
	Hostname     string                `json:"hostname"`
	PublicAddr   string                `json:"public_addr,omitempty"`
	Resources    []map[string][]string `json:"resources,omitempty"`
	PublicKeyPEM string                `json:"public_key_pem"`
	// Version is the joining agent's Tollgate version (recorded in
	// agent.joined; tollctl agents ls shows it).
	Version string `json:"version,omitempty"`
	// ControlHost is the host the agent dialed control's API by, set by
	// the API from the request (never sent).
	ControlHost string `json:"-"`
}

// Joined answers a join.
type Joined struct {
	AgentID   string   `json:"agent_id"`
	CertPEM   string   `json:"cert_pem"`
	HostCAPEM []string `json:"host_ca_pem"`
	UserCAPEM []string `json:"user_ca_pem"`
	DBCAPEM   []string `json:"db_ca_pem"`
	NATSURL   string   `json:"nats_url"`
	Cluster   string   `json:"cluster"`
}

// Event is an event as listed by the events endpoint.
type Event struct {
	Seq   uint64         `json:"seq"`
	Event eventlog.Event `json:"event"`
}

// EventsQuery is GET /v1/events.
type EventsQuery struct {
	Stream  string    `query:"stream"` // control | audit
	Type    string    `query:"type"`
	Since   time.Time `query:"since"`
	FromSeq uint64    `query:"from_seq"`
	Limit   int       `query:"limit"`
}

// Events answers GET /v1/events.
type Events struct {
	Events  []Event `json:"events"`
	LastSeq uint64  `json:"last_seq"`
}

// AuditSearch is POST /v1/audit/search. Empty fields match anything; From
// and To bound the stored time, inclusive.
type AuditSearch struct {
	User    string    `json:"user,omitempty"`
	DB      string    `json:"db,omitempty"`
	Session string    `json:"session,omitempty"`
	Types   []string  `json:"types,omitempty"`
	From    time.Time `json:"from,omitzero"`
	To      time.Time `json:"to,omitzero"`
	// After is the cursor of the previous page (AuditResults.Cursor).
	After uint64 `json:"after,omitempty"`
	// Limit bounds the page (default 1000, at most 10000).
	Limit int `json:"limit,omitempty"`
}

// AuditResults answers POST /v1/audit/search: one page of events in
// stream order. More says that further events match; the next page is the
// same search with After = Cursor.
type AuditResults struct {
	Events []Event `json:"events"`
	More   bool    `json:"more"`
	Cursor uint64  `json:"cursor,omitempty"`
}

// AccessAt is POST /v1/audit/access: what User could reach at At (only
// DB when set).
type AccessAt struct {
	At   time.Time `json:"at"`
	User string    `json:"user"`
	DB   string    `json:"db,omitempty"`
}

// AccessDiff is POST /v1/audit/access-diff: what changed in who could
// reach what between From and To.
type AccessDiff struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// PolicySimulate is POST /v1/policy/simulate: judge the queries recorded
// between Since and Until (of User and DB, when set) by the rules with
// Role in place (package policy/simulate).
type PolicySimulate struct {
	Role  schemas.Role `json:"role"`
	Since time.Time    `json:"since"`
	Until time.Time    `json:"until,omitzero"`
	User  string       `json:"user,omitempty"`
	DB    string       `json:"db,omitempty"`
}

// AuditVerify is POST /v1/audit/verify: check the audit stream (hash
// chains, checkpoints, chain starts) for the events stored since Since
// (all when zero; chain starts are then not checked).
type AuditVerify struct {
	Since time.Time `json:"since,omitzero"`
}
