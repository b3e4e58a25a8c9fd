package auditview

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/auditquery"
	"github.com/tollgate-db/tollgate/auditquery/audittest"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestOldVersionsAreUpcast: made up for the test, session.ended is at v2
// (today's Go type) and its v1 recorded seconds ("duration_s"). A v1 event
// reaches the transcript and the search summary through the upcaster. Not
// parallel: the override is process-wide.
func TestOldVersionsAreUpcast(t *testing.T) {
	schemas.OverrideVersion(t, schemas.TypeSessionEnded, 2, schemas.Upcaster{Type: schemas.TypeSessionEnded, From: 1,
		Up: func(d json.RawMessage) (json.RawMessage, error) {
			var m map[string]any
			if err := json.Unmarshal(d, &m); err != nil {
				return nil, err
			}
			m["duration_ms"] = int64(m["duration_s"].(float64) * 1000)
			delete(m, "duration_s")
			return json.Marshal(m)
		}})
	l := audittest.NewLog(t, "TOLLGATE_AUDIT")
	l.Audit(0, "roach", "alice", "s1", schemas.TypeSessionStarted, schemas.SessionStarted{SessionID: "s1", User: "alice", Database: "roach"})
	l.Audit(time.Minute, "roach", "alice", "s1", schemas.TypeSessionEnded,
		map[string]any{"session_id": "s1", "reason": "client", "duration_s": 93.512, "queries": 17}) // written as v1

	tr, err := auditquery.Session(context.Background(), l.S, "s1")
	require.NoError(t, err)
	require.Equal(t, int64(93512), tr.Ended.DurationMS)
	var b bytes.Buffer
	require.NoError(t, RenderTranscript(&b, &tr))
	require.Contains(t, b.String(), "reason=client after 1m33.512s, 17 queries")

	res, err := auditquery.Search(context.Background(), l.S, auditquery.Filter{Types: []string{schemas.TypeSessionEnded}})
	require.NoError(t, err)
	b.Reset()
	require.NoError(t, RenderRecords(&b, res.Records, RecordsOptions{}))
	require.Contains(t, b.String(), "client after 1m33.512s, 17 queries")
}

// TestFloodSummariesRendered: a summary event says how many were not
// recorded one by one; an event this binary cannot decode says why.
func TestFloodSummariesRendered(t *testing.T) {
	t.Parallel()
	l := audittest.NewLog(t, "TOLLGATE_AUDIT")
	l.Audit(0, "", "", "s9", schemas.TypeSessionRejected, schemas.SessionRejected{SessionID: "s9", ClientAddr: "198.51.100.7:4000",
		AgentID: "agent-1", Code: schemas.RejectPlaintext, Reason: "TLS required", Suppressed: 4995})
	l.Audit(time.Second, "", "", "", schemas.TypeSessionCancel, schemas.SessionCancel{ClientAddr: "198.51.100.7:4001",
		Reason: "no session matches the cancel key", Suppressed: 28817})
	l.Add(2*time.Second, "session.renamed", "tollgate.audit.~.~.~.session_renamed", map[string]any{"x": 1})
	res, err := auditquery.Search(context.Background(), l.S, auditquery.Filter{})
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, RenderRecords(&b, res.Records, RecordsOptions{}))
	require.Contains(t, b.String(), "[4995 refusals not recorded one by one (rate limit); the last:] plaintext: TLS required")
	require.Contains(t, b.String(), "[28817 cancel requests not recorded one by one (rate limit); the last:] from 198.51.100.7:4001")
	require.Contains(t, b.String(), `(cannot decode: decode "session.renamed" v1: unknown event type)`)
}

// TestDescribeUpcasts: Describe decodes through schemas, so an event of
// an older version is upcast. Made up for the test: query is at v2
// (today's Go type) and its v1 called the statement "sql". Not parallel:
// the override is process-wide.
func TestDescribeUpcasts(t *testing.T) {
	schemas.OverrideVersion(t, schemas.TypeQuery, 2, schemas.Upcaster{Type: schemas.TypeQuery, From: 1,
		Up: func(d json.RawMessage) (json.RawMessage, error) {
			var m map[string]any
			if err := json.Unmarshal(d, &m); err != nil {
				return nil, err
			}
			m["statement"] = m["sql"]
			delete(m, "sql")
			return json.Marshal(m)
		}})
	ev := eventlog.Event{ID: "e1", Type: schemas.TypeQuery, V: 1, Time: time.Now(), Source: "agent-1",
		Subject: eventlog.AuditSubject("roach", "alice", "s1", schemas.TypeQuery),
		Data:    json.RawMessage(`{"session_id":"s1","n":3,"kind":"simple","sql":"SELECT 42"}`)}
	require.Equal(t, Described{DB: "roach", User: "alice", Session: "s1", Detail: "#3 SELECT 42"}, Describe(ev))

	ev.V = 3
	require.Contains(t, Describe(ev).Detail, "cannot decode")
}
