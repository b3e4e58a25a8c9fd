package frontdoor

import (
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/schemas"
)

func recordedSize(m map[string]string) int {
	n := 0
	for k, v := range m {
		n += len(k) + len(v)
	}
	return n
}

func TestRecordedParams(t *testing.T) {
	t.Parallel()
	small := map[string]string{"user": "app", "database": "appdb", "application_name": "psql"}
	got, cut := RecordedParams(small)
	require.False(t, cut)
	require.Equal(t, small, got)

	// One huge value is cut at a rune boundary.
	got, cut = RecordedParams(map[string]string{"user": "app", "application_name": strings.Repeat("é", 4600)})
	require.True(t, cut)
	require.Equal(t, "app", got["user"])
	require.LessOrEqual(t, len(got["application_name"]), MaxRecordedValue)
	require.GreaterOrEqual(t, len(got["application_name"]), MaxRecordedValue-1)
	require.True(t, utf8.ValidString(got["application_name"]))

	// Thousands of parameters: the total is bounded, the well-known ones
	// are kept, and what is kept does not depend on map order.
	many := map[string]string{"user": "app", "database": "appdb", "options": "-c search_path=x"}
	for i := range 3000 {
		many[fmt.Sprintf("p%04d", i)] = "v"
	}
	got, cut = RecordedParams(many)
	require.True(t, cut)
	require.LessOrEqual(t, recordedSize(got), MaxRecordedParams)
	require.Equal(t, "app", got["user"])
	require.Equal(t, "appdb", got["database"])
	require.Equal(t, "-c search_path=x", got["options"])
	require.Equal(t, "v", got["p0000"])
	again, _ := RecordedParams(many)
	require.Equal(t, got, again)

	// Long names are cut too; two that collide keep one.
	got, cut = RecordedParams(map[string]string{strings.Repeat("n", 100) + "a": "1", strings.Repeat("n", 100) + "b": "2"})
	require.True(t, cut)
	require.Len(t, got, 1)
	for k := range got {
		require.Len(t, k, MaxRecordedName)
	}
}

// TestRecordedStartupIsCapped: real psql sends a 9 KB application_name;
// the rejection of the plaintext startup and the session.started of a
// TLS session record it cut (flagged), while the session keeps the
// parameters whole for the database. Only a refusal after the cert was
// verified is marked Authenticated.
func TestRecordedStartupIsCapped(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, nil)
	huge := strings.Repeat("A", 9000)
	fx.psql(t, "sslmode=disable user=app dbname=appdb application_name="+huge)
	r := requireRejection(t, fx.next(t).err, schemas.RejectPlaintext)
	require.False(t, r.Authenticated)
	require.True(t, r.Event.Truncated)
	require.Len(t, r.Event.Params["application_name"], MaxRecordedValue)
	require.Equal(t, "app", r.Event.Params["user"])

	cert := fx.userCA.issue(t, false, "alice", "roach", time.Now().Add(time.Hour))
	fx.psqlTLS(t, cert, "user=app dbname=appdb application_name="+huge)
	res := fx.next(t)
	require.NoError(t, res.err)
	require.Equal(t, huge, res.s.Params["application_name"], "the session keeps what was sent")
	started := res.s.Started("agent-1")
	require.True(t, started.Truncated)
	require.Len(t, started.Params["application_name"], MaxRecordedValue)
	small := fx.userCA.issue(t, false, "alice", "roach", time.Now().Add(time.Hour))
	fx.psqlTLS(t, small, "user=app dbname=appdb application_name=short")
	res = fx.next(t)
	require.NoError(t, res.err)
	require.False(t, res.s.Started("agent-1").Truncated)

	fx.mu.Lock()
	fx.decide = func(Request) Decision { return Decision{Code: schemas.RejectDenied, Reason: "no role allows it"} }
	fx.mu.Unlock()
	fx.psqlTLS(t, cert, "user=app dbname=appdb")
	r = requireRejection(t, fx.next(t).err, schemas.RejectDenied)
	require.True(t, r.Authenticated, "the cert was verified before the decision")
	require.False(t, r.Event.Truncated)

	foreign := newCA(t, "foreign CA").issue(t, false, "alice", "roach", time.Now().Add(time.Hour))
	fx.psqlTLS(t, foreign, "user=app dbname=appdb")
	r = requireRejection(t, fx.next(t).err, schemas.RejectBadCert)
	require.False(t, r.Authenticated, "anyone can present a self-made cert")
}
