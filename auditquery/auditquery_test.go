package auditquery

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/tollgate-db/tollgate/internal/testclock"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
	"github.com/tollgate-db/tollgate/schemas"
)

var update = flag.Bool("update", false, "rewrite golden files")

var t0 = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

type logw struct {
	tb    testing.TB
	s     *memlog.Stream
	clock *testclock.Clock // memlog stores each event at the time set before append
	chain *eventlog.Chainer
	n     int
}

func newLog(tb testing.TB, name string) *logw {
	c := testclock.New(t0)
	return &logw{tb: tb, s: memlog.New(name, memlog.WithClock(c)), clock: c, chain: eventlog.NewChainer(0, "")}
}

func (l *logw) add(at time.Duration, typ, subject string, data any) {
	l.n++
	raw, err := json.Marshal(data)
	require.NoError(l.tb, err)
	ev := eventlog.Event{ID: fmt.Sprintf("%s-%04d", l.s.Name(), l.n), Type: typ, V: 1, Time: t0.Add(at), Source: "agent-1",
		Actor: "alice", Subject: subject, Data: raw}
	if l.s.Name() == eventlog.AuditStream {
		require.NoError(l.tb, l.chain.Next(&ev))
	}
	l.clock.Set(ev.Time)
	_, err = l.s.Append(context.Background(), ev)
	require.NoError(l.tb, err)
}

func (l *logw) audit(at time.Duration, db, user, sess, typ string, data any) {
	l.add(at, typ, eventlog.AuditSubject(db, user, sess, typ), data)
}

func sampleAudit(tb testing.TB) *logw {
	l := newLog(tb, eventlog.AuditStream)
	l.audit(0, "", "alice", "", schemas.TypeAuthLogin, schemas.AuthLogin{User: "alice", Success: true, Method: "password"})
	l.audit(time.Second, "roach", "alice", "s1", schemas.TypeSessionStarted, schemas.SessionStarted{SessionID: "s1", User: "alice",
		Database: "roach", DBUser: "alice", DBName: "bank", Protocol: "postgres", ClientAddr: "192.0.2.1:5000", AgentID: "agent-1", DecidedBy: "access"})
	l.audit(2*time.Second, "pg", "bob", "s2", schemas.TypeSessionStarted, schemas.SessionStarted{SessionID: "s2", User: "bob", Database: "pg"})
	l.audit(3*time.Second, "roach", "alice", "s1", schemas.TypeQuery, schemas.Query{SessionID: "s1", N: 1, Kind: "simple", Statement: "SELECT 1"})
	l.audit(3*time.Second+time.Millisecond, "roach", "alice", "s1", schemas.TypeQueryResult, schemas.QueryResult{SessionID: "s1", N: 1, Status: "ok", CommandTag: "SELECT 1", Rows: 1, DurationUS: 250})
	l.audit(4*time.Second, "pg", "bob", "s2", schemas.TypeQuery, schemas.Query{SessionID: "s2", N: 1, Kind: "simple", Statement: "SELECT 2"})
	l.audit(5*time.Second, "roach", "alice", "s1", schemas.TypeQuery, schemas.Query{SessionID: "s1", N: 2, Kind: "extended",
		Statement: "SELECT pg_sleep($1)", Params: []schemas.QueryParam{{Format: "text", Value: "60"}}})
	l.audit(6*time.Second, "roach", "alice", "s1", schemas.TypeSessionCancel, schemas.SessionCancel{SessionID: "s1", ClientAddr: "192.0.2.1:5001", Matched: true, Forwarded: true})
	l.audit(6*time.Second+time.Millisecond, "roach", "alice", "s1", schemas.TypeQueryResult, schemas.QueryResult{SessionID: "s1", N: 2, Status: "error",
		SQLState: "57014", Error: "canceling statement due to user request", DurationUS: 1000000})
	l.audit(7*time.Second, "roach", "alice", "s1", schemas.TypeSessionEnded, schemas.SessionEnded{SessionID: "s1", Reason: schemas.EndClient, DurationMS: 6000, Queries: 2, BytesIn: 100, BytesOut: 200})
	return l
}

func golden(t *testing.T, name string, got []byte) {
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./auditquery -update")
	require.Equal(t, string(want), string(got))
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
	l := sampleAudit(t)
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
		res, err := Search(ctx, l.s, c.f)
		require.NoError(t, err, c.name)
		recs := res.Records
		require.Equal(t, c.name == "limit", res.More, c.name)
		require.Len(t, recs, c.want, "%s: %v", c.name, ids(recs))
		for i := 1; i < len(recs); i++ {
			require.Less(t, recs[i-1].StreamSeq, recs[i].StreamSeq)
		}
	}
	_, err := Search(ctx, l.s, Filter{From: t0.Add(time.Hour), To: t0})
	require.ErrorContains(t, err, "before the start")
	res, err := Search(ctx, l.s, Filter{User: "alice", DB: "roach"})
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, RenderRecords(&b, res.Records, RecordsOptions{}))
	golden(t, "search", b.Bytes())
}

