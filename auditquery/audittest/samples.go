package audittest

import (
	"testing"
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// SampleAudit is an audit trail of 10 events: alice's login, then session
// s1 (alice on roach: two queries, the second cancelled, and its end)
// interleaved with session s2 (bob on pg: one query, no end).
func SampleAudit(tb testing.TB) *Log {
	l := NewLog(tb, eventlog.AuditStream)
	l.Audit(0, "", "alice", "", schemas.TypeAuthLogin, schemas.AuthLogin{User: "alice", Success: true, Method: "password"})
	l.Audit(time.Second, "roach", "alice", "s1", schemas.TypeSessionStarted, schemas.SessionStarted{SessionID: "s1", User: "alice",
		Database: "roach", DBUser: "alice", DBName: "bank", Protocol: "postgres", ClientAddr: "192.0.2.1:5000", AgentID: "agent-1", DecidedBy: "access"})
	l.Audit(2*time.Second, "pg", "bob", "s2", schemas.TypeSessionStarted, schemas.SessionStarted{SessionID: "s2", User: "bob", Database: "pg"})
	l.Audit(3*time.Second, "roach", "alice", "s1", schemas.TypeQuery, schemas.Query{SessionID: "s1", N: 1, Kind: "simple", Statement: "SELECT 1"})
	l.Audit(3*time.Second+time.Millisecond, "roach", "alice", "s1", schemas.TypeQueryResult, schemas.QueryResult{SessionID: "s1", N: 1, Status: "ok", CommandTag: "SELECT 1", Rows: 1, DurationUS: 250})
	l.Audit(4*time.Second, "pg", "bob", "s2", schemas.TypeQuery, schemas.Query{SessionID: "s2", N: 1, Kind: "simple", Statement: "SELECT 2"})
	l.Audit(5*time.Second, "roach", "alice", "s1", schemas.TypeQuery, schemas.Query{SessionID: "s1", N: 2, Kind: "extended",
		Statement: "SELECT pg_sleep($1)", Params: []schemas.QueryParam{{Format: "text", Value: "60"}}})
	l.Audit(6*time.Second, "roach", "alice", "s1", schemas.TypeSessionCancel, schemas.SessionCancel{SessionID: "s1", ClientAddr: "192.0.2.1:5001", Matched: true, Forwarded: true})
	l.Audit(6*time.Second+time.Millisecond, "roach", "alice", "s1", schemas.TypeQueryResult, schemas.QueryResult{SessionID: "s1", N: 2, Status: "error",
		SQLState: "57014", Error: "canceling statement due to user request", DurationUS: 1000000})
	l.Audit(7*time.Second, "roach", "alice", "s1", schemas.TypeSessionEnded, schemas.SessionEnded{SessionID: "s1", Reason: schemas.EndClient, DurationMS: 6000, Queries: 2, BytesIn: 100, BytesOut: 200})
	return l
}

// SampleAccess is a control history: roles dev and prod (each granting
// the databases of its env label), databases roach (env dev) and ledger
// (env prod) at T0+2m, alice created with both roles at T0+3m and left
// with dev alone at T0+10m.
func SampleAccess(tb testing.TB) *Log {
	l := NewLog(tb, eventlog.ControlStream)
	role := func(name, env string) schemas.Role {
		return schemas.Role{Name: name, Spec: schemas.RoleSpec{Allow: schemas.RoleConditions{
			DBLabels: map[string][]string{"env": {env}}, DBUsers: []string{"alice", "reader"}, DBNames: []string{"*"}}}}
	}
	cs := eventlog.ControlSubject
	l.Add(0, schemas.TypeClusterCreated, cs(eventlog.KindCluster, "main"), schemas.ClusterCreated{Name: "main", Version: "test"})
	l.Add(time.Minute, schemas.TypeRoleCreated, cs(eventlog.KindRole, "dev"), role("dev", "dev"))
	l.Add(time.Minute, schemas.TypeRoleCreated, cs(eventlog.KindRole, "prod"), role("prod", "prod"))
	l.Add(2*time.Minute, schemas.TypeDatabaseRegistered, cs(eventlog.KindDatabase, "roach"),
		schemas.Database{Name: "roach", Protocol: schemas.ProtocolPostgres, URI: "roach:5432", Labels: map[string]string{"env": "dev"}})
	l.Add(2*time.Minute, schemas.TypeDatabaseRegistered, cs(eventlog.KindDatabase, "ledger"),
		schemas.Database{Name: "ledger", Protocol: schemas.ProtocolPostgres, URI: "ledger:5432", Labels: map[string]string{"env": "prod"}})
	l.Add(3*time.Minute, schemas.TypeUserCreated, cs(eventlog.KindUser, "alice"), schemas.UserCreated{User: schemas.User{Name: "alice", Roles: []string{"dev", "prod"}}})
	l.Add(10*time.Minute, schemas.TypeUserUpdated, cs(eventlog.KindUser, "alice"), schemas.User{Name: "alice", Roles: []string{"dev"}})
	return l
}
