package api

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
)

// TestEveryCallMounted: each call of wire's table is served by its own
// pattern, and a path no call has reaches the 404 handler.
func TestEveryCallMounted(t *testing.T) {
	t.Parallel()
	svc, err := control.New(control.Config{Control: memlog.New(eventlog.ControlStream), Audit: memlog.New(eventlog.AuditStream), DataDir: t.TempDir()})
	require.NoError(t, err)
	mux := New(svc, zerolog.Nop()).mux
	routes := wire.Routes()
	require.NotEmpty(t, routes)
	for _, r := range routes {
		path := r.Pattern
		for _, w := range r.Wildcards() {
			path = strings.Replace(path, "{"+w+"}", "x", 1)
		}
		_, pattern := mux.Handler(httptest.NewRequest(r.Method, path, nil))
		require.Equal(t, r.String(), pattern, "%s %s", r.Method, path)
	}
	for _, req := range [][2]string{{"GET", "/v1/nothing"}, {"PATCH", "/v1/users"}, {"GET", "/v1/users/"}} {
		_, pattern := mux.Handler(httptest.NewRequest(req[0], req[1], nil))
		require.Equal(t, "/", pattern, "%v", req)
	}
}
