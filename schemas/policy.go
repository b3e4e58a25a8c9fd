package schemas

// Query policies: a role's statement rules (allow/deny db_statements),
// their options, and the audit events that record what they matched.

// StatementRule is one rule of a role's allow.db_statements or
// deny.db_statements. Every field given must match (empty: any); see
// package policy for what each means.
type StatementRule struct {
	// Name names the rule in errors, events and reports (unique within
	// the role's section).
	Name string `json:"name"`
	// Statements are statement classes (policy.Classes): select, insert,
	// update, delete, ddl, copy, truncate, grant, set_role, call, do, …
	Statements []string `json:"statements,omitempty"`
	// Tables are relations touched, as globs: "payments" (any schema),
	// "public.*", "*.secret_*".
	Tables []string `json:"tables,omitempty"`
	// Functions are functions called anywhere in the statement, as globs
	// ("pg_read_file", "dblink*"); deny rules only.
	Functions []string `json:"functions,omitempty"`
	// WithoutWhere matches only an UPDATE or DELETE with no WHERE clause
	// (or one that reads no column, like WHERE true); deny rules only.
	WithoutWhere bool `json:"without_where,omitempty"`
	// Action (deny rules): deny (the default), require_approval or
	// log_only.
	Action string `json:"action,omitempty"`
	// RequestRoles (require_approval): holding one of these roles, as a
	// rule an approved access request grants, lets the statement run.
	RequestRoles []string `json:"request_roles,omitempty"`
}

// Statement rule actions.
const (
	ActionDeny            = "deny"
	ActionRequireApproval = "require_approval"
	ActionLogOnly         = "log_only"
	// ActionNotAllowed is recorded when no allow rule covers a statement
	// (the role's allow.db_statements is an allowlist).
	ActionNotAllowed = "not_allowed"
	// ActionUnparseable is recorded for a text the parser cannot read.
	ActionUnparseable = "unparseable"
)

// StatementOptions are a role's options for its statement rules.
type StatementOptions struct {
	// Mode: enforce (the default) or dry_run (matches are recorded as
	// query.would_deny; nothing is blocked).
	Mode string `json:"mode,omitempty"`
	// Unparseable: deny (the default) or allow (recorded as
	// query.flagged) a text the parser cannot read.
	Unparseable string `json:"unparseable,omitempty"`
}

// Statement options values.
const (
	ModeEnforce      = "enforce"
	ModeDryRun       = "dry_run"
	UnparseableDeny  = "deny"
	UnparseableAllow = "allow"
)

// QueryPolicy is the data of query.denied, query.would_deny and
// query.flagged: which rule matched query N of the session, and why.
type QueryPolicy struct {
	SessionID string `json:"session_id"`
	N         uint64 `json:"n"`
	// Role and Rule name the rule that matched (Rule is empty for a
	// statement no allow rule covers, and for an unparseable text).
	Role string `json:"role,omitempty"`
	Rule string `json:"rule,omitempty"`
	// Action: deny, require_approval, log_only, not_allowed or
	// unparseable.
	Action string `json:"action"`
	// Statement is the 1-based index of the matching statement in the
	// query's text (0: the text as a whole).
	Statement int `json:"statement"`
	// Reason says what matched, for a person.
	Reason string `json:"reason"`
}
