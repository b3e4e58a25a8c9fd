package schemas

import "time"

// AuthLogin records a login attempt, successful or not. Never the password.
type AuthLogin struct {
	User    string `json:"user"`
	Success bool   `json:"success"`
	Method  string `json:"method"` // "password", "signup", "oidc"
	// Connector is the single sign-on connector of an "oidc" login.
	Connector  string `json:"connector,omitempty"`
	Reason     string `json:"reason,omitempty"`
	RemoteAddr string `json:"remote_addr,omitempty"`
}

// Certificate kinds for CertIssued.
const (
	CertKindUser     = "user"
	CertKindDB       = "db"        // a user's database route cert
	CertKindDBClient = "db_client" // agent → database, per session
	CertKindHost     = "host"
	CertKindDBServer = "db_server" // auth sign output
)

// CertIssued records a certificate issued by a Tollgate CA.
type CertIssued struct {
	Kind      string    `json:"kind"`
	CAType    string    `json:"ca_type"`
	Serial    string    `json:"serial"`
	Subject   string    `json:"subject"` // CN
	Hosts     []string  `json:"hosts,omitempty"`
	NotBefore time.Time `json:"not_before"`
	NotAfter  time.Time `json:"not_after"`
	// For is the user or agent the cert was issued for.
	For string `json:"for"`
	// Database is the route, for db and db_client certs.
	Database string `json:"database,omitempty"`
}

// SessionStarted records an accepted database session.
type SessionStarted struct {
	SessionID  string   `json:"session_id"`
	User       string   `json:"user"`
	Roles      []string `json:"roles,omitempty"`
	Database   string   `json:"database"`
	DBUser     string   `json:"db_user"`
	DBName     string   `json:"db_name"`
	Protocol   string   `json:"protocol"`
	ClientAddr string   `json:"client_addr"`
	AgentID    string   `json:"agent_id"`
	CertSerial string   `json:"cert_serial,omitempty"`
	DecidedBy  string   `json:"decided_by,omitempty"` // role that allowed
	// AccessRequest is the approved access request whose grant gave
	// DecidedBy, when one did (the session ends with the grant).
	AccessRequest string            `json:"access_request,omitempty"`
	Decision      string            `json:"decision,omitempty"` // why it was allowed
	Params        map[string]string `json:"params,omitempty"`   // every startup parameter
	// Truncated is set when a startup parameter (or DBUser/DBName) was cut
	// to the recorded size bound, or parameters past it were left out, or
	// fields were cut to fit the event size bound (see Fit).
	Truncated bool `json:"truncated,omitempty"`
}

// Rejection codes for SessionRejected.
const (
	RejectDenied      = "denied"
	RejectLocked      = "locked"
	RejectCertExpired = "cert_expired"
	RejectBadCert     = "bad_cert"
	RejectPlaintext   = "plaintext"
	RejectReplication = "replication"
	RejectUnknownDB   = "unknown_database"
	RejectUpstream    = "upstream"
	RejectProtocol    = "protocol"
	// RejectAuditUnavailable: strict audit mode and the audit log could not
	// store session.started in time (recorded once it can be).
	RejectAuditUnavailable = "audit_unavailable"
	// RejectAuditTooLarge: the session's session.started event is larger
	// than the audit event size bound.
	RejectAuditTooLarge = "audit_event_too_large"
)

// SessionRejected records a refused connection and why.
type SessionRejected struct {
	SessionID  string            `json:"session_id"`
	User       string            `json:"user,omitempty"`
	Database   string            `json:"database,omitempty"`
	DBUser     string            `json:"db_user,omitempty"`
	DBName     string            `json:"db_name,omitempty"`
	ClientAddr string            `json:"client_addr"`
	AgentID    string            `json:"agent_id"`
	Code       string            `json:"code"`
	Reason     string            `json:"reason"`
	Params     map[string]string `json:"params,omitempty"`
	// Truncated: as SessionStarted.Truncated.
	Truncated bool `json:"truncated,omitempty"`
	// Suppressed, on a summary, counts the refusals from ClientAddr's
	// source that were not recorded one by one (rate limit of what an
	// unauthenticated client can make the agent record); the other fields
	// describe the last of them.
	Suppressed int `json:"suppressed,omitempty"`
}

// QueryParam is one bound parameter: text as text, binary as base64.
type QueryParam struct {
	Format string `json:"format"` // "text", "binary", "null"
	Value  string `json:"value,omitempty"`
	// SHA256 is the hex SHA-256 of the full value (its bytes as bound,
	// binary decoded) when Value was cut.
	SHA256 string `json:"sha256,omitempty"`
}

