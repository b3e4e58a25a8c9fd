package gateway_test

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/gateway"
	"github.com/tollgate-db/tollgate/auditquery"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/auditview"
	"github.com/tollgate-db/tollgate/schemas"
)

// sessionEvents returns the types of session id's events in stream order.
func (h *harness) sessionEvents(id string) []string {
	var out []string
	require.NoError(h.t, h.audit.Read(h.ctx, eventlog.Query{Subjects: []string{eventlog.AuditFilter("", "", id, "")}},
		func(r eventlog.Record) error {
			out = append(out, r.Event.Type)
			return nil
		}))
	return out
}

// TestStrictRefusalWhileAuditDownIsRejected: with NATS stopped, a strict
// session is refused (58000) before it reaches the database; once NATS is
// back, the record says session.rejected with code audit_unavailable (after
// the session.started that was spooled but not stored in time), and the
// transcript shows a refusal, not a session that started and ended
// abruptly.
func TestStrictRefusalWhileAuditDownIsRejected(t *testing.T) {
	h := newHarness(t)
	h.addUser("alice", []string{"access"}, []string{"alice"})
	alice := h.dbCert("alice", "roach", time.Hour)

	h.stopNATS()
	out, err := execPsql(h.connString(alice, "alice", "postgres"), "-c", "select 'refused while the log was down'")
	require.Error(t, err, out)
	require.Contains(t, out, "the audit log is unavailable (strict audit mode)")
	h.startNATS(h.natsAddr)

	var rej schemas.SessionRejected
	require.Eventually(t, func() bool {
		for _, r := range h.rejections("alice") {
			if r.Code == schemas.RejectAuditUnavailable {
				rej = r
				return true
			}
		}
		return false
	}, 60*time.Second, 100*time.Millisecond)
	require.Equal(t, "roach", rej.Database)
	require.Equal(t, "alice", rej.DBUser)
	require.Contains(t, rej.Reason, "session refused before it reached the database")
	types := h.sessionEvents(rej.SessionID)
	t.Logf("the refused session's events: %v", types)
	require.NotContains(t, types, schemas.TypeSessionEnded)
	require.NotContains(t, types, schemas.TypeQuery)
	require.Equal(t, schemas.TypeSessionRejected, types[len(types)-1], "the refusal is the session's last word: %v", types)
	require.NotContains(t, h.pg.LogContents(), "refused while the log was down")

	tr, err := auditquery.Session(h.ctx, h.audit, rej.SessionID)
	require.NoError(t, err)
	require.NotNil(t, tr.Rejected)
	require.Nil(t, tr.Ended)
	var text bytes.Buffer
	require.NoError(t, auditview.RenderTranscript(&text, &tr))
	require.Contains(t, text.String(), "audit_unavailable")
	require.NotContains(t, text.String(), "abruptly")
	require.NotContains(t, text.String(), "Ended")
}

// TestErrorTexts: what a client is told names what really happened. A
// malformed message after the startup is not a "startup packet"; an audit
// event over the size bound (a query's, or a session's session.started) is
// fitted to it, not refused as "audit log unavailable".
func TestErrorTexts(t *testing.T) {
	h := newHarnessWith(t, func(h *harness) {
		h.opt = func(o *gateway.Options) { o.AuditOptions.MaxEventSize = 1800 }
	})
	h.addUser("alice", []string{"access"}, []string{"alice"})
	alice := h.dbCert("alice", "roach", time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	t.Run("a malformed message after the startup", func(t *testing.T) {
		c, err := pgconn.Connect(ctx, h.connString(alice, "alice", "postgres"))
		require.NoError(t, err)
		defer c.Close(ctx)
		_, err = c.Conn().Write([]byte{'B', 0, 0, 0, 5, 0}) // a Bind naming a portal and nothing else
		require.NoError(t, err)
		_ = c.Conn().SetReadDeadline(time.Now().Add(30 * time.Second))
		resp, _ := io.ReadAll(c.Conn())
		require.Contains(t, string(resp), "08P01")
		require.Contains(t, string(resp), "malformed message: Bind")
		require.NotContains(t, string(resp), "startup")
	})

	// Events over the size bound are fitted to it (schemas.Fit), not
	// refused: the query runs and its record is cut, flagged and hashed.
	t.Run("a query whose event is over the size bound", func(t *testing.T) {
		c, err := pgconn.Connect(ctx, h.connString(alice, "alice", "postgres"))
		require.NoError(t, err)
		defer c.Close(ctx)
		big := "select '" + strings.Repeat("x", 2000) + " fitted to the bound'"
		_, err = c.Exec(ctx, big).ReadAll()
		require.NoError(t, err)
		require.Contains(t, h.pg.LogContents(), "fitted to the bound")
		require.Eventually(t, func() bool {
			for _, ev := range h.events(schemas.TypeQuery) {
				q := decode[schemas.Query](t, ev)
				if q.Truncated && strings.HasPrefix(q.Statement, "select 'xxx") && len(q.SHA256) == 64 {
					return true
				}
			}
			return false
		}, 20*time.Second, 50*time.Millisecond, "the query is recorded cut, flagged and hashed")
	})

	t.Run("a session.started over the size bound", func(t *testing.T) {
		long := strings.Repeat("y", 500)
		out, err := execPsql(h.connString(alice, "alice", "postgres")+" application_name="+long+" options=-csearch_path="+long,
			"-c", "select 'session fitted to the bound'")
		require.NoError(t, err, out)
		require.Eventually(t, func() bool {
			for _, ev := range h.events(schemas.TypeSessionStarted) {
				if decode[schemas.SessionStarted](t, ev).Truncated {
					return true
				}
			}
			return false
		}, 20*time.Second, 50*time.Millisecond, "session.started is recorded, its parameters cut")
	})
}
