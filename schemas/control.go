package schemas

import "time"

// ClusterCreated is the first event of a cluster.
type ClusterCreated struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// CACreated records a new certificate authority. The private key stays in
// the keystore under KeyID; only the public certificate is in the log.
type CACreated struct {
	CAType  string `json:"ca_type"`
	KeyID   string `json:"key_id"`
	KeyAlg  string `json:"key_alg"` // KeyAlgECDSAP256 or KeyAlgRSA2048
	CertPEM string `json:"cert_pem"`
}

// CARotationStarted begins a rotation: a new key is added to the trusted set
// (phase init) but does not sign yet.
type CARotationStarted struct {
	CAType  string `json:"ca_type"`
	KeyID   string `json:"key_id"`
	KeyAlg  string `json:"key_alg"`
	CertPEM string `json:"cert_pem"`
}

// CARotationPhaseChanged moves a rotation to its next phase.
type CARotationPhaseChanged struct {
	CAType string `json:"ca_type"`
	Phase  string `json:"phase"`
}

// CARotationCompleted ends a rotation: the new key is the only active and
// trusted one; the phase is standby again.
type CARotationCompleted struct {
	CAType string `json:"ca_type"`
}

// CARotationRolledBack abandons a rotation: the old key stays active and the
// new one is no longer trusted.
type CARotationRolledBack struct {
	CAType string `json:"ca_type"`
}

// Role is a named role: what its holders may and may not reach.
type Role struct {
	Name string   `json:"name"`
	Spec RoleSpec `json:"spec"`
}

// RoleSpec is the body of a role, in the shape Teleport users know.
type RoleSpec struct {
	Options RoleOptions    `json:"options"`
	Allow   RoleConditions `json:"allow"`
	Deny    RoleConditions `json:"deny"`
}

// RoleOptions are per-role settings.
type RoleOptions struct {
	// MaxSessionTTL is a Go duration ("12h"); empty means the default.
	MaxSessionTTL string `json:"max_session_ttl,omitempty"`
	// DBReplication allows the `replication` startup parameter.
	DBReplication bool `json:"db_replication,omitempty"`
	// RequireMFA "login": holders log in with a second factor and reach
	// nothing (databases, admin rules) before they enrolled one;
	// "session": also a code for each database session.
	RequireMFA string `json:"require_mfa,omitempty"`
	// DBStatements are the options of the role's statement rules.
	DBStatements *StatementOptions `json:"db_statements,omitempty"`
}

// RoleConditions are the matchers of an allow or a deny section.
type RoleConditions struct {
	// DBLabels maps a label key ("*" for any) to accepted values ("*" for
	// any, "^…$" for a regular expression).
	DBLabels map[string][]string `json:"db_labels,omitempty"`
	// DBUsers and DBNames accept "*", literals and "{{internal.db_users}}" /
	// "{{internal.db_names}}" (expanded from the user's traits).
	DBUsers []string `json:"db_users,omitempty"`
	DBNames []string `json:"db_names,omitempty"`
	// Rules grant admin verbs on resources.
	Rules []Rule `json:"rules,omitempty"`
	// Request: the roles holders may request (access requests).
	Request *RequestConditions `json:"request,omitempty"`
	// ReviewRequests: the requests holders may review (allow only).
	ReviewRequests *ReviewConditions `json:"review_requests,omitempty"`
	// DBStatements are statement rules (query policies): in allow, an
	// allowlist for the sessions the role admits; in deny, rules with
	// actions for every session of its holders.
	DBStatements []StatementRule `json:"db_statements,omitempty"`
}

// Rule grants verbs on resources. "*" matches any.
type Rule struct {
	Resources []string `json:"resources"`
	Verbs     []string `json:"verbs"`
}

// Admin resources and verbs used in rules.
const (
	ResourceUser     = "user"
	ResourceRole     = "role"
	ResourceToken    = "token"
	ResourceLock     = "lock"
	ResourceDatabase = "database"
	ResourceCert     = "cert"
	ResourceCA       = "cert_authority"
	ResourceAudit    = "audit"
	ResourceEvent    = "event"
	ResourceCluster  = "cluster"

	VerbList   = "list"
	VerbRead   = "read"
	VerbCreate = "create"
	VerbUpdate = "update"
	VerbDelete = "delete"
	VerbSign   = "sign"
	VerbRotate = "rotate"
)

// Key algorithms of the CAs (CA.KeyAlg, control.ca_key_alg).
const (
	KeyAlgECDSAP256 = "ECDSA-P256"
	KeyAlgRSA2048   = "RSA-2048"
)

// RoleCreated, RoleUpdated carry the whole role.
type (
	RoleCreated = Role
	RoleUpdated = Role
)

// RoleDeleted removes a role.
type RoleDeleted struct {
	Name string `json:"name"`
}

// User is a person who logs in.
type User struct {
	Name   string              `json:"name"`
	Roles  []string            `json:"roles"`
	Traits map[string][]string `json:"traits,omitempty"` // "db_users", "db_names", …
}

