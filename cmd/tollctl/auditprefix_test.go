package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/oklog/ulid/v2"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/internal/node/nodetest"
)

// TestAuditSessionPrefix: tollctl audit session takes a session id or a
// start of one no other session shares (in either case); a start shared
// by several is an error listing them; one no session has says so.
func TestAuditSessionPrefix(t *testing.T) {
	n := nodetest.Start(t, nil)
	t.Setenv("TOLLGATE_HOME", t.TempDir())
	admin := cli{t: t, n: n, args: []string{"--data-dir", n.DataDir}}
	ag := n.JoinAgent(t, "agent-p")
	// Two sessions of the same millisecond share all but their last
	// characters (ULIDs are monotonic within a millisecond); a third is
	// from a day before.
	now := ulid.Timestamp(time.Now())
	s1 := ulid.MustNew(now, strings.NewReader(strings.Repeat("\x07", 16))).String()
	s2 := s1[:25] + "Z"
	s3 := ulid.MustNew(now-24*3600*1000, strings.NewReader(strings.Repeat("\x07", 16))).String()
	ag.Session(s1, "alice", "roach", "SELECT 1")
	ag.Session(s2, "bob", "roach", "SELECT 2")
	ag.Session(s3, "carol", "pg", "SELECT 3")

	out := admin.ok("audit", "session", s3[:12])
	require.Contains(t, out, "Session "+s3+"\n")
	require.Contains(t, out, "SELECT 3")
	require.Contains(t, admin.ok("audit", "session", strings.ToLower(s3[:12])), "Session "+s3+"\n")
	require.Contains(t, admin.ok("audit", "session", s2), "SELECT 2", "a whole id")

	msg := admin.fail("audit", "session", s1[:12])
	require.Contains(t, msg, "session id prefix "+s1[:12]+" is ambiguous: 2 sessions start with it; give more characters:")
	require.Regexp(t, `(?m)^  `+s1+`  started by alice on roach at \S+$`, msg)
	require.Regexp(t, `(?m)^  `+s2+`  started by bob on roach at \S+$`, msg)
	require.Contains(t, admin.ok("audit", "session", s1[:25]+"Z"), "SELECT 2")
	require.Contains(t, admin.fail("audit", "session", "7ZZZZZZZ"), "no session id starts with it")
}

// TestHumanEvents: audit search and events ls (both streams) describe
// events in words: session.started and cert.issued are not JSON, and the
// SESSION column holds a session only for a session's events (control's
// cert.issued has none, not "control").
func TestHumanEvents(t *testing.T) {
	n := nodetest.Start(t, nil)
	t.Setenv("TOLLGATE_HOME", t.TempDir())
	admin := cli{t: t, n: n, args: []string{"--data-dir", n.DataDir}}
	admin.ok("users", "add", "--roles=access", "--db-users=alice", "alice")
	appendSession(t, n) // joins an agent: control issues its host cert (cert.issued)

	// row returns the DB, USER, SESSION and DETAIL cells of the first
	// row of type typ whose detail starts with detail.
	row := func(out, typ, detail string) []string {
		t.Helper()
		for _, line := range strings.Split(out, "\n") {
			cells := regexp.MustCompile(`\s{2,}`).Split(line, 7)
			if len(cells) == 7 && cells[2] == typ && strings.HasPrefix(cells[6], detail) {
				return cells[3:]
			}
		}
		t.Fatalf("no %s row with %q in:\n%s", typ, detail, out)
		return nil
	}
	out := admin.ok("audit", "search")
	started := row(out, "session.started", "")
	require.Equal(t, []string{"roach", "alice", "sess-1"}, started[:3])
	require.Regexp(t, `^db user alice, db name bank, allowed by role -, client 192\.0\.2\.1:5000, agent agent-t-\S+$`, started[3])
	cert := row(out, "cert.issued", "host cert for agent-t-")
	require.Equal(t, "-", cert[2], "control's cert.issued belongs to no session")
	require.Regexp(t, `^host cert for agent-t-\S+ \(CN agent-t-\S+, hosts agent-t\) from the host CA until \S+`, cert[3])
	require.NotContains(t, out, `{"`)
	require.Equal(t, out, admin.ok("events", "ls", "--stream=audit"), "one renderer for both")

	ctl := admin.ok("events", "ls")
	user := row(ctl, "user.created", "user alice")
	require.Equal(t, []string{"-", "admin", "-"}, user[:3])
	require.Regexp(t, `^user alice created: roles access; db users alice; db names -; invite valid until \S+$`, user[3])
	require.Regexp(t, `^agent agent-t-\S+ joined: host agent-t, version \S+, host cert from key host-\S+$`, row(ctl, "agent.joined", "")[3])
	require.NotContains(t, ctl, `{"`)
	require.Contains(t, admin.ok("events", "ls", "--type=nope"), "No event matches.")
}