// Query records one simple Query or one extended Execute, before it runs.
type Query struct {
	SessionID string `json:"session_id"`
	// N numbers the queries of a session from 1.
	N             uint64       `json:"n"`
	Kind          string       `json:"kind"` // QueryKindSimple, QueryKindExtended or QueryKindFunctionCall
	Statement     string       `json:"statement"`
	StatementName string       `json:"statement_name,omitempty"`
	Portal        string       `json:"portal,omitempty"`
	Params        []QueryParam `json:"params,omitempty"`
	// Truncated is set when the statement, names or parameters were cut,
	// or parameters left out, to fit the event size bound (see Fit); SHA256
	// is then the hex SHA-256 of the full statement, each cut parameter has
	// its own, and ParamsOmitted parameters left out at the end are covered
	// by ParamsSHA256 (see OmittedParamsSHA256).
	Truncated     bool   `json:"truncated,omitempty"`
	SHA256        string `json:"sha256,omitempty"`
	ParamsOmitted int    `json:"params_omitted,omitempty"`
	ParamsSHA256  string `json:"params_sha256,omitempty"`
	// PreparedBy is set when the statement or cursor executed was created
	// by SQL (PREPARE, DECLARE) rather than a Parse: the n of the query
	// that created it, whose text is then Statement.
	PreparedBy uint64 `json:"prepared_by,omitempty"`
	// AccessRequest is the access request whose grant the session was
	// opened through, when it was (as in its session.started).
	AccessRequest string `json:"access_request,omitempty"`
}

// Query kinds (Query.Kind).
const (
	QueryKindSimple       = "simple"
	QueryKindExtended     = "extended"
	QueryKindFunctionCall = "function_call"
)

// Result statuses (QueryResult.Status).
const (
	ResultOK        = "ok"
	ResultError     = "error"
	ResultEmpty     = "empty"
	ResultSuspended = "suspended"
)

// NotExecuted is the error of a query the server skipped because an
// earlier message of its pipeline failed (QueryResult.Error).
const NotExecuted = "not executed: an earlier message of the pipeline failed"

// QueryResult matches a Query's outcome.
type QueryResult struct {
	SessionID  string `json:"session_id"`
	N          uint64 `json:"n"`
	Status     string `json:"status"` // ResultOK, ResultError, ResultEmpty or ResultSuspended
	CommandTag string `json:"command_tag,omitempty"`
	Rows       int64  `json:"rows"`
	SQLState   string `json:"sqlstate,omitempty"`
	Error      string `json:"error,omitempty"`
	DurationUS int64  `json:"duration_us"`
	Truncated  bool   `json:"truncated,omitempty"`
}

// SessionCancel records a CancelRequest, matched or not.
type SessionCancel struct {
	SessionID  string `json:"session_id,omitempty"`
	ClientAddr string `json:"client_addr"`
	Matched    bool   `json:"matched"`
	Forwarded  bool   `json:"forwarded"`
	Reason     string `json:"reason,omitempty"`
	// Suppressed, on a summary, counts the CancelRequests from
	// ClientAddr's source that were not forwarded and not recorded one by
	// one (rate limit); the other fields describe the last of them.
	Suppressed int `json:"suppressed,omitempty"`
}

// Session end reasons.
const (
	EndClient      = "client"
	EndServer      = "server"
	EndLock        = "lock"
	EndCertExpired = "cert_expired"
	// EndAccessExpired: the access request grant the session was opened
	// through expired or was dropped.
	EndAccessExpired = "access_expired"
	EndShutdown      = "shutdown"
	EndIdle          = "idle"
	EndError         = "error"
)

// SessionEnded records how and when a session ended.
type SessionEnded struct {
	SessionID  string `json:"session_id"`
	Reason     string `json:"reason"`
	Message    string `json:"message,omitempty"`
	DurationMS int64  `json:"duration_ms"`
	Queries    uint64 `json:"queries"`
	BytesIn    int64  `json:"bytes_in"`
	BytesOut   int64  `json:"bytes_out"`
	Truncated  bool   `json:"truncated,omitempty"`
}

// Checkpoint reasons (AuditCheckpoint.Reason).
const (
	CheckpointInterval   = "interval"    // the head moved during the last interval
	CheckpointSessionEnd = "session_end" // a session ended
	CheckpointShutdown   = "shutdown"    // the source stops cleanly
)

// AuditCheckpoint is a source's signature over the head of its audit hash
// chain: the checkpoint is itself the next event of the chain, and Seq and
// Hash are those of the event just before it. The signature is over
// eventlog.CheckpointMessage(Source, Seq, Hash, Time), made with the key
// of the host cert CertSerial, which the control stream records for the
// source (agent.joined / agent.updated host_cert_pem, or
// control.host_cert_issued for control). Rewriting any event up to Seq
// changes Hash, so it breaks either this link or the signature.
type AuditCheckpoint struct {
	Source string    `json:"source"`
	Seq    uint64    `json:"seq"`
	Hash   string    `json:"hash"`
	Time   time.Time `json:"time"`
	Reason string    `json:"reason"`
	// IntervalMS is the source's checkpoint interval: while it writes, no
	// longer passes without a checkpoint.
	IntervalMS int64  `json:"interval_ms,omitempty"`
	CertSerial string `json:"cert_serial"`
	// Alg is ECDSA-SHA256, RSA-PKCS1v15-SHA256 or Ed25519.
	Alg string `json:"alg"`
	// Signature is standard base64.
	Signature string `json:"signature"`
}
