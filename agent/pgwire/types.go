package pgwire

// Frontend (client → server) message types.
const (
	MsgQuery        = 'Q'
	MsgParse        = 'P'
	MsgBind         = 'B'
	MsgExecute      = 'E'
	MsgClose        = 'C'
	MsgDescribe     = 'D'
	MsgSync         = 'S'
	MsgFlush        = 'H'
	MsgTerminate    = 'X'
	MsgCopyData     = 'd'
	MsgCopyDone     = 'c'
	MsgCopyFail     = 'f'
	MsgFunctionCall = 'F'
	MsgPassword     = 'p' // also SASLInitialResponse, SASLResponse, GSSResponse
)

// Backend (server → client) message types.
const (
	MsgAuthentication       = 'R'
	MsgBackendKeyData       = 'K'
	MsgParameterStatus      = 'S'
	MsgReadyForQuery        = 'Z'
	MsgCommandComplete      = 'C'
	MsgErrorResponse        = 'E'
	MsgNoticeResponse       = 'N'
	MsgEmptyQueryResponse   = 'I'
	MsgPortalSuspended      = 's'
	MsgRowDescription       = 'T'
	MsgDataRow              = 'D'
	MsgCopyInResponse       = 'G'
	MsgCopyOutResponse      = 'H'
	MsgCopyBothResponse     = 'W'
	MsgNotificationResponse = 'A'
	MsgParseComplete        = '1'
	MsgBindComplete         = '2'
	MsgCloseComplete        = '3'
	MsgNoData               = 'n'
	MsgParameterDescription = 't'
	MsgFunctionCallResponse = 'V'
	// MsgNegotiateProtocolVersion answers a startup asking for a newer
	// minor version or unknown `_pq_.` options, before Authentication.
	MsgNegotiateProtocolVersion = 'v'
)