// TestSearchPages: a search larger than its limit says so and pages on
// from its cursor; the pages together are the whole answer, each record
// once, for a filtered search too.
func TestSearchPages(t *testing.T) {
	t.Parallel()
	l := sampleAudit(t)
	ctx := context.Background()
	for _, f := range []Filter{{}, {User: "alice", Types: []string{schemas.TypeQuery, schemas.TypeQueryResult, schemas.TypeSessionEnded}}} {
		all, err := Search(ctx, l.s, f)
		require.NoError(t, err)
		require.False(t, all.More)
		require.Zero(t, all.Cursor())
		var paged []eventlog.Record
		pages := 0
		f.Limit = 2
		for {
			res, err := Search(ctx, l.s, f)
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
	res, err := Search(ctx, l.s, Filter{Session: "s2", Limit: 2})
	require.NoError(t, err)
	require.Len(t, res.Records, 2)
	require.False(t, res.More)
}

func TestSession(t *testing.T) {
	t.Parallel()
	l := sampleAudit(t)
	tr, err := Session(context.Background(), l.s, "s1")
	require.NoError(t, err)
	require.NotNil(t, tr.Started)
	require.Len(t, tr.Queries, 2)
	require.Equal(t, "SELECT pg_sleep($1)", tr.Queries[1].Query.Statement)
	require.Equal(t, "57014", tr.Queries[1].Result.SQLState)
	require.Len(t, tr.Cancels, 1)
	require.Equal(t, schemas.EndClient, tr.Ended.Reason)
	var b bytes.Buffer
	require.NoError(t, RenderTranscript(&b, &tr))
	golden(t, "session", b.Bytes())

	_, err = Session(context.Background(), l.s, "nope")
	require.ErrorIs(t, err, ErrNoSession)
}

func TestAccessAt(t *testing.T) {
	t.Parallel()
	l := newLog(t, eventlog.ControlStream)
	role := func(name, env string) schemas.Role {
		return schemas.Role{Name: name, Spec: schemas.RoleSpec{Allow: schemas.RoleConditions{
			DBLabels: map[string][]string{"env": {env}}, DBUsers: []string{"alice", "reader"}, DBNames: []string{"*"}}}}
	}
	cs := func(kind, name string) string { return eventlog.ControlSubject(kind, name) }
	l.add(0, schemas.TypeClusterCreated, cs(eventlog.KindCluster, "main"), schemas.ClusterCreated{Name: "main", Version: "test"})
	l.add(time.Minute, schemas.TypeRoleCreated, cs(eventlog.KindRole, "dev"), role("dev", "dev"))
	l.add(time.Minute, schemas.TypeRoleCreated, cs(eventlog.KindRole, "prod"), role("prod", "prod"))
	l.add(2*time.Minute, schemas.TypeDatabaseRegistered, cs(eventlog.KindDatabase, "roach"),
		schemas.Database{Name: "roach", Protocol: schemas.ProtocolPostgres, URI: "roach:5432", Labels: map[string]string{"env": "dev"}})
	l.add(2*time.Minute, schemas.TypeDatabaseRegistered, cs(eventlog.KindDatabase, "ledger"),
		schemas.Database{Name: "ledger", Protocol: schemas.ProtocolPostgres, URI: "ledger:5432", Labels: map[string]string{"env": "prod"}})
	l.add(3*time.Minute, schemas.TypeUserCreated, cs(eventlog.KindUser, "alice"), schemas.UserCreated{User: schemas.User{Name: "alice", Roles: []string{"dev", "prod"}}})
	l.add(10*time.Minute, schemas.TypeUserUpdated, cs(eventlog.KindUser, "alice"), schemas.User{Name: "alice", Roles: []string{"dev"}})

	ctx := context.Background()
	r, err := AccessAt(ctx, l.s, t0.Add(5*time.Minute), "alice", "")
	require.NoError(t, err)
	require.Zero(t, r.Rejected)
	require.True(t, r.Exists)
	require.Len(t, r.Databases, 2)
	require.Equal(t, []string{"prod"}, r.Databases[0].Roles) // ledger
	var b bytes.Buffer
	require.NoError(t, RenderAccess(&b, &r))
	golden(t, "access_before", b.Bytes())

	r, err = AccessAt(ctx, l.s, t0.Add(11*time.Minute), "alice", "")
	require.NoError(t, err)
	require.Len(t, r.Databases, 1)
	require.Equal(t, "roach", r.Databases[0].Database.Name)

	r, err = AccessAt(ctx, l.s, t0.Add(5*time.Minute), "alice", "roach")
	require.NoError(t, err)
	require.Len(t, r.Databases, 1)

	r, err = AccessAt(ctx, l.s, t0.Add(time.Minute), "alice", "")
	require.NoError(t, err)
	require.False(t, r.Exists)
}
