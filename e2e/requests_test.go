package e2e

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// Roles of the just-in-time test: access reaches env=dev only (an admin
// narrowing the preset), dba reaches env=prod and is what alice requests.
const (
	devOnlyAccess = `kind: role
version: v7
metadata:
  name: access
spec:
  options:
    max_session_ttl: 12h
  allow:
    db_labels:
      env: dev
    db_users: ['{{internal.db_users}}']
    db_names: ['{{internal.db_names}}']
`
	dbaRole = `kind: role
version: v7
metadata:
  name: dba
spec:
  allow:
    db_labels:
      env: prod
    db_users: ['{{internal.db_users}}']
    db_names: ['{{internal.db_names}}']
`
)

// TestJustInTimeAccessThroughRequests: the guide's
// `tollctl users add --roles=access,requester --db-users="*" --db-names="*" alice`,
// with control, the agent and every client their own processes. alice may
// not reach the prod database; toll says how to ask. She requests dba, the
// admin approves with tollctl, and her next connection has it without a
// new login (session.started names the request); dropped, the grant ends.
// A short grant approved while a session runs ends that session
// (session.ended access_expired), and a denied request grants nothing.
// PostgreSQL's log and the audit agree session by session.
func TestJustInTimeAccessThroughRequests(t *testing.T) {
	w := newWorld(t)
	control, controlAddr, pin := w.startLocalControl("")
	w.roleFile("update", "access", devOnlyAccess)
	w.roleFile("create", "dba", dbaRole)
	w.signUpAliceAs(controlAddr, pin, "access,requester")
	pg := w.alicesPostgres(controlAddr, nil, nil, "")
	agent := w.startAgent(controlAddr, pin, pg.Addr(), "--labels=env=prod")
	w.run(alicePassword, "toll", "login", "--proxy="+controlAddr, "--user=alice", "--password-stdin", "--ca-pin="+pin)
	psql := func(sql string) (string, string, error) {
		return w.try("", "toll", "db", "connect", "pg", "--db-user=alice", "--db-name=alice", "--", "-X", "-A", "-t", "-c", sql)
	}

	_, errOut, err := psql("select 'before'")
	require.Error(t, err)
	require.Contains(t, errOut, "reachable only through a role you may request (dba)", "toll names the role that reaches pg")
	require.Contains(t, errOut, "toll db connect pg --request-roles=dba", "and says how to ask")
	_, errOut, err = w.try("", "toll", "db", "connect", "nope")
	require.Error(t, err)
	require.Contains(t, errOut, `database "nope" not found or not allowed`)

	out := w.run("", "toll", "request", "create", "--roles=dba", "--reason=incident 42", "--nowait")
	id := regexp.MustCompile(`Access request (\S+) for dba`).FindStringSubmatch(out)
	require.Len(t, id, 2, out)
	require.Contains(t, w.run("", "tollctl", "requests", "ls", "--state=pending"), id[1])
	out = w.run("", "tollctl", "requests", "approve", id[1], "--reason=on call")
	require.Contains(t, out, "it is approved")
	require.Contains(t, w.run("", "toll", "request", "show", id[1]), "approved until")

	out, errOut, err = psql("select 'granted'")
	require.NoError(t, err, errOut)
	require.Equal(t, "granted", strings.TrimSpace(out), "the next connection has dba, without a new login")
	started := auditOf(t, w, schemas.TypeSessionStarted)
	require.NotEmpty(t, started)
	var st schemas.SessionStarted
	require.NoError(t, json.Unmarshal(started[len(started)-1].Data, &st))
	require.Equal(t, id[1], st.AccessRequest)
	require.Equal(t, "dba", st.DecidedBy)
	queries := auditOf(t, w, schemas.TypeQuery)
	var q schemas.Query
	require.NoError(t, json.Unmarshal(queries[len(queries)-1].Data, &q))
	require.Equal(t, "select 'granted'", q.Statement)
	require.Equal(t, id[1], q.AccessRequest, "the session's queries name the request too")

	require.Contains(t, w.run("", "tollctl", "access", "at", "0s", "--user=alice"), "Role dba granted by access request "+id[1],
		"access at names the grant and its request")

	w.run("", "toll", "request", "drop", id[1])
	_, _, err = psql("select 'after the drop'")
	require.Error(t, err, "a dropped grant ends")

	// A grant that expires while its session runs ends the session.
	out, errOut, err = w.try("", "toll", "request", "create", "--roles=dba", "--duration=12s", "--nowait")
	require.NoError(t, err, errOut)
	id2 := regexp.MustCompile(`Access request (\S+) for dba`).FindStringSubmatch(out)
	require.Len(t, id2, 2, out)
	w.run("", "tollctl", "requests", "approve", id2[1])
	sleeper := w.start("toll", "db", "connect", "pg", "--db-user=alice", "--db-name=alice", "--", "-X", "-c", "select pg_sleep(120)")
	// psql ends on the agent's FATAL, perhaps before the session's end is
	// stored: wait for the one, then for the other.
	eventually(t, "psql sees its session end with its grant", nil, sleeper.exited)
	require.Contains(t, sleeper.out.String(), "expired or was dropped")
	eventually(t, "the session's end is on record: access_expired", agent, func() bool {
		for _, ev := range auditOf(t, w, schemas.TypeSessionEnded) {
			var e schemas.SessionEnded
			if json.Unmarshal(ev.Data, &e) == nil && e.Reason == schemas.EndAccessExpired {
				return true
			}
		}
		return false
	})
	eventually(t, "control closes the ended grant (access_request.expired)", control, func() bool {
		return strings.Contains(w.run("", "tollctl", "requests", "show", id2[1]), "State:    expired")
	})
	require.Contains(t, sleeper.out.String(), "expired or was dropped")

	// Denied: nothing granted.
	out = w.run("", "toll", "request", "create", "--roles=dba", "--nowait")
	id3 := regexp.MustCompile(`Access request (\S+) for dba`).FindStringSubmatch(out)
	require.Len(t, id3, 2, out)
	require.Contains(t, w.run("", "tollctl", "requests", "deny", id3[1], "--reason=not now"), "it is denied")
	_, _, err = psql("select 'denied'")
	require.Error(t, err)

	requireSessionsAgree(t, w, agent, pg)
	for _, typ := range []string{schemas.TypeAccessRequestCreated, schemas.TypeAccessRequestReviewed,
		schemas.TypeAccessRequestApproved, schemas.TypeAccessRequestDenied, schemas.TypeAccessRequestDropped, schemas.TypeAccessRequestExpired} {
		require.Contains(t, w.run("", "tollctl", "events", "ls", "--stream=control", "--type="+typ), typ, "every step is an event")
	}
	require.Contains(t, w.run("", "tollctl", "audit", "verify"), "OK")
}

// auditOf is every audit event of typ, oldest first.
func auditOf(t *testing.T, w *world, typ string) []eventlog.Event {
	t.Helper()
	var out []eventlog.Event
	for _, ev := range searchEvents(t, w.run("", "tollctl", "audit", "search", "--limit=10000", "--format=json")) {
		if ev.Type == typ {
			out = append(out, ev)
		}
	}
	return out
}
