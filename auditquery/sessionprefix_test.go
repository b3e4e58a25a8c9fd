package auditquery

import (
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/auditquery/audittest"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestSessionsByPrefix: sessions are found by the start of their id, in
// either case, from their session.started or session.rejected, each
// once; the count covers matches past the limit; a ULID prefix bounds
// the read by time, and a session stored more than prefixSkew before the
// time of its id is not found (the bound is what keeps the read short).
func TestSessionsByPrefix(t *testing.T) {
	t.Parallel()
	l := audittest.NewLog(t, "TOLLGATE_AUDIT")
	id := func(at time.Duration, last byte) string {
		s := ulid.MustNew(ulid.Timestamp(t0.Add(at)), strings.NewReader(strings.Repeat("\x01", 16))).String()
		return s[:25] + string(last)
	}
	a, b, c := id(time.Second, 'A'), id(time.Second, 'B'), id(time.Minute, 'C')
	require.Equal(t, a[:25], b[:25])
	started := func(at time.Duration, sid, user string) {
		l.Audit(at, "roach", user, sid, schemas.TypeSessionStarted, schemas.SessionStarted{SessionID: sid, User: user, Database: "roach"})
	}
	started(time.Second, a, "alice")
	started(time.Second, b, "bob")
	l.Audit(time.Minute, "roach", "carol", c, schemas.TypeSessionStarted, schemas.SessionStarted{SessionID: c, User: "carol", Database: "roach"})
	l.Audit(time.Minute, "roach", "carol", c, schemas.TypeSessionRejected, schemas.SessionRejected{SessionID: c, User: "carol",
		Database: "roach", Code: schemas.RejectAuditUnavailable, Reason: "audit log unavailable"})
	l.Audit(2*time.Minute, "roach", "dave", "not-a-ulid", schemas.TypeSessionRejected, schemas.SessionRejected{SessionID: "not-a-ulid",
		User: "dave", Database: "roach", Code: schemas.RejectDenied, Reason: "no"})
	ctx := t.Context()

	got, n, err := SessionsByPrefix(ctx, l.S, a[:20], 10)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, []string{a, b}, []string{got[0].ID, got[1].ID})
	require.Equal(t, "alice", got[0].User)
	got, n, err = SessionsByPrefix(ctx, l.S, a[:20], 1)
	require.NoError(t, err)
	require.Equal(t, 2, n, "counted past the limit")
	require.Len(t, got, 1)

	got, n, err = SessionsByPrefix(ctx, l.S, strings.ToLower(c[:24]), 10)
	require.NoError(t, err)
	require.Equal(t, 1, n, "started and rejected are one session")
	require.Equal(t, c, got[0].ID)
	require.False(t, got[0].Rejected)

	got, n, err = SessionsByPrefix(ctx, l.S, "not-a", 10)
	require.NoError(t, err)
	require.Equal(t, 1, n, "ids that are not ULIDs are read without a time bound")
	require.True(t, got[0].Rejected)

	_, n, err = SessionsByPrefix(ctx, l.S, "7ZZZZ", 10)
	require.NoError(t, err)
	require.Zero(t, n)

	// A session id whose time is far after when its events were stored.
	late := ulid.MustNew(ulid.Timestamp(t0.Add(3*time.Hour)), strings.NewReader(strings.Repeat("\x02", 16))).String()
	started(3*time.Minute, late, "erin")
	_, n, err = SessionsByPrefix(ctx, l.S, late[:12], 10)
	require.NoError(t, err)
	require.Zero(t, n, "stored more than an hour before its id's time: outside the bound")
	_, n, err = SessionsByPrefix(ctx, l.S, late, 10)
	require.NoError(t, err)
	require.Zero(t, n)

	_, _, err = SessionsByPrefix(ctx, l.S, "", 10)
	require.Error(t, err)
}
