package pgwire

import (
	"io"

	"github.com/jackc/pgproto3/v2"
)

// Error is an ErrorResponse to send to a client. Message, Detail and Hint
// are shown to the user: never put a secret in them.
type Error struct {
	Severity string // SeverityError (default) or SeverityFatal
	Code     string // SQLSTATE
	Message  string
	Detail   string
	Hint     string
}

// NewError returns an ERROR-level Error.
func NewError(code, message string) Error {
	return Error{Severity: SeverityError, Code: code, Message: message}
}

// Fatal returns a FATAL-level Error (the connection ends after it).
func Fatal(code, message string) Error {
	return Error{Severity: SeverityFatal, Code: code, Message: message}
}

func (e Error) Error() string { return e.Severity + ": " + e.Message + " (SQLSTATE " + e.Code + ")" }

// AppendError appends e encoded as an ErrorResponse message to dst.
func AppendError(dst []byte, e Error) []byte {
	sev := e.Severity
	if sev == "" {
		sev = SeverityError
	}
	m := pgproto3.ErrorResponse{
		Severity: sev, SeverityUnlocalized: sev, Code: e.Code,
		Message: e.Message, Detail: e.Detail, Hint: e.Hint,
	}
	out, err := m.Encode(dst)
	if err != nil { // only on a message over 2 GiB
		return dst
	}
	return out
}

// Transaction statuses of ReadyForQuery.
const (
	TxIdle   = 'I'
	TxInTx   = 'T'
	TxFailed = 'E'
)

// AppendReadyForQuery appends a ReadyForQuery with status to dst.
func AppendReadyForQuery(dst []byte, status byte) []byte {
	return append(dst, byte(ServerReadyForQuery), 0, 0, 0, 5, status)
}

// WriteError writes e as one ErrorResponse.
func WriteError(w io.Writer, e Error) error {
	_, err := w.Write(AppendError(nil, e))
	return err
}

// WriteFatal writes a FATAL ErrorResponse with code and message.
func WriteFatal(w io.Writer, code, message string) error {
	return WriteError(w, Fatal(code, message))
}