// UserCreated creates a user and, usually, its first signup invite.
type UserCreated struct {
	User
	// InviteHash is the hex SHA-256 of the invite secret; the secret itself
	// is only printed to the admin.
	InviteHash    string    `json:"invite_hash,omitempty"`
	InviteExpires time.Time `json:"invite_expires,omitzero"`
	// SSO names the single sign-on connector that created the user at its
	// first login; such a user has no password and logs in only there.
	SSO string `json:"sso,omitempty"`
}

// UserUpdated replaces a user's roles and traits.
type UserUpdated = User

// UserDeleted removes a user.
type UserDeleted struct {
	Name string `json:"name"`
}

// UserPasswordSet records that a password was set. The hash stays out of
// the log (in the keystore).
type UserPasswordSet struct {
	Name string `json:"name"`
	// Via: "invite" (signup) or "reset".
	Via string `json:"via"`
	// InviteHash is the consumed invite, if any.
	InviteHash string `json:"invite_hash,omitempty"`
}

// UserInviteCreated issues a new signup/reset invite, replacing any earlier.
type UserInviteCreated struct {
	Name          string    `json:"name"`
	InviteHash    string    `json:"invite_hash"`
	InviteExpires time.Time `json:"invite_expires"`
}

// TokenCreated creates a join token. Only its hash is in the log.
type TokenCreated struct {
	Hash     string    `json:"hash"` // hex SHA-256 of the token value
	Type     string    `json:"type"` // "db"
	Expires  time.Time `json:"expires"`
	Reusable bool      `json:"reusable,omitempty"`
}

// TokenConsumed records a token's use by an agent.
type TokenConsumed struct {
	Hash    string `json:"hash"`
	AgentID string `json:"agent_id"`
}

// TokenDeleted removes a token.
type TokenDeleted struct {
	Hash string `json:"hash"`
}

// Agent is a database agent's registration.
type Agent struct {
	ID         string `json:"id"`
	Hostname   string `json:"hostname"`
	PublicAddr string `json:"public_addr,omitempty"`
	// Resources are label selectors of dynamically registered databases this
	// agent serves.
	Resources []map[string][]string `json:"resources,omitempty"`
	// HostCertKeyID is the id of the host CA key that signed the agent's
	// latest host cert; empty for agents joined before it was recorded.
	HostCertKeyID string `json:"host_cert_key_id,omitempty"`
	// HostCertPEM is the agent's latest host cert (public, PEM): the key
	// its audit checkpoints are verified with. Empty for agents joined
	// before it was recorded (until their next renewal).
	HostCertPEM string `json:"host_cert_pem,omitempty"`
	// Version is the Tollgate version the agent ran when it joined or last
	// renewed its host cert; empty when it did not say (older agents).
	Version string `json:"version,omitempty"`
}

// AgentJoined records an agent's join with a token.
type AgentJoined struct {
	Agent
	TokenHash  string `json:"token_hash"`
	CertSerial string `json:"cert_serial"`
}

// AgentUpdated replaces an agent's address and selectors.
type AgentUpdated = Agent

// ControlHostCertIssued records a host cert control issued itself (HTTPS
// API, NATS listener, audit checkpoints). Only the public cert is in the
// log; its key stays in control's keystore.
type ControlHostCertIssued struct {
	Serial    string    `json:"serial"`
	CertPEM   string    `json:"cert_pem"`
	KeyID     string    `json:"key_id,omitempty"` // the host CA key that signed it
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
}

// Database is a database reachable through Tollgate.
type Database struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	Protocol    string            `json:"protocol"` // cockroachdb | postgres
	URI         string            `json:"uri"`      // host:port
	Labels      map[string]string `json:"labels,omitempty"`
	// AgentID is the agent whose config declares it; empty for a database
	// registered dynamically (tollctl db create), served by every agent
	// whose selectors match.
	AgentID    string       `json:"agent_id,omitempty"`
	PublicAddr string       `json:"public_addr,omitempty"`
	TLS        *DatabaseTLS `json:"tls,omitempty"`
}

// DatabaseTLS says how the agent verifies the database server.
type DatabaseTLS struct {
	Mode       string `json:"mode,omitempty"` // verify-full | verify-ca
	CACertPEM  string `json:"ca_cert_pem,omitempty"`
	ServerName string `json:"server_name,omitempty"`
}

// DatabaseRegistered and DatabaseUpdated carry the whole database.
type (
	DatabaseRegistered = Database
	DatabaseUpdated    = Database
)

// DatabaseDeregistered removes a database.
type DatabaseDeregistered struct {
	Name string `json:"name"`
}

// LockTarget names what a lock blocks; at least one field is set, and all
// set fields must match.
type LockTarget struct {
	User     string `json:"user,omitempty"`
	Role     string `json:"role,omitempty"`
	Database string `json:"database,omitempty"`
	Agent    string `json:"agent,omitempty"`
	// Session, when set, is the one database session the lock ends (it
	// blocks no new session: a session id is never reused); the other
	// fields are then not set.
	Session string `json:"session,omitempty"`
}

// LockCreated blocks access for its target until deleted or expired.
type LockCreated struct {
	ID      string     `json:"id"`
	Target  LockTarget `json:"target"`
	Message string     `json:"message,omitempty"`
	// Expires is zero for a lock without expiry.
	Expires time.Time `json:"expires,omitzero"`
}

// LockDeleted removes a lock.
type LockDeleted struct {
	ID string `json:"id"`
}
