package control

import (
	"errors"
	"fmt"
)

// Error codes of API errors. Each says what kind of refusal it is; the
// HTTP status it is answered with is control/api's choice.
const (
	CodeInvalid      = "invalid"
	CodeNotFound     = "not_found"
	CodeExists       = "already_exists"
	CodeConflict     = "conflict"
	CodeUnauthorized = "unauthorized"
	// CodeMFARequired: a login whose user has a second factor came
	// without its one-time code (the client asks for it and retries).
	CodeMFARequired = "mfa_required"
	CodeForbidden   = "forbidden"
	CodeLocked      = "locked"
	CodeExpired     = "expired"
	CodeUsed        = "used"
	CodeUnavailable = "unavailable"
	CodeInternal    = "internal"
)

// ErrLoginThrottled is wrapped by the CodeLocked error of a password login
// refused because of too many failures in a row (as opposed to a lock on
// the user): it passes with time, not with an admin.
var ErrLoginThrottled = errors.New("password login throttled")

// Error is an error a person can act on: a Code saying what kind it is and
// a Message saying what to do. Its message never contains a secret.
type Error struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Err     error  `json:"-"`
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func newErr(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Errorf helpers for each kind.
func invalidf(format string, args ...any) *Error { return newErr(CodeInvalid, format, args...) }

func notFoundf(format string, args ...any) *Error { return newErr(CodeNotFound, format, args...) }

func existsf(format string, args ...any) *Error { return newErr(CodeExists, format, args...) }

func forbiddenf(format string, args ...any) *Error { return newErr(CodeForbidden, format, args...) }

func conflictf(format string, args ...any) *Error { return newErr(CodeConflict, format, args...) }

func unauthorizedf(format string, args ...any) *Error {
	return newErr(CodeUnauthorized, format, args...)
}

// AsError turns any error into an *Error: API errors stay as they are, an
// unavailable event log is CodeUnavailable, everything else CodeInternal
// with a message that says what failed.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, errUnavailable) {
		return &Error{Code: CodeUnavailable, Message: "the event log is unavailable; retry shortly", Err: err}
	}
	return &Error{Code: CodeInternal, Message: "internal error: " + err.Error(), Err: err}
}

// isCode tells whether err is an *Error with code.
func isCode(err error, code string) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == code
}
