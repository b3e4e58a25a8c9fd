package pgwire

// SQLSTATE codes the agent sends (PostgreSQL Appendix A).
const (
	CodeAuditUnavailable        = "58000" // system_error: audit log unavailable
	CodeInvalidAuthorization    = "28000" // invalid_authorization_specification
	CodeInvalidPassword         = "28P01" // invalid_password
	CodeProtocolViolation       = "08P01" // protocol_violation
	CodeConnectionFailure       = "08006" // connection_failure
	CodeCannotConnectNow        = "57P03" // cannot_connect_now
	CodeAdminShutdown           = "57P01" // admin_shutdown
	CodeQueryCanceled           = "57014" // query_canceled
	CodeProgramLimitExceeded    = "54000" // program_limit_exceeded
	CodeTooManyConnections      = "53300" // too_many_connections
	CodeInsufficientPrivilege   = "42501" // insufficient_privilege
	CodeInvalidCatalogName      = "3D000" // invalid_catalog_name (unknown database)
	CodeFeatureNotSupported     = "0A000" // feature_not_supported
	CodeInternalError           = "XX000" // internal_error
	CodeIdleSessionTimeout      = "57P05" // idle_session_timeout
	CodeInvalidSQLStatementName = "26000" // invalid_sql_statement_name
	CodeInvalidCursorName       = "34000" // invalid_cursor_name
)

// Severities of an ErrorResponse.
const (
	SeverityError = "ERROR"
	SeverityFatal = "FATAL"
)
