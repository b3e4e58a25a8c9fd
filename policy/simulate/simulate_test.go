package simulate

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/auditquery/audittest"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/policy"
	"github.com/tollgate-db/tollgate/policy/sqlfacts"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

func world() *projections.State {
	admit := schemas.RoleConditions{DBLabels: map[string][]string{"*": {"*"}}, DBUsers: []string{"*"}, DBNames: []string{"*"}}
	return &projections.State{
		Roles: map[string]*projections.Role{
			"dev":    {Role: schemas.Role{Name: "dev", Spec: schemas.RoleSpec{Allow: admit}}},
			"access": {Role: schemas.Role{Name: "access", Spec: schemas.RoleSpec{Allow: admit}}},
		},
		Databases: map[string]*projections.Database{"roach": {Database: schemas.Database{Name: "roach", Protocol: schemas.ProtocolPostgres}}},
		Users:     map[string]*projections.User{},
	}
}

// proposed is dev with a deny rule, in dry_run mode (simulated as enforced).
func proposed() schemas.Role {
	return schemas.Role{Name: "dev", Spec: schemas.RoleSpec{
		Options: schemas.RoleOptions{DBStatements: &schemas.StatementOptions{Mode: schemas.ModeDryRun}},
		Allow:   schemas.RoleConditions{DBLabels: map[string][]string{"*": {"*"}}, DBUsers: []string{"*"}, DBNames: []string{"*"}},
		Deny:    schemas.RoleConditions{DBStatements: []schemas.StatementRule{{Name: "no-unfiltered-deletes", Statements: []string{"delete"}, WithoutWhere: true}}},
	}}
}

func started(id, user string, roles ...string) schemas.SessionStarted {
	return schemas.SessionStarted{SessionID: id, User: user, Roles: roles, Database: "roach", DBUser: user, DBName: user, Protocol: "postgres"}
}

func query(sess string, n uint64, text string) schemas.Query {
	return schemas.Query{SessionID: sess, N: n, Kind: schemas.QueryKindSimple, Statement: text}
}

// TestSimulationJudgesRecordedQueries: the proposed role replaces dev for
// the sessions that held it (judged as enforced although dry_run); a
// session begun before the window is found by its session.started; an
// EXECUTE is judged by its PREPARE, and a refused PREPARE prepares
// nothing; --user gives the role to that user's other sessions; a
// session with no session.started on record is skipped, and said so.
func TestSimulationJudgesRecordedQueries(t *testing.T) {
	l := audittest.NewLog(t, eventlog.AuditStream)
	l.Audit(0, "roach", "alice", "s0", schemas.TypeSessionStarted, started("s0", "alice", "dev"))
	l.Audit(time.Minute, "roach", "alice", "s0", schemas.TypeQuery, query("s0", 1, "DELETE FROM t"))
	l.Audit(2*time.Hour, "roach", "alice", "s0", schemas.TypeQuery, query("s0", 2, "DELETE FROM orders"))
	l.Audit(2*time.Hour, "roach", "alice", "s0", schemas.TypeQuery, query("s0", 3, "PREPARE ok AS DELETE FROM orders WHERE id = 1"))
	l.Audit(2*time.Hour, "roach", "alice", "s0", schemas.TypeQuery, query("s0", 4, "PREPARE bad AS DELETE FROM orders"))
	l.Audit(2*time.Hour, "roach", "alice", "s0", schemas.TypeQuery, query("s0", 5, "EXECUTE ok"))
	l.Audit(2*time.Hour, "roach", "alice", "s0", schemas.TypeQuery, query("s0", 6, "EXECUTE bad"))
	l.Audit(2*time.Hour, "roach", "bob", "s1", schemas.TypeSessionStarted, started("s1", "bob", "access"))
	l.Audit(2*time.Hour, "roach", "bob", "s1", schemas.TypeQuery, query("s1", 1, "DELETE FROM orders"))
	l.Audit(2*time.Hour, "roach", "carol", "s2", schemas.TypeQuery, query("s2", 1, "DELETE FROM orders"))

	parse := sqlfacts.NewCache(100, 1<<20)
	in := Input{Role: proposed(), Since: audittest.T0.Add(time.Hour), Until: audittest.T0.Add(3 * time.Hour)}
	rep, err := Run(context.Background(), l.S, world(), parse, in)
	require.NoError(t, err)
	require.Equal(t, 2, rep.Sessions, "s0 (begun before the window) and s1")
	require.Equal(t, 6, rep.Queries, "the window's queries of sessions on record")
	var got []uint64
	for _, m := range rep.Matches {
		require.Equal(t, "alice", m.User)
		require.Equal(t, "dev", m.Role)
		require.Equal(t, "no-unfiltered-deletes", m.Rule)
		got = append(got, m.N)
	}
	require.Equal(t, []uint64{2, 4}, got, "EXECUTE ok runs a filtered delete; EXECUTE bad names nothing the refused PREPARE made")
	require.Equal(t, []policy.Count{{Key: "alice", Count: 2}}, rep.ByUser)
	require.Equal(t, []policy.Count{{Key: "dev/no-unfiltered-deletes", Count: 2}}, rep.ByRule)
	require.Equal(t, []policy.SimSkipped{{Session: "s2", Reason: "its session.started is not in the audit log (past retention?)"}}, rep.Skipped)

	in.User = "bob"
	rep, err = Run(context.Background(), l.S, world(), parse, in)
	require.NoError(t, err)
	require.Equal(t, 1, rep.Denied, "with --user bob, bob's session gets the role")
	require.Equal(t, "bob", rep.Matches[0].User)

	in.Until = in.Since
	_, err = Run(context.Background(), l.S, world(), parse, in)
	require.ErrorIs(t, err, ErrNoWindow)
}
