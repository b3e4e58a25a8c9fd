package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/tollgate-db/tollgate/agent/relay/difftest"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/pgtest"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestLeafAgentAcrossACutLink: control (the hub, with its embedded NATS
// and a leaf-node listener) runs in a network namespace of its own, a
// stand-in for another host; the agent, PostgreSQL and the client run
// here. The agent is a leaf node (db_service.audit_leaf) in strict mode.
// pgbench runs through `toll proxy db` before, during and after the veth
// link between the two is taken down: every transaction during the cut
// succeeds while none of its audit reaches the hub (after the agent's
// restart in the middle of the cut too), and once the link is
// back the hub's audit stream and PostgreSQL's log_statement=all agree
// statement by statement, session by session; no event is stored twice
// and `tollctl audit verify` finds every chain intact.
func TestLeafAgentAcrossACutLink(t *testing.T) {
	w := newWorld(t)
	link := newNetLink(t)
	hub := func(port int) string { return link.nsIP + ":" + strconv.Itoa(port) }
	controlAddr, leafAddr := hub(freePort(t)), hub(freePort(t))
	w.controlAddr = controlAddr
	ctlCfg := w.writeConfig("control.yaml", map[string]any{
		"data_dir": w.dataDir, "cluster_name": "e2e",
		"control": map[string]any{"listen_addr": controlAddr, "metrics_addr": "none"},
		"nats":    map[string]any{"listen_addr": hub(freePort(t)), "leaf_listen_addr": leafAddr},
	})
	ip, args := link.exec(filepath.Join(w.bin, "tollgate"), "start", "--config", ctlCfg, "--log-format", "text")
	control := w.start(ip, args...)
	pin := w.waitControl(control)
	w.signUpAlice(controlAddr, pin)
	pg := w.alicesPostgres(controlAddr, nil, nil, "")
	agentCfg := w.agentConfigFor(controlAddr, pin, pg.Addr())
	setLeaf(t, agentCfg, "tls://"+leafAddr)
	agent := w.start("tollgate", "start", "--config", agentCfg, "--log-format", "text", "--metrics-addr", "none")
	eventually(t, "the leaf agent registers pg", agent, func() bool {
		out, _, err := w.try("", "tollctl", "db", "ls")
		return err == nil && strings.Contains(out, "pg")
	})
	require.Contains(t, agent.out.String(), "audit is durable in this agent's own JetStream")

	w.run(alicePassword, "toll", "login", "--proxy="+controlAddr, "--user=alice", "--password-stdin", "--ca-pin="+pin)
	pport := freePort(t)
	px := w.start("toll", "proxy", "db", "pg", "--db-user=alice", "--db-name=alice", "--port", strconv.Itoa(pport))
	eventually(t, "toll proxy db starts", px, func() bool { return strings.Contains(px.out.String(), "Started local proxy") })
	bench := func(what string, tx int) { t.Helper(); w.mustAliceBench(t, what, pport, tx) }
	w.run("", w.pgbenchPath, "-i", "-s", "1", "-h", "127.0.0.1", "-p", strconv.Itoa(pport), "-U", "alice", "alice")
	bench("before the cut", 50)
	logged := func() int { return len(aliceStatement.FindAllString(pg.LogContents(), -1)) }
	hubQueries := func(inNS bool) int {
		args := []string{"audit", "search", "--user=alice", "--type=query", "--limit=10000", "--format=json"}
		var o string
		var err error
		if inNS {
			ip, a := link.exec(filepath.Join(w.bin, "tollctl"), append([]string{"--proxy=" + controlAddr}, args...)...)
			o, _, err = w.try("", ip, a...)
		} else {
			o, _, err = w.try("", "tollctl", args...)
		}
		if err != nil {
			return -1
		}
		return len(searchEvents(t, o))
	}
	eventually(t, "the hub holds every query before the cut", agent, func() bool { return hubQueries(false) == logged() })
	before := logged()

	link.down()
	eventually(t, "the agent notices the cut link", agent, func() bool {
		return strings.Contains(agent.out.String(), "the link to the hub is down")
	})
	bench("during the cut", 100)
	require.Greater(t, logged(), before)
	// The agent restarts while the link is down: it comes back on its
	// own JetStream, with the events the hub has not taken, and serves new
	// sessions with the db_client certs it kept.
	agent.stop(t)
	agent = w.start("tollgate", "start", "--config", agentCfg, "--log-format", "text", "--metrics-addr", "none")
	eventually(t, "the agent restarted during the cut serves", agent, func() bool {
		return strings.Contains(agent.out.String(), "agent serving")
	})
	bench("during the cut, after the agent's restart", 50)
	require.Equal(t, before, hubQueries(true), "no query of the cut reached the hub")
	t.Logf("%d statements before the cut, %d during it, none of them in the hub", before, logged()-before)
	link.up()
	eventually(t, "the agent reconnects to the hub", agent, func() bool {
		return strings.Contains(agent.out.String(), "the link to the hub is back")
	})
	bench("after the cut", 50)
	px.stop(t)

	eventually(t, "the hub holds every query", agent, func() bool { return hubQueries(false) == logged() })
	requireSessionsAgree(t, w, agent, pg)
	requireNoDuplicateIDs(t, w)
	agent.stop(t)
	out := w.run("", "tollctl", "audit", "verify")
	require.Contains(t, out, "OK", out)
}

// aliceStatement is a statement of alice's in PostgreSQL's log.
var aliceStatement = regexp.MustCompile(`(?m)^\[alice:[0-9a-f.]+\] LOG:  (statement|execute [^:]*): `)

// setLeaf adds db_service.audit_leaf.hub_url to the agent config at path.
func setLeaf(t *testing.T, path, hubURL string) {
	t.Helper()
	patchConfig(t, path, func(m map[string]any) {
		m["db_service"].(map[string]any)["audit_leaf"] = map[string]any{"hub_url": hubURL}
	})
}

// patchConfig rewrites the YAML config at path with change.
func patchConfig(t *testing.T, path string, change func(map[string]any)) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, yaml.Unmarshal(b, &m))
	change(m)
	b, err = yaml.Marshal(m)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o600))
}

