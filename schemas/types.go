package schemas

// Event type names (DESIGN §3). Control events live in TOLLGATE_CONTROL,
// audit events in TOLLGATE_AUDIT.
const (
	TypeClusterCreated = "cluster.created"

	TypeCACreated            = "ca.created"
	TypeCARotationStarted    = "ca.rotation.started"
	TypeCARotationPhase      = "ca.rotation.phase_changed"
	TypeCARotationCompleted  = "ca.rotation.completed"
	TypeCARotationRolledBack = "ca.rotation.rolled_back"
	TypeRoleCreated          = "role.created"
	TypeRoleUpdated          = "role.updated"
	TypeRoleDeleted          = "role.deleted"
	TypeUserCreated          = "user.created"
	TypeUserUpdated          = "user.updated"
	TypeUserDeleted          = "user.deleted"
	TypeUserPasswordSet      = "user.password_set"
	TypeUserInviteCreated    = "user.invite_created"
	TypeUserMFAAdded         = "user.mfa_added"
	TypeUserMFARemoved       = "user.mfa_removed"
	TypeTokenCreated         = "token.created"
	TypeTokenConsumed        = "token.consumed"
	TypeTokenDeleted         = "token.deleted"
	TypeAgentJoined          = "agent.joined"
	TypeAgentUpdated         = "agent.updated"
	TypeDatabaseRegistered   = "database.registered"
	TypeDatabaseUpdated      = "database.updated"
	TypeDatabaseDeregistered = "database.deregistered"
	TypeLockCreated          = "lock.created"
	TypeLockDeleted          = "lock.deleted"
	// TypeControlHostCertIssued records control's own host cert, as
	// agent.joined and agent.updated record each agent's.
	TypeControlHostCertIssued = "control.host_cert_issued"
	// Access requests (just-in-time access).
	TypeAccessRequestCreated  = "access_request.created"
	TypeAccessRequestReviewed = "access_request.reviewed"
	TypeAccessRequestApproved = "access_request.approved"
	TypeAccessRequestDenied   = "access_request.denied"
	TypeAccessRequestDropped  = "access_request.dropped"
	TypeAccessRequestExpired  = "access_request.expired"
	// Single sign-on connectors.
	TypeSSOConnectorSaved   = "sso.connector_saved"
	TypeSSOConnectorDeleted = "sso.connector_deleted"

	TypeAuthLogin       = "auth.login"
	TypeCertIssued      = "cert.issued"
	TypeSessionStarted  = "session.started"
	TypeSessionRejected = "session.rejected"
	TypeQuery           = "query"
	TypeQueryResult     = "query.result"
	TypeQueryDenied     = "query.denied"
	TypeQueryWouldDeny  = "query.would_deny"
	TypeQueryFlagged    = "query.flagged"
	TypeSessionCancel   = "session.cancel"
	TypeSessionEnded    = "session.ended"
	// TypeAuditCheckpoint is a source's signature over the head of its
	// audit hash chain.
	TypeAuditCheckpoint = "audit.checkpoint"
)

// CA types (DESIGN §4).
const (
	CAUser     = "user"
	CAHost     = "host"
	CADB       = "db"
	CADBClient = "db_client"
)

// CA rotation phases, in order: standby → init → update_clients →
// update_servers → standby.
const (
	PhaseStandby       = "standby"
	PhaseInit          = "init"
	PhaseUpdateClients = "update_clients"
	PhaseUpdateServers = "update_servers"
)

// Database protocols.
const (
	ProtocolCockroachDB = "cockroachdb"
	ProtocolPostgres    = "postgres"
)
