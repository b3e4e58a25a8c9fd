package relay

import (
	"errors"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/pgwire"
)

// The texts of a refused strict batch name the cause: an event over the
// size bound is not an outage of the audit log.
const (
	notExecutedAudit    = "not executed: audit log unavailable"
	notExecutedTooLarge = "not executed: its audit event is larger than the audit event size bound"
)

var (
	errAuditRefused    = pgwire.NewError(pgwire.CodeAuditUnavailable, "audit log unavailable; query not executed")
	errTooLargeRefused = pgwire.NewError(pgwire.CodeProgramLimitExceeded,
		"query not executed: its audit event is larger than the audit event size bound (a statement, parameter or name too long to record)")
)

// refusalFor is what the client is told for a batch whose events could
// not be recorded with err, with why.
func refusalFor(err error) pgwire.Error {
	e := errAuditRefused
	if errors.Is(err, eventlog.ErrTooLarge) {
		e = errTooLargeRefused
	}
	e.Message += ": " + err.Error()
	return e
}

// notExecutedFor is the SQLSTATE and text of the "not executed"
// query.result of a batch refused with err.
func notExecutedFor(err error) (sqlstate, text string) {
	if errors.Is(err, eventlog.ErrTooLarge) {
		return pgwire.CodeProgramLimitExceeded, notExecutedTooLarge
	}
	return pgwire.CodeAuditUnavailable, notExecutedAudit
}
