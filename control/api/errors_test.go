package api

import (
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/eventlog"
)

func TestStatusOfErrors(t *testing.T) {
	t.Parallel()
	coded := func(code string) error { return &control.Error{Code: code, Message: "m"} }
	for _, tc := range []struct {
		name string
		err  error
		want int
	}{
		{"invalid", coded(control.CodeInvalid), http.StatusBadRequest},
		{"not found", coded(control.CodeNotFound), http.StatusNotFound},
		{"exists", coded(control.CodeExists), http.StatusConflict},
		{"conflict", coded(control.CodeConflict), http.StatusConflict},
		{"unauthorized", coded(control.CodeUnauthorized), http.StatusUnauthorized},
		{"expired", coded(control.CodeExpired), http.StatusUnauthorized},
		{"used", coded(control.CodeUsed), http.StatusUnauthorized},
		{"forbidden", coded(control.CodeForbidden), http.StatusForbidden},
		{"user locked", coded(control.CodeLocked), http.StatusForbidden},
		{"one-time code required", coded(control.CodeMFARequired), http.StatusUnauthorized},
		{"login throttled", &control.Error{Code: control.CodeLocked, Err: control.ErrLoginThrottled}, http.StatusTooManyRequests},
		{"body too large", &control.Error{Code: control.CodeInvalid, Err: fmt.Errorf("decode: %w", &http.MaxBytesError{Limit: MaxBody})},
			http.StatusRequestEntityTooLarge},
		{"unavailable", coded(control.CodeUnavailable), http.StatusServiceUnavailable},
		{"event log unavailable", fmt.Errorf("append: %w", eventlog.ErrUnavailable), http.StatusServiceUnavailable},
		{"internal", coded(control.CodeInternal), http.StatusInternalServerError},
		{"any other error", errors.New("disk on fire"), http.StatusInternalServerError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, status(control.AsError(tc.err)))
		})
	}
}
