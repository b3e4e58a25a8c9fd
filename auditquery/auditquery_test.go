package auditquery

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/auditquery/audittest"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

var t0 = audittest.T0

func types(recs []eventlog.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Event.Type
	}
	return out
}

func ids(recs []eventlog.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Event.Type + "@" + eventlog.DecodeToken(r.Event.Subject)
	}
	return out
}

func TestSearch(t *testing.T) {
	t.Parallel()
	l := audittest.SampleAudit(t)
	ctx := context.Background()
	cases := []struct {
		name string
		f    Filter
		want int
	}{
		{"all", Filter{}, 10},
		{"alice", Filter{User: "alice"}, 8},
		{"alice on roach", Filter{User: "alice", DB: "roach"}, 7},
		{"bob queries", Filter{User: "bob", Types: []string{schemas.TypeQuery}}, 1},
		{"queries and results", Filter{Types: []string{schemas.TypeQuery, schemas.TypeQueryResult}}, 5},
		{"session s2", Filter{Session: "s2"}, 2},
		{"time window", Filter{From: t0.Add(3 * time.Second), To: t0.Add(5 * time.Second)}, 4},
		{"limit", Filter{Limit: 3}, 3},
	}
	for _, c := range cases {
		res, err := Search(ctx, l.S, c.f)
		require.NoError(t, err, c.name)
		recs := res.Records
		require.Equal(t, c.name == "limit", res.More, c.name)
		require.Len(t, recs, c.want, "%s: %v", c.name, ids(recs))
		for i := 1; i < len(recs); i++ {
			require.Less(t, recs[i-1].StreamSeq, recs[i].StreamSeq)
		}
	}
	_, err := Search(ctx, l.S, Filter{From: t0.Add(time.Hour), To: t0})
	require.ErrorContains(t, err, "before the start")
	res, err := Search(ctx, l.S, Filter{User: "alice", DB: "roach"})
	require.NoError(t, err)
	require.Equal(t, []string{"session.started", "query", "query.result", "query", "session.cancel", "query.result", "session.ended"},
		types(res.Records), "alice's events on roach, in order (rendered: internal/auditview TestRenderSearch)")
}

// TestSearchPages: a search larger than its limit says so and pages on
// from its cursor; the pages together are the whole answer, each record
// once, for a filtered search too.
func TestSearchPages(t *testing.T) {
	t.Parallel()
	l := audittest.SampleAudit(t)
	ctx := context.Background()
	for _, f := range []Filter{{}, {User: "alice", Types: []string{schemas.TypeQuery, schemas.TypeQueryResult, schemas.TypeSessionEnded}}} {
		all, err := Search(ctx, l.S, f)
		require.NoError(t, err)
		require.False(t, all.More)
		require.Zero(t, all.Cursor())
		var paged []eventlog.Record
		pages := 0
		f.Limit = 2
		for {
			res, err := Search(ctx, l.S, f)
			require.NoError(t, err)
			pages++
			paged = append(paged, res.Records...)
			if !res.More {
				require.LessOrEqual(t, len(res.Records), 2)
				break
			}
			require.Len(t, res.Records, 2)
			require.Equal(t, res.Records[1].StreamSeq, res.Cursor())
			f.After = res.Cursor()
		}
		require.Equal(t, ids(all.Records), ids(paged))
		require.Equal(t, (len(all.Records)+1)/2, pages)
	}
	// A page that ends exactly at the last match says there is no more.
	res, err := Search(ctx, l.S, Filter{Session: "s2", Limit: 2})
	require.NoError(t, err)
	require.Len(t, res.Records, 2)
	require.False(t, res.More)
}

func TestSession(t *testing.T) {
	t.Parallel()
	l := audittest.SampleAudit(t)
	tr, err := Session(context.Background(), l.S, "s1")
	require.NoError(t, err)
	require.NotNil(t, tr.Started)
	require.Len(t, tr.Queries, 2)
	require.Equal(t, "SELECT pg_sleep($1)", tr.Queries[1].Query.Statement)
	require.Equal(t, "57014", tr.Queries[1].Result.SQLState)
	require.Len(t, tr.Cancels, 1)
	require.Equal(t, schemas.EndClient, tr.Ended.Reason)

	_, err = Session(context.Background(), l.S, "nope")
	require.ErrorIs(t, err, ErrNoSession)
}

func TestAccessAt(t *testing.T) {
	t.Parallel()
	l := audittest.SampleAccess(t)
	ctx := context.Background()
	r, err := AccessAt(ctx, l.S, t0.Add(5*time.Minute), "alice", "")
	require.NoError(t, err)
	require.Zero(t, r.Rejected)
	require.True(t, r.Exists)
	require.Len(t, r.Databases, 2)
	require.Equal(t, []string{"prod"}, r.Databases[0].Roles) // ledger

	r, err = AccessAt(ctx, l.S, t0.Add(11*time.Minute), "alice", "")
	require.NoError(t, err)
	require.Len(t, r.Databases, 1)
	require.Equal(t, "roach", r.Databases[0].Database.Name)

	r, err = AccessAt(ctx, l.S, t0.Add(5*time.Minute), "alice", "roach")
	require.NoError(t, err)
	require.Len(t, r.Databases, 1)

	r, err = AccessAt(ctx, l.S, t0.Add(time.Minute), "alice", "")
	require.NoError(t, err)
	require.False(t, r.Exists)
}

// TestDiff: between two times, the roles, databases and users added or
// changed, and each user's reach gained or lost.
func TestDiff(t *testing.T) {
	t.Parallel()
	l := audittest.SampleAccess(t)
	ctx := context.Background()
	d, err := Diff(ctx, l.S, t0.Add(5*time.Minute), t0.Add(11*time.Minute))
	require.NoError(t, err)
	require.Equal(t, []Change{
		{Kind: "user", Name: "alice", What: "changed", Detail: "user alice changed"},
		{Kind: "reach", Name: "alice", What: "lost", Detail: "alice can no longer reach ledger"},
	}, d.Changes)

	d, err = Diff(ctx, l.S, t0.Add(30*time.Second), t0.Add(5*time.Minute))
	require.NoError(t, err)
	var lines []string
	for _, c := range d.Changes {
		lines = append(lines, c.Kind+" "+c.Name+" "+c.What)
	}
	require.Equal(t, []string{"role dev added", "role prod added", "user alice added", "database ledger added", "database roach added",
		"reach alice gained", "reach alice gained"}, lines)

	d, err = Diff(ctx, l.S, t0.Add(11*time.Minute), t0.Add(20*time.Minute))
	require.NoError(t, err)
	require.Empty(t, d.Changes, "nothing changed after the last event")
	_, err = Diff(ctx, l.S, t0.Add(time.Hour), t0)
	require.Error(t, err)
}
