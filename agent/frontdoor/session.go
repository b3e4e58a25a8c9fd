package frontdoor

import (
	"bufio"
	"crypto/tls"
	"errors"
	"sync"
	"time"

	"github.com/tollgate-db/tollgate/internal/pgwire"
	"github.com/tollgate-db/tollgate/schemas"
)

// ErrCancelRequest is returned by Handle when the connection carried a
// CancelRequest: it was handed to the CancelHandler and the connection is
// closed. Nothing to record as a session.
var ErrCancelRequest = errors.New("frontdoor: cancel request handled")

// Session is an authorized client connection, ready for the relay.
type Session struct {
	// ID is the session id (ULID).
	ID       string
	Identity Identity
	Database Database
	DBUser   string
	// DBName is the database name asked for (the db user when empty).
	DBName string
	// Params are every startup parameter as sent, plus database when it
	// was defaulted.
	Params     map[string]string
	ClientAddr string
	// CertExpiry is the client cert's NotAfter: the session must end then.
	CertExpiry time.Time
	Decision   Decision
	// Startup is the client's StartupMessage (Raw as received).
	Startup *pgwire.Startup
	// Conn is the TLS connection; Reader buffers it (it may already hold
	// the client's next messages): read through Reader, write to Conn.
	Conn   *tls.Conn
	Reader *bufio.Reader

	release func()
	once    sync.Once
}

// Started returns the session.started payload for agentID. The startup
// parameters, db user and db name are cut to the recorded bounds
// (RecordedParams; Truncated says so); the session itself keeps them whole.
func (s *Session) Started(agentID string) schemas.SessionStarted {
	params, cut := RecordedParams(s.Params)
	dbUser, cutUser := capText(s.DBUser, MaxRecordedValue)
	dbName, cutName := capText(s.DBName, MaxRecordedValue)
	return schemas.SessionStarted{
		SessionID:     s.ID,
		User:          s.Identity.User,
		Roles:         s.Decision.Roles,
		Database:      s.Database.Name,
		DBUser:        dbUser,
		DBName:        dbName,
		Protocol:      s.Database.Protocol,
		ClientAddr:    s.ClientAddr,
		AgentID:       agentID,
		CertSerial:    s.Identity.Serial,
		DecidedBy:     s.Decision.DecidedBy,
		AccessRequest: s.Decision.AccessRequest,
		Params:        params,
		Truncated:     cut || cutUser || cutName,
	}
}

// Close closes the connection and frees its connection slot. Safe to call
// more than once.
func (s *Session) Close() error {
	var err error
	s.once.Do(func() {
		if s.Conn != nil {
			err = s.Conn.Close()
		}
		if s.release != nil {
			s.release()
		}
	})
	return err
}

// Rejection is a refused connection: the client got Sent (when the
// connection could still carry it) and the caller records Event as
// session.rejected. Event's parameters, db user, db name and user are cut
// to the recorded bounds (Event.Truncated says so).
type Rejection struct {
	Event schemas.SessionRejected
	// Authenticated is set when the client's certificate was verified
	// against the user CA before the refusal: Event.User is then a real
	// user. Otherwise anyone who can reach the listener could have caused
	// it, and the caller rate-limits recording it (agent/recordlimit).
	Authenticated bool
	// Sent is the ErrorResponse sent to the client (zero if none could be
	// sent, e.g. a failed TLS handshake).
	Sent pgwire.Error
	// Err is the underlying cause, if any.
	Err error
}

func (r *Rejection) Error() string {
	msg := "session rejected (" + r.Event.Code + "): " + r.Event.Reason
	if r.Err != nil {
		msg += ": " + r.Err.Error()
	}
	return msg
}

// Unwrap returns the cause.
func (r *Rejection) Unwrap() error { return r.Err }
