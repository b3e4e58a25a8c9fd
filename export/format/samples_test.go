package format

import (
	"encoding/json"
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

var sampleTime = time.Date(2025, 3, 14, 15, 9, 26, 535000000, time.UTC)

// samples returns one event of every catalogue type, keyed by type.
func samples() map[string]eventlog.Event {
	exp := sampleTime.Add(time.Hour)
	role := schemas.Role{Name: "access", Spec: schemas.RoleSpec{Allow: schemas.RoleConditions{
		DBLabels: map[string][]string{"env": {"dev"}}, DBUsers: []string{"*"}, DBNames: []string{"*"}}}}
	user := schemas.User{Name: "alice", Roles: []string{"access", "requester"}, Traits: map[string][]string{"db_users": {"alice"}}}
	db := schemas.Database{Name: "roach", Protocol: schemas.ProtocolCockroachDB, URI: "roach:26257", Labels: map[string]string{"env": "dev"}, AgentID: "agent-1"}
	agent := schemas.Agent{ID: "agent-1", Hostname: "node-1", PublicAddr: "node-1:7432"}
	control := map[string]any{
		schemas.TypeClusterCreated:       schemas.ClusterCreated{Name: "main", Version: "0.1.0"},
		schemas.TypeCACreated:            schemas.CACreated{CAType: "user", KeyID: "k1", KeyAlg: "ECDSA-P256", CertPEM: "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"},
		schemas.TypeCARotationStarted:    schemas.CARotationStarted{CAType: "user", KeyID: "k2", KeyAlg: "ECDSA-P256", CertPEM: "-----BEGIN CERTIFICATE-----\nMIIC\n-----END CERTIFICATE-----\n"},
		schemas.TypeCARotationPhase:      schemas.CARotationPhaseChanged{CAType: "user", Phase: schemas.PhaseUpdateClients},
		schemas.TypeCARotationCompleted:  schemas.CARotationCompleted{CAType: "user"},
		schemas.TypeCARotationRolledBack: schemas.CARotationRolledBack{CAType: "user"},
		schemas.TypeRoleCreated:          role,
		schemas.TypeRoleUpdated:          role,
		schemas.TypeRoleDeleted:          schemas.RoleDeleted{Name: "access"},
		schemas.TypeUserCreated:          schemas.UserCreated{User: user, InviteHash: "ab12", InviteExpires: exp},
		schemas.TypeUserUpdated:          user,
		schemas.TypeUserDeleted:          schemas.UserDeleted{Name: "alice"},
		schemas.TypeUserPasswordSet:      schemas.UserPasswordSet{Name: "alice", Via: "invite", InviteHash: "ab12"},
		schemas.TypeUserInviteCreated:    schemas.UserInviteCreated{Name: "alice", InviteHash: "cd34", InviteExpires: exp},
		schemas.TypeTokenCreated:         schemas.TokenCreated{Hash: "ef56", Type: "db", Expires: exp},
		schemas.TypeTokenConsumed:        schemas.TokenConsumed{Hash: "ef56", AgentID: "agent-1"},
		schemas.TypeTokenDeleted:         schemas.TokenDeleted{Hash: "ef56"},
		schemas.TypeAgentJoined:          schemas.AgentJoined{Agent: agent, TokenHash: "ef56", CertSerial: "0a"},
		schemas.TypeAgentUpdated:         agent,
		schemas.TypeDatabaseRegistered:   db,
		schemas.TypeDatabaseUpdated:      db,
		schemas.TypeDatabaseDeregistered: schemas.DatabaseDeregistered{Name: "roach"},
		schemas.TypeLockCreated:          schemas.LockCreated{ID: "lock-1", Target: schemas.LockTarget{User: "mallory"}, Message: "investigation"},
		schemas.TypeLockDeleted:          schemas.LockDeleted{ID: "lock-1"},
		schemas.TypeControlHostCertIssued: schemas.ControlHostCertIssued{Serial: "5d2e", CertPEM: "-----BEGIN CERTIFICATE-----\nMIID\n-----END CERTIFICATE-----\n",
			KeyID: "k1", NotBefore: sampleTime, NotAfter: exp},
		schemas.TypeAccessRequestCreated: schemas.AccessRequestCreated{ID: "req-1", User: "alice", Roles: []string{"dba"}, Reason: "incident 42",
			Duration: "1h0m0s", Approve: 1, Deny: 1},
		schemas.TypeAccessRequestReviewed: schemas.AccessRequestReviewed{ID: "req-1", Reviewer: "bob", Verdict: schemas.VerdictApprove, Reason: "on call"},
		schemas.TypeAccessRequestApproved: schemas.AccessRequestApproved{ID: "req-1", Expires: exp},
		schemas.TypeAccessRequestDenied:   schemas.AccessRequestDenied{ID: "req-1"},
		schemas.TypeAccessRequestDropped:  schemas.AccessRequestDropped{ID: "req-1"},
		schemas.TypeAccessRequestExpired:  schemas.AccessRequestExpired{ID: "req-1"},
		schemas.TypeUserMFAAdded:          schemas.UserMFAAdded{Name: "alice", Type: schemas.MFATOTP},
		schemas.TypeUserMFARemoved:        schemas.UserMFARemoved{Name: "alice", Type: schemas.MFATOTP},
		schemas.TypeSSOConnectorSaved: schemas.SSOConnectorSaved{Kind: schemas.ConnectorOIDC, OIDC: schemas.OIDCConnector{
			Name: "corp", IssuerURL: "https://idp.example.com", ClientID: "tollgate", HasSecret: true, Scopes: []string{"openid", "groups"},
			ClaimsToRoles: []schemas.ClaimMapping{{Claim: "groups", Value: "dba", Roles: []string{"access"}}}}},
		schemas.TypeSSOConnectorDeleted: schemas.SSOConnectorDeleted{Name: "corp"},
	}
	audit := map[string]any{
		schemas.TypeAuthLogin:  schemas.AuthLogin{User: "alice", Success: true, Method: "password", RemoteAddr: "192.0.2.10:51234"},
		schemas.TypeCertIssued: schemas.CertIssued{Kind: schemas.CertKindUser, CAType: "user", Serial: "7f01", Subject: "alice", NotBefore: sampleTime, NotAfter: exp, For: "alice"},
		schemas.TypeSessionStarted: schemas.SessionStarted{SessionID: "s1", User: "alice", Roles: []string{"access"}, Database: "roach",
			DBUser: "alice", DBName: "bank", Protocol: "cockroachdb", ClientAddr: "192.0.2.10:51300", AgentID: "agent-1",
			CertSerial: "7f01", DecidedBy: "access", Params: map[string]string{"application_name": "psql"}},
		schemas.TypeSessionRejected: schemas.SessionRejected{SessionID: "s0", User: "mallory", Database: "roach", DBUser: "root",
			ClientAddr: "198.51.100.7:40000", AgentID: "agent-1", Code: schemas.RejectLocked, Reason: "locked: investigation"},
		schemas.TypeQuery: schemas.Query{SessionID: "s1", N: 1, Kind: "extended", Statement: "SELECT * FROM accounts WHERE id = $1",
			StatementName: "q1", Params: []schemas.QueryParam{{Format: "text", Value: "42"}}},
		schemas.TypeQueryResult: schemas.QueryResult{SessionID: "s1", N: 1, Status: "error", Rows: 0, SQLState: "42P01",
			Error: `relation "accounts" does not exist`, DurationUS: 1234},
		schemas.TypeQueryDenied: schemas.QueryPolicy{SessionID: "s1", N: 2, Role: "dev", Rule: "no-unfiltered-writes", Action: schemas.ActionDeny,
			Statement: 1, Reason: "delete on orders without a WHERE clause matches rule no-unfiltered-writes of role dev"},
		schemas.TypeQueryWouldDeny: schemas.QueryPolicy{SessionID: "s1", N: 3, Role: "proposed", Action: schemas.ActionNotAllowed,
			Statement: 1, Reason: "no allow rule of role proposed covers update on orders"},
		schemas.TypeQueryFlagged: schemas.QueryPolicy{SessionID: "s1", N: 4, Role: "dev", Rule: "watch-exports", Action: schemas.ActionLogOnly,
			Statement: 1, Reason: "copy on orders matches rule watch-exports of role dev"},
		schemas.TypeSessionCancel: schemas.SessionCancel{SessionID: "s1", ClientAddr: "192.0.2.10:51301", Matched: true, Forwarded: true},
		schemas.TypeSessionEnded:  schemas.SessionEnded{SessionID: "s1", Reason: schemas.EndClient, DurationMS: 60500, Queries: 1, BytesIn: 300, BytesOut: 1200},
		schemas.TypeAuditCheckpoint: schemas.AuditCheckpoint{Source: "agent-1", Seq: 6, Hash: "5d41402abc4b2a76b9719d911017c592", Time: sampleTime,
			Reason: schemas.CheckpointSessionEnd, IntervalMS: 10000, CertSerial: "0a", Alg: "ECDSA-SHA256", Signature: "MEUCIQ=="},
	}
	out := map[string]eventlog.Event{}
	for typ, data := range control {
		raw, _ := json.Marshal(data)
		out[typ] = eventlog.Event{ID: "01JPB3M0000000000000000001", Type: typ, V: 1, Time: sampleTime, Source: "control",
			Actor: "admin", Subject: eventlog.ControlSubject("x", "y"), Data: raw}
	}
	for typ, data := range audit {
		raw, _ := json.Marshal(data)
		db, user, sess := "roach", "alice", "s1"
		switch typ {
		case schemas.TypeAuthLogin, schemas.TypeCertIssued:
			db, sess = "", ""
		case schemas.TypeSessionRejected:
			user, sess = "mallory", "s0"
		case schemas.TypeAuditCheckpoint:
			db, user, sess = "", "", "agent-1"
		}
		out[typ] = eventlog.Event{ID: "01JPB3M0000000000000000002", Type: typ, V: 1, Time: sampleTime, Source: "agent-1",
			Actor: user, Subject: eventlog.AuditSubject(db, user, sess, typ), Data: raw,
			Seq: 7, Prev: "5d41402abc4b2a76b9719d911017c592", Hash: "7d793037a0760186574b0282f2f435e7"}
	}
	return out
}