// searchEvents decodes `tollctl audit search --format=json`.
func searchEvents(t *testing.T, out string) []eventlog.Event {
	t.Helper()
	var res struct {
		Events []struct {
			Event eventlog.Event `json:"event"`
		} `json:"events"`
		More bool `json:"more"`
	}
	require.NoError(t, json.Unmarshal([]byte(out), &res), out)
	require.False(t, res.More, "more than one page")
	evs := make([]eventlog.Event, len(res.Events))
	for i, e := range res.Events {
		evs[i] = e.Event
	}
	return evs
}

// sessionMismatch pairs each of alice's audited sessions with one of
// PostgreSQL's sessions (log_line_prefix "[%u:%c] ") whose statements are
// its queries, statement by statement (difftest.Compare: a query refused
// with 58000 has a "not executed" result and no statement); every
// PostgreSQL session that ran a statement must be paired. It returns ""
// when they are, else what is not; tollctl runs with args first (e.g.
// --proxy).
func sessionMismatch(t *testing.T, w *world, pgLog, user string, args ...string) (string, int) {
	t.Helper()
	out, _, err := w.try("", "tollctl", append(args, "audit", "search", "--user="+user, "--limit=10000", "--format=json")...)
	if err != nil {
		return "tollctl audit search: " + err.Error(), 0
	}
	bySession := map[string][]eventlog.Event{}
	var order []string
	for _, ev := range searchEvents(t, out) {
		if ev.Type != schemas.TypeQuery && ev.Type != schemas.TypeQueryResult {
			continue
		}
		var d struct {
			SessionID string `json:"session_id"`
		}
		require.NoError(t, json.Unmarshal(ev.Data, &d))
		if _, ok := bySession[d.SessionID]; !ok {
			order = append(order, d.SessionID)
		}
		bySession[d.SessionID] = append(bySession[d.SessionID], ev)
	}
	pgSessions := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\[alice:([0-9a-f.]+)\] LOG:  (statement|execute [^:]*): `).FindAllStringSubmatch(pgLog, -1) {
		pgSessions[m[1]] = true
	}
	var ids []string
	for id := range pgSessions {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	used := map[string]bool{}
	for _, s := range order {
		if nothingRan(t, bySession[s]) {
			continue // every query refused before the server: no server session to pair
		}
		found := ""
		for _, id := range ids {
			if !used[id] && difftest.Compare(difftest.Logged(pgLog, "[alice:"+id+"] LOG:  "), bySession[s]) == "" {
				found = id
				break
			}
		}
		if found == "" {
			var b strings.Builder
			for _, id := range ids {
				if !used[id] {
					fmt.Fprintf(&b, "\n  against %s: %s", id, difftest.Compare(difftest.Logged(pgLog, "[alice:"+id+"] LOG:  "), bySession[s]))
				}
			}
			return fmt.Sprintf("audited session %s matches no PostgreSQL session's statements:%s", s, b.String()), 0
		}
		used[found] = true
	}
	if len(used) != len(ids) {
		return fmt.Sprintf("%d of PostgreSQL's %d sessions that ran statements are audited", len(used), len(ids)), 0
	}
	return "", len(ids)
}

// nothingRan reports whether every query of a session's events has a
// "not executed" result: the agent refused each before the server saw it.
func nothingRan(t *testing.T, evs []eventlog.Event) bool {
	t.Helper()
	results := 0
	for _, ev := range evs {
		if ev.Type != schemas.TypeQueryResult {
			continue
		}
		var r schemas.QueryResult
		require.NoError(t, json.Unmarshal(ev.Data, &r))
		if r.Status != schemas.ResultError || !strings.HasPrefix(r.Error, "not executed") {
			return false
		}
		results++
	}
	return results > 0
}

// requireSessionsAgree waits until sessionMismatch finds none.
func requireSessionsAgree(t *testing.T, w *world, d *daemon, pg *pgtest.Server, args ...string) {
	t.Helper()
	requireSessionsAgreeAs(t, w, d, pg, "alice", args...)
}

// requireSessionsAgreeAs is requireSessionsAgree for the Tollgate user
// user (whose db user is alice).
func requireSessionsAgreeAs(t *testing.T, w *world, d *daemon, pg *pgtest.Server, user string, args ...string) {
	t.Helper()
	var why string
	var n int
	for deadline := time.Now().Add(90 * time.Second); ; {
		if why, n = sessionMismatch(t, w, pg.LogContents(), user, args...); why == "" {
			break
		}
		if time.Now().After(deadline) || d.exited() {
			t.Fatalf("the audit and PostgreSQL's log do not agree session by session: %s", why)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%d sessions of alice: the audit and the server's log agree statement by statement", n)
}

// requireNoDuplicateIDs fails when an event id is stored twice in the
// audit stream.
func requireNoDuplicateIDs(t *testing.T, w *world, args ...string) {
	t.Helper()
	ids := map[string]bool{}
	for _, ev := range searchEvents(t, w.run("", "tollctl", append(args, "audit", "search", "--limit=10000", "--format=json")...)) {
		require.False(t, ids[ev.ID], "event %s stored twice", ev.ID)
		ids[ev.ID] = true
	}
}
