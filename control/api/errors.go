package api

import (
	"errors"
	"net/http"

	"github.com/tollgate-db/tollgate/control"
)

// status is the HTTP status an API error is answered with: by its code,
// except a password login throttled after failures (429, it passes with
// time) and a request body over MaxBody (413). An error that is no
// control.Error is a 500, or a 503 while the event log is unavailable
// (control.AsError gives it its code).
func status(e *control.Error) int {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.Is(e, control.ErrLoginThrottled):
		return http.StatusTooManyRequests
	case errors.As(e, &tooLarge):
		return http.StatusRequestEntityTooLarge
	}
	switch e.Code {
	case control.CodeInvalid:
		return http.StatusBadRequest
	case control.CodeNotFound:
		return http.StatusNotFound
	case control.CodeExists, control.CodeConflict:
		return http.StatusConflict
	case control.CodeUnauthorized, control.CodeExpired, control.CodeUsed, control.CodeMFARequired:
		return http.StatusUnauthorized
	case control.CodeForbidden, control.CodeLocked:
		return http.StatusForbidden
	case control.CodeUnavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
