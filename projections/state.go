package projections

import (
	"time"

	"github.com/tollgate-db/tollgate/schemas"
)

// State is everything control and agents decide from. Maps are keyed by
// name (or id/hash); encoding/json sorts map keys, so its JSON is canonical.
// Readers must not mutate it; writers go through Apply.
type State struct {
	// LastSeq is the stream sequence of the last applied event.
	LastSeq uint64 `json:"last_seq"`
	// LastTime is the time of the last applied event: "now" for decisions
	// made while replaying (e.g. access at a past time).
	LastTime time.Time `json:"last_time"`

	Cluster   Cluster              `json:"cluster"`
	CAs       map[string]*CA       `json:"cas"`
	Roles     map[string]*Role     `json:"roles"`
	Users     map[string]*User     `json:"users"`
	Tokens    map[string]*Token    `json:"tokens"` // by hash
	Agents    map[string]*Agent    `json:"agents"`
	Databases map[string]*Database `json:"databases"`
	Locks     map[string]*Lock     `json:"locks"`
	// AccessRequests are every access request, by id.
	AccessRequests map[string]*AccessRequest `json:"access_requests"`
	// SSOConnectors are the single sign-on connectors, by name.
	SSOConnectors map[string]*SSOConnector `json:"sso_connectors"`
	// SubjectSeq is the last stream sequence per control subject: the
	// expectation to pass when appending the next change to that entity.
	SubjectSeq map[string]uint64 `json:"subject_seq"`
}

// Cluster is the cluster's identity.
type Cluster struct {
	Name      string    `json:"name"`
	Version   string    `json:"version"`
	CreatedAt time.Time `json:"created_at"`
}

// CA is one certificate authority's state.
type CA struct {
	Type string `json:"type"`
	// Active is the key that signs now.
	Active CAKey `json:"active"`
	// Next is the key being rotated in (phase != standby).
	Next *CAKey `json:"next,omitempty"`
	// Phase is the rotation phase (schemas.Phase*).
	Phase string `json:"phase"`
	// Trusted is every cert that must be trusted in this phase, PEM.
	Trusted []string `json:"trusted"`
}

// CAKey is one CA key pair's public part and keystore id.
type CAKey struct {
	KeyID   string `json:"key_id"`
	KeyAlg  string `json:"key_alg"`
	CertPEM string `json:"cert_pem"`
}

// Role is a role as stored.
type Role struct {
	schemas.Role
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// User is a user as stored. PasswordSet tells whether a password exists;
// the hash is never here.
type User struct {
	schemas.User
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
	PasswordSet   bool      `json:"password_set"`
	InviteHash    string    `json:"invite_hash,omitempty"`
	InviteExpires time.Time `json:"invite_expires,omitzero"`
	// MFA is the type of the user's enrolled second factor, "" for none.
	MFA string `json:"mfa,omitempty"`
	// SSO is the connector a single sign-on user logs in through ("" for
	// a local user, who has a password).
	SSO string `json:"sso,omitempty"`
}

// Token is a join token as stored (hash only).
type Token struct {
	schemas.TokenCreated
	CreatedAt  time.Time `json:"created_at"`
	Consumed   bool      `json:"consumed"`
	ConsumedBy []string  `json:"consumed_by,omitempty"`
}

// Agent is a joined agent. LastSeen is the time of the latest control
// event the agent caused (LastEvent: its join, a host cert renewal, a
// registration or update of a database of its config); it tells when the
// agent was last heard of in the control stream, not whether it runs now.
type Agent struct {
	schemas.Agent
	JoinedAt  time.Time `json:"joined_at"`
	LastSeen  time.Time `json:"last_seen,omitzero"`
	LastEvent string    `json:"last_event,omitempty"`
}

// Database is a registered database.
type Database struct {
	schemas.Database
	RegisteredAt time.Time `json:"registered_at"`
}

// Lock is an active or expired lock.
type Lock struct {
	schemas.LockCreated
	CreatedAt time.Time `json:"created_at"`
	CreatedBy string    `json:"created_by,omitempty"`
}
