package wire

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/schemas"
)

// roundTrip sends req the client's way (Target, Body) to a ServeMux
// serving call's pattern, and decodes it there the server's way (Decode).
func roundTrip[Req, Resp any](t *testing.T, call Call[Req, Resp], req Req) (string, Req) {
	t.Helper()
	target := call.Target(req)
	var body *strings.Reader
	if b, ok := call.Body(req); ok {
		raw, err := json.Marshal(b)
		require.NoError(t, err)
		body = strings.NewReader(string(raw))
	} else {
		body = strings.NewReader("")
	}
	var (
		got     Req
		decoded bool
	)
	mux := http.NewServeMux()
	mux.HandleFunc(call.String(), func(w http.ResponseWriter, r *http.Request) {
		var err error
		got, err = call.Decode(r.PathValue, r.URL.Query(), func(v any) error { return json.NewDecoder(r.Body).Decode(v) })
		require.NoError(t, err)
		decoded = true
	})
	mux.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(call.Method, target, body))
	require.True(t, decoded, "%s reached %s", target, call)
	return target, got
}

func TestRequestsRoundTrip(t *testing.T) {
	t.Parallel()
	since := time.Date(2025, 1, 2, 15, 4, 5, 123456789, time.FixedZone("x", 3600))

	target, ev := roundTrip(t, GetEvents, EventsQuery{Stream: "audit", Type: "query", Since: since, FromSeq: 7, Limit: 20})
	require.Equal(t, "/v1/events?from_seq=7&limit=20&since=2025-01-02T14%3A04%3A05.123456789Z&stream=audit&type=query", target)
	require.True(t, since.Equal(ev.Since))
	ev.Since = since
	require.Equal(t, EventsQuery{Stream: "audit", Type: "query", Since: since, FromSeq: 7, Limit: 20}, ev)
	target, ev = roundTrip(t, GetEvents, EventsQuery{})
	require.Equal(t, "/v1/events", target, "zero values are not sent")
	require.Equal(t, EventsQuery{}, ev)

	target, dbs := roundTrip(t, GetDatabases, DatabasesQuery{All: true})
	require.Equal(t, "/v1/databases?all=true", target)
	require.True(t, dbs.All)
	target, _ = roundTrip(t, GetDatabases, DatabasesQuery{})
	require.Equal(t, "/v1/databases", target)

	target, name := roundTrip(t, GetUser, "a b/c")
	require.Equal(t, "/v1/users/a%20b%2Fc", target, "a wildcard is one escaped segment")
	require.Equal(t, "a b/c", name)
	target, name = roundTrip(t, PostUserReset, "bob")
	require.Equal(t, "/v1/users/bob/reset", target)
	require.Equal(t, "bob", name)
	_, ok := PostUserReset.Body("bob")
	require.False(t, ok, "a reset sends no body")

	u := schemas.User{Name: "in-body", Roles: []string{"access"}}
	target, put := roundTrip(t, PutUser, Named[schemas.User]{Name: "bob", Body: u})
	require.Equal(t, "/v1/users/bob", target)
	require.Equal(t, Named[schemas.User]{Name: "bob", Body: u}, put)
	b, _ := PutUser.Body(Named[schemas.User]{Name: "bob", Body: u})
	require.Equal(t, u, b, "the body is the user alone")

	target, add := roundTrip(t, PostUsers, u)
	require.Equal(t, "/v1/users", target)
	require.Equal(t, u, add)

	target, _ = roundTrip(t, GetPing, None{})
	require.Equal(t, "/v1/ping", target)
	_, ok = GetPing.Body(None{})
	require.False(t, ok)
	require.True(t, DeleteUser.NoContent())
	require.False(t, GetUser.NoContent())
}

func TestBadQueryNamesTheParameter(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ query, want string }{
		{"since=yesterday", "query parameter since=yesterday is not valid"},
		{"from_seq=-1", "query parameter from_seq=-1 is not valid"},
		{"limit=ten", "query parameter limit=ten is not valid"},
		{"since=2025-01-02T15:04:05Z&limit=x", "query parameter limit=x is not valid"},
	} {
		r := httptest.NewRequest("GET", "/v1/events?"+tc.query, nil)
		_, err := GetEvents.Decode(r.PathValue, r.URL.Query(), nil)
		var qe *QueryError
		require.ErrorAs(t, err, &qe, tc.query)
		require.EqualError(t, err, tc.want)
	}
	r := httptest.NewRequest("GET", "/v1/databases?all=yes", nil)
	q, err := GetDatabases.Decode(r.PathValue, r.URL.Query(), nil)
	require.NoError(t, err, "a bool is true only for \"true\", as the API always read it")
	require.False(t, q.All)
}

func TestDefinitionsFitTheirPatterns(t *testing.T) {
	t.Parallel()
	type twoPaths struct {
		A string `path:"a"`
		B string `path:"b"`
	}
	type badQuery struct {
		F []string `query:"f"`
	}
	for _, tc := range []struct {
		name   string
		define func()
		want   string
	}{
		{"string needs one wildcard", func() { authed[string, None]("GET /v1/x") }, "the pattern has 0"},
		{"none has no wildcard", func() { authed[None, None]("GET /v1/x/{id}") }, "wildcards [id] are not the request's path fields []"},
		{"path fields are the wildcards", func() { authed[twoPaths, None]("GET /v1/{a}/{c}") }, "wildcards [a c] are not the request's path fields [a b]"},
		{"a body needs POST or PUT", func() { authed[schemas.User, None]("GET /v1/users") }, "GET sends no body"},
		{"a query is a plain value", func() { authed[badQuery, None]("GET /v1/x") }, "query field F is a []string"},
		{"a call has a method", func() { authed[None, None]("/v1/x") }, "has no method"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := len(routes)
			require.PanicsWithValue(t, tc.want, func() {
				defer func() {
					r := recover()
					if s, ok := r.(string); ok && strings.Contains(s, tc.want) {
						panic(tc.want)
					}
					panic(r)
				}()
				tc.define()
			})
			require.Len(t, routes, n, "a refused call is not listed")
		})
	}
}

var update = flag.Bool("update", false, "rewrite testdata/routes.golden")

// TestRoutes pins the HTTP surface: every call's method, pattern and
// whether it is open, once each, against testdata/routes.golden (old
// clients depend on it; -update rewrites it for a deliberate change).
func TestRoutes(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	seen := map[string]bool{}
	for _, r := range Routes() {
		require.False(t, seen[r.String()], "%s defined twice", r)
		seen[r.String()] = true
		access := "authenticated"
		if r.Open {
			access = "open"
		}
		fmt.Fprintf(&b, "%-7s %-28s %s\n", r.Method, r.Pattern, access)
	}
	golden := filepath.Join("testdata", "routes.golden")
	if *update {
		require.NoError(t, os.WriteFile(golden, []byte(b.String()), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	require.Equal(t, string(want), b.String())
}
