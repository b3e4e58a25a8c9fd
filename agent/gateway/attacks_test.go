package gateway_test

import (
	"bufio"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgproto3/v2"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/gateway"
	"github.com/tollgate-db/tollgate/agent/relay"
	"github.com/tollgate-db/tollgate/agent/relay/difftest"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestAttacksRecordWhatRanThroughTheAgent runs issue 9's attacks — each
// made the audit record another statement than the one that ran — through
// a whole agent (TLS with a user cert, the access decision, the db_client
// cert to PostgreSQL), in strict and async mode, and aligns PostgreSQL's
// log_statement=all with the session's `query` events, statement by
// statement (agent/relay's differential test runs random sequences the
// same way).
func TestAttacksRecordWhatRanThroughTheAgent(t *testing.T) {
	for _, m := range []struct {
		name string
		mode relay.Mode
	}{{"strict", relay.Strict}, {"async", relay.Async}} {
		t.Run(m.name, func(t *testing.T) {
			h := newHarnessWith(t, func(h *harness) {
				h.opt = func(o *gateway.Options) { o.AuditMode = m.mode }
			})
			h.addUser("alice", []string{"access"}, []string{"alice"})
			alice := h.dbCert("alice", "roach", time.Hour)
			seen := map[string]bool{}
			for name, msgs := range difftest.Attacks() {
				t.Run(name, func(t *testing.T) {
					logged, evs := h.runSequence(t, h.connString(alice, "alice", "postgres"), "alice", msgs, seen)
					require.Empty(t, difftest.Compare(logged, evs), "sequence:\n%s", difftest.Describe(msgs))
					if strings.Contains(strings.Join(logged, "\n"), difftest.Other) {
						require.Contains(t, queryTexts(t, evs), difftest.Other, "the text that ran is on record")
					}
				})
			}
		})
	}
}

// runSequence sends msgs (and the end marker) pipelined on one session
// through the agent and returns what PostgreSQL logged for it and the
// session's query events.
// seen holds the sessions of earlier calls.
func (h *harness) runSequence(t *testing.T, conn, dbUser string, msgs []pgproto3.FrontendMessage, seen map[string]bool) ([]string, []eventlog.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	before := len(h.pg.LogContents())
	c, err := pgconn.Connect(ctx, conn)
	require.NoError(t, err)
	hj, err := c.Hijack()
	require.NoError(t, err)
	defer hj.Conn.Close()
	_ = hj.Conn.SetDeadline(time.Now().Add(time.Minute))
	_, err = hj.Conn.Write(difftest.Encode(msgs))
	require.NoError(t, err)
	fe := pgproto3.NewFrontend(pgproto3.NewChunkReader(bufio.NewReader(hj.Conn)), hj.Conn)
	for marker := false; ; {
		m, err := fe.Receive()
		require.NoError(t, err)
		if d, ok := m.(*pgproto3.DataRow); ok && len(d.Values) == 1 && string(d.Values[0]) == difftest.EndValue {
			marker = true
		}
		if _, ok := m.(*pgproto3.ReadyForQuery); ok && marker {
			break
		}
	}
	// The session: the new one whose end marker has its query.result
	// stored (then all its events are).
	var session string
	var evs []eventlog.Event
	require.Eventually(t, func() bool {
		session, evs = h.markerSession(t, seen)
		return session != ""
	}, 30*time.Second, 50*time.Millisecond, "the end marker's query.result is not stored")
	seen[session] = true
	logged := difftest.Logged(h.pg.LogContents()[before:], "["+dbUser+"] LOG:  ")
	logged, evs, err = difftest.WithoutMarker(logged, evs)
	require.NoError(t, err)
	return logged, evs
}

// markerSession returns a session not in seen whose end marker has its
// query.result, and that session's query and query.result events.
func (h *harness) markerSession(t *testing.T, seen map[string]bool) (string, []eventlog.Event) {
	all := h.events("")
	session := ""
	markerN := map[string]uint64{}
	for _, ev := range all {
		v, err := schemas.Decode(ev)
		if err != nil {
			continue
		}
		switch d := v.(type) {
		case *schemas.Query:
			if d.Statement == difftest.EndMarker {
				markerN[d.SessionID] = d.N
			}
		case *schemas.QueryResult:
			if n, ok := markerN[d.SessionID]; ok && n == d.N && !seen[d.SessionID] {
				session = d.SessionID
			}
		}
	}
	if session == "" {
		return "", nil
	}
	var evs []eventlog.Event
	for _, ev := range all {
		if ev.Type != schemas.TypeQuery && ev.Type != schemas.TypeQueryResult {
			continue
		}
		v, err := schemas.Decode(ev)
		require.NoError(t, err)
		switch d := v.(type) {
		case *schemas.Query:
			if d.SessionID == session {
				evs = append(evs, ev)
			}
		case *schemas.QueryResult:
			if d.SessionID == session {
				evs = append(evs, ev)
			}
		}
	}
	return session, evs
}

func queryTexts(t *testing.T, evs []eventlog.Event) string {
	var texts []string
	for _, ev := range evs {
		if ev.Type == schemas.TypeQuery {
			v, err := schemas.Decode(ev)
			require.NoError(t, err)
			texts = append(texts, v.(*schemas.Query).Statement)
		}
	}
	return strings.Join(texts, "\n")
}
