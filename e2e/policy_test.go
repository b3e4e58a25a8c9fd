package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/policy"
	"github.com/tollgate-db/tollgate/schemas"
)

// proposedAccess is the access role with statement rules, as an admin
// would propose it.
const proposedAccess = `kind: role
version: v7
metadata:
  name: access
spec:
  allow:
    db_labels:
      '*': '*'
    db_users: ['{{internal.db_users}}']
    db_names: ['{{internal.db_names}}']
  deny:
    db_statements:
    - name: no-unfiltered-writes
      statements: [update, delete]
      without_where: true
    - name: no-server-files
      functions: [pg_read_file, pg_ls_dir]
    - name: ddl-needs-approval
      statements: [ddl]
      action: require_approval
      request_roles: [dba]
`

// policyScript is what alice runs, once before the rules and once after;
// psql sends each statement as its own Query.
const policyScript = `CREATE TABLE IF NOT EXISTS orders (id int, n int);
INSERT INTO orders VALUES (1, 1), (2, 2);
SELECT count(*) FROM orders;
UPDATE orders SET n = n + 1 WHERE id = 1;
/* tidy up */ DeLeTe FROM "orders";
WITH gone AS (DELETE FROM orders WHERE true RETURNING *) SELECT count(*) FROM gone;
SELECT pg_catalog.pg_read_file('PG_VERSION');
PREPARE wipe AS DELETE FROM orders;
EXECUTE wipe;
SELECT $$DELETE FROM orders$$;
`

// TestPolicySimulationMatchesEnforcement: alice runs a script with no
// statement rules; `tollctl policy simulate` over that recorded session
// reports what a proposed role would refuse. The role is then applied and
// she runs the same script: the agent refuses exactly the statements the
// simulation named, by the same rules (query.denied), and none of them
// reaches PostgreSQL — its log and the audit agree session by session.
func TestPolicySimulationMatchesEnforcement(t *testing.T) {
	w := newWorld(t)
	_, controlAddr, pin := w.startLocalControl("")
	w.signUpAlice(controlAddr, pin)
	pg := w.alicesPostgres(controlAddr, nil, nil, "")
	agent := w.startAgent(controlAddr, pin, pg.Addr())
	w.run(alicePassword, "toll", "login", "--proxy="+controlAddr, "--user=alice", "--password-stdin", "--ca-pin="+pin)
	script := filepath.Join(w.dir, "script.sql")
	require.NoError(t, os.WriteFile(script, []byte(policyScript), 0o600))
	runScript := func() string {
		out, errOut, _ := w.try("", "toll", "db", "connect", "pg", "--db-user=alice", "--db-name=alice", "--", "-X", "-f", script)
		return out + errOut
	}
	out := runScript()
	require.NotContains(t, out, "refused by rule", "no rules yet")

	role := filepath.Join(w.dir, "access.yaml")
	require.NoError(t, os.WriteFile(role, []byte(proposedAccess), 0o600))
	text := w.run("", "tollctl", "policy", "simulate", "-f", role, "--since=1h")
	require.Contains(t, text, "would have been refused")
	var rep policy.Report
	require.NoError(t, json.Unmarshal([]byte(w.run("", "tollctl", "policy", "simulate", "-f", role, "--since=1h", "--format=json")), &rep))
	require.Equal(t, 1, rep.Sessions)
	simulated := map[string]string{}
	for _, m := range rep.Matches {
		simulated[m.Text] = m.Role + "/" + m.Rule
	}
	require.Equal(t, map[string]string{
		"CREATE TABLE IF NOT EXISTS orders (id int, n int);":                                  "access/ddl-needs-approval",
		`/* tidy up */ DeLeTe FROM "orders";`:                                                 "access/no-unfiltered-writes",
		"WITH gone AS (DELETE FROM orders WHERE true RETURNING *) SELECT count(*) FROM gone;": "access/no-unfiltered-writes",
		"SELECT pg_catalog.pg_read_file('PG_VERSION');":                                       "access/no-server-files",
		"PREPARE wipe AS DELETE FROM orders;":                                                 "access/no-unfiltered-writes",
	}, simulated, text)
	require.Len(t, rep.ByUser, 1)
	require.Equal(t, policy.Count{Key: "alice", Count: 5}, rep.ByUser[0])

	w.run("", "tollctl", "roles", "update", "-f", role)
	eventually(t, "the agent applies the new rules", agent, func() bool {
		_, errOut, _ := w.try("", "toll", "db", "connect", "pg", "--db-user=alice", "--db-name=alice", "--", "-X", "-c", "SELECT pg_ls_dir('.')")
		return strings.Contains(errOut, "refused by rule")
	})
	before := len(auditOf(t, w, schemas.TypeQueryDenied))
	out = runScript()
	require.Contains(t, out, `statement refused by rule "ddl-needs-approval" of role access`)
	require.Contains(t, out, "toll db connect pg --request-roles=dba")

	texts := map[string]string{}
	for _, ev := range auditOf(t, w, schemas.TypeQuery) {
		var q schemas.Query
		require.NoError(t, json.Unmarshal(ev.Data, &q))
		texts[q.SessionID+"/"+fmt.Sprint(q.N)] = q.Statement
	}
	enforced := map[string]string{}
	denied := auditOf(t, w, schemas.TypeQueryDenied)[before:]
	for _, ev := range denied {
		var d schemas.QueryPolicy
		require.NoError(t, json.Unmarshal(ev.Data, &d))
		enforced[texts[d.SessionID+"/"+fmt.Sprint(d.N)]] = d.Role + "/" + d.Rule
	}
	require.Equal(t, simulated, enforced, "enforcement refuses what the simulation said, by the same rules")
	require.Equal(t, 1, strings.Count(pg.LogContents(), "statement: PREPARE wipe AS DELETE FROM orders;"), "the refused PREPARE ran only in the first session")
	requireSessionsAgree(t, w, agent, pg)
	require.Contains(t, w.run("", "tollctl", "audit", "verify"), "OK")
}
