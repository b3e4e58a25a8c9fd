package control

import (
	"errors"
	"fmt"
	"net/http"
)

// Error codes of API errors.
const (
	CodeInvalid      = "invalid"
	CodeNotFound     = "not_found"
	CodeExists       = "already_exists"
	CodeConflict     = "conflict"
	CodeUnauthorized = "unauthorized"
	CodeForbidden    = "forbidden"
	CodeLocked       = "locked"
	CodeExpired      = "expired"
	CodeUsed         = "used"
	CodeUnavailable  = "unavailable"
	CodeInternal     = "internal"
)

// Error is an error a person can act on, with the HTTP status it maps to.
// Its message never contains a secret.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Err     error  `json:"-"`
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

func newErr(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Errorf helpers for each kind.
func invalidf(format string, args ...any) *Error {
	return newErr(http.StatusBadRequest, CodeInvalid, format, args...)
}

func notFoundf(format string, args ...any) *Error {
	return newErr(http.StatusNotFound, CodeNotFound, format, args...)
}

func existsf(format string, args ...any) *Error {
	return newErr(http.StatusConflict, CodeExists, format, args...)
}

func forbiddenf(format string, args ...any) *Error {
	return newErr(http.StatusForbidden, CodeForbidden, format, args...)
}

func unauthorizedf(format string, args ...any) *Error {
	return newErr(http.StatusUnauthorized, CodeUnauthorized, format, args...)
}

// AsError turns any error into an *Error: API errors keep their status,
// everything else is a 500 (or 503 when the log is unavailable) whose
// message says what failed.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, errUnavailable) {
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeUnavailable, Message: "the event log is unavailable; retry shortly", Err: err}
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error: " + err.Error(), Err: err}
}
