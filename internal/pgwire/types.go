package pgwire

// ClientMsg is the type byte of a message a client (frontend) sends. The
// two directions share bytes ('S' is Sync from a client, ParameterStatus
// from a server): a ClientMsg and a ServerMsg do not compare, so a frame
// read from one side cannot be matched against the other side's kinds.
type ClientMsg byte

// ServerMsg is the type byte of a message a server (backend) sends.
type ServerMsg byte

// Frontend (client → server) message types.
const (
	ClientQuery        ClientMsg = 'Q'
	ClientParse        ClientMsg = 'P'
	ClientBind         ClientMsg = 'B'
	ClientExecute      ClientMsg = 'E'
	ClientClose        ClientMsg = 'C'
	ClientDescribe     ClientMsg = 'D'
	ClientSync         ClientMsg = 'S'
	ClientFlush        ClientMsg = 'H'
	ClientTerminate    ClientMsg = 'X'
	ClientCopyData     ClientMsg = 'd'
	ClientCopyDone     ClientMsg = 'c'
	ClientCopyFail     ClientMsg = 'f'
	ClientFunctionCall ClientMsg = 'F'
	// ClientPassword is also SASLInitialResponse, SASLResponse and
	// GSSResponse.
	ClientPassword ClientMsg = 'p'
)

// Backend (server → client) message types.
const (
	ServerAuthentication       ServerMsg = 'R'
	ServerBackendKeyData       ServerMsg = 'K'
	ServerParameterStatus      ServerMsg = 'S'
	ServerReadyForQuery        ServerMsg = 'Z'
	ServerCommandComplete      ServerMsg = 'C'
	ServerErrorResponse        ServerMsg = 'E'
	ServerNoticeResponse       ServerMsg = 'N'
	ServerEmptyQueryResponse   ServerMsg = 'I'
	ServerPortalSuspended      ServerMsg = 's'
	ServerRowDescription       ServerMsg = 'T'
	ServerDataRow              ServerMsg = 'D'
	ServerCopyInResponse       ServerMsg = 'G'
	ServerCopyOutResponse      ServerMsg = 'H'
	ServerCopyBothResponse     ServerMsg = 'W'
	ServerNotificationResponse ServerMsg = 'A'
	ServerParseComplete        ServerMsg = '1'
	ServerBindComplete         ServerMsg = '2'
	ServerCloseComplete        ServerMsg = '3'
	ServerNoData               ServerMsg = 'n'
	ServerParameterDescription ServerMsg = 't'
	ServerFunctionCallResponse ServerMsg = 'V'
	// ServerNegotiateProtocolVersion answers a startup asking for a newer
	// minor version or unknown `_pq_.` options, before Authentication.
	ServerNegotiateProtocolVersion ServerMsg = 'v'
)

// MsgType is either direction's message type: a Reader is typed by the
// side it reads.
type MsgType interface{ ClientMsg | ServerMsg }
