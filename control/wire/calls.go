package wire

import (
	"github.com/tollgate-db/tollgate/auditquery"
	"github.com/tollgate-db/tollgate/policy"
	"github.com/tollgate-db/tollgate/schemas"
)

// The calls of control's API, each defined once: method and path, request
// and answer, and whether it needs a client certificate (open needs none).
// Which right a call needs is the service's to check (the control
// package), where in-process callers are held to it too. A new call is one
// entry here, a service method, a mount in control/api and a method of
// control/client (the api tests fail on a call not mounted or not called).
var (
	// Unauthenticated: pinning a cluster, CA certs, logging in, joining.
	GetPing    = open[None, Ping]("GET /v1/ping")
	GetCAs     = open[string, PEMs]("GET /v1/cas/{type}")
	PostLogin  = open[Login, Cert]("POST /v1/login")
	PostSignup = open[Login, Cert]("POST /v1/signup")
	PostJoin   = open[Join, Joined]("POST /v1/join")
	// Single sign-on: start a login at the provider, finish it with the
	// code the browser brought back.
	PostSSOBegin  = open[SSOBegin, SSOAuth]("POST /v1/sso/begin")
	PostSSOFinish = open[SSOFinish, SSOLogin]("POST /v1/sso/finish")

	GetStatus = authed[None, Status]("GET /v1/status")
	GetWhoami = authed[None, Whoami]("GET /v1/whoami")

	PostTokens  = authed[TokenAdd, Token]("POST /v1/tokens")
	GetTokens   = authed[None, []Token]("GET /v1/tokens")
	DeleteToken = authed[string, None]("DELETE /v1/tokens/{ref}")

	PostUsers     = authed[schemas.User, Invite]("POST /v1/users")
	GetUsers      = authed[None, []User]("GET /v1/users")
	GetUser       = authed[string, User]("GET /v1/users/{name}")
	PutUser       = authed[Named[schemas.User], User]("PUT /v1/users/{name}")
	DeleteUser    = authed[string, None]("DELETE /v1/users/{name}")
	PostUserReset = authed[string, Invite]("POST /v1/users/{name}/reset")

	PostRoles  = authed[schemas.Role, Role]("POST /v1/roles")
	GetRoles   = authed[None, []Role]("GET /v1/roles")
	GetRole    = authed[string, Role]("GET /v1/roles/{name}")
	PutRole    = authed[Named[schemas.Role], Role]("PUT /v1/roles/{name}")
	DeleteRole = authed[string, None]("DELETE /v1/roles/{name}")

	PostLocks  = authed[Lock, Lock]("POST /v1/locks")
	GetLocks   = authed[None, []Lock]("GET /v1/locks")
	DeleteLock = authed[string, None]("DELETE /v1/locks/{id}")

	PostAccessRequests      = authed[AccessRequestCreate, AccessRequest]("POST /v1/access-requests")
	GetAccessRequests       = authed[AccessRequestsQuery, []AccessRequest]("GET /v1/access-requests")
	GetAccessRequest        = authed[string, AccessRequest]("GET /v1/access-requests/{id}")
	PostAccessRequestReview = authed[AccessRequestReview, AccessRequest]("POST /v1/access-requests/{id}/review")
	DeleteAccessRequest     = authed[string, None]("DELETE /v1/access-requests/{id}")

	PostSSOConnectors  = authed[SSOConnector, SSOConnectorView]("POST /v1/sso/connectors")
	PutSSOConnector    = authed[Named[SSOConnector], SSOConnectorView]("PUT /v1/sso/connectors/{name}")
	GetSSOConnectors   = authed[None, []SSOConnectorView]("GET /v1/sso/connectors")
	GetSSOConnector    = authed[string, SSOConnectorView]("GET /v1/sso/connectors/{name}")
	DeleteSSOConnector = authed[string, None]("DELETE /v1/sso/connectors/{name}")

	PostMFATOTP        = authed[None, TOTPEnrollment]("POST /v1/mfa/totp")
	PostMFATOTPConfirm = authed[MFACode, None]("POST /v1/mfa/totp/confirm")
	PostMFARemove      = authed[MFARemove, None]("POST /v1/mfa/remove")

	GetCAExport = authed[string, PEMs]("GET /v1/auth/export/{type}")
	PostSign    = authed[SignRequest, Signed]("POST /v1/auth/sign")
	PostRotate  = authed[RotateRequest, Rotation]("POST /v1/auth/rotate")
	GetRotation = authed[string, Rotation]("GET /v1/auth/rotation/{type}")

	GetDatabases         = authed[DatabasesQuery, []Database]("GET /v1/databases")
	PostDatabases        = authed[schemas.Database, Database]("POST /v1/databases")
	PostDatabaseRegister = authed[schemas.Database, Database]("POST /v1/databases/register")
	DeleteDatabase       = authed[string, None]("DELETE /v1/databases/{name}")

	PostDBCert       = authed[DBCertRequest, Cert]("POST /v1/certs/db")
	PostDBClientCert = authed[DBClientCertRequest, Cert]("POST /v1/certs/db-client")

	GetEvents = authed[EventsQuery, Events]("GET /v1/events")

	PostAuditSearch = authed[AuditSearch, AuditResults]("POST /v1/audit/search")
	GetAuditSession = authed[string, auditquery.Transcript]("GET /v1/audit/sessions/{id}")
	PostAuditAccess = authed[AccessAt, auditquery.AccessResult]("POST /v1/audit/access")
	PostAccessDiff  = authed[AccessDiff, auditquery.AccessDiff]("POST /v1/audit/access-diff")
	PostAuditVerify = authed[AuditVerify, auditquery.VerifyReport]("POST /v1/audit/verify")
	GetAuditAnchors = authed[None, auditquery.Anchors]("GET /v1/audit/anchors")
	GetExportStatus = authed[None, ExportStatus]("GET /v1/export/status")

	PostPolicySimulate = authed[PolicySimulate, policy.Report]("POST /v1/policy/simulate")

	GetAgents      = authed[None, []Agent]("GET /v1/agents")
	PostAgentRenew = authed[AgentRenew, Cert]("POST /v1/agents/renew")
)

// PEMs answers GET /v1/cas/{type} and GET /v1/auth/export/{type}: the PEM
// certs a CA trusts.
type PEMs struct {
	PEM []string `json:"pem"`
}

// Named is a request for the entity its path names ({name}) with Body,
// the entity, as its JSON body (PUT /v1/users/{name}).
type Named[T any] struct {
	Name string `path:"name"`
	Body T      `body:"json"`
}

// DatabasesQuery is GET /v1/databases: with All, every database (needs a
// rule allowing list on database), else the ones the caller may reach.
type DatabasesQuery struct {
	All bool `query:"all"`
	// Requestable adds the databases the caller reaches only through a
	// role it may request, each with those roles (Database.RequestRoles).
	Requestable bool `query:"requestable"`
}
