package projections_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

// log builds records with consecutive sequences and times a minute apart.
type log struct {
	recs []eventlog.Record
}

func (l *log) add(t *testing.T, typ, kind, name string, data any) {
	t.Helper()
	raw, err := json.Marshal(data)
	require.NoError(t, err)
	seq := uint64(len(l.recs) + 1)
	l.recs = append(l.recs, eventlog.Record{StreamSeq: seq, Event: eventlog.Event{
		ID: "ev" + string(rune('A'+seq%26)), Type: typ, V: 1, Time: t0.Add(time.Duration(seq) * time.Minute),
		Source: "control", Actor: "admin", Subject: eventlog.ControlSubject(kind, name), Data: raw,
	}})
}

func applyAll(t *testing.T, recs []eventlog.Record) (*projections.State, []error) {
	t.Helper()
	s := projections.New()
	var errs []error
	for _, r := range recs {
		if err := s.Apply(r); err != nil {
			errs = append(errs, err)
		}
	}
	return s, errs
}

func TestApplyEntities(t *testing.T) {
	t.Parallel()
	var l log
	l.add(t, schemas.TypeClusterCreated, eventlog.KindCluster, "c1", schemas.ClusterCreated{Name: "c1", Version: "0.1"})
	l.add(t, schemas.TypeRoleCreated, eventlog.KindRole, "dev", schemas.Role{Name: "dev"})
	l.add(t, schemas.TypeRoleUpdated, eventlog.KindRole, "dev", schemas.Role{Name: "dev", Spec: schemas.RoleSpec{Options: schemas.RoleOptions{MaxSessionTTL: "1h"}}})
	l.add(t, schemas.TypeUserCreated, eventlog.KindUser, "alice", schemas.UserCreated{User: schemas.User{Name: "alice", Roles: []string{"dev"}}, InviteHash: "inv1", InviteExpires: t0.Add(time.Hour)})
	l.add(t, schemas.TypeUserPasswordSet, eventlog.KindUser, "alice", schemas.UserPasswordSet{Name: "alice", Via: "invite", InviteHash: "inv1"})
	l.add(t, schemas.TypeUserUpdated, eventlog.KindUser, "alice", schemas.User{Name: "alice", Roles: []string{"dev", "access"}})
	l.add(t, schemas.TypeUserInviteCreated, eventlog.KindUser, "alice", schemas.UserInviteCreated{Name: "alice", InviteHash: "inv2", InviteExpires: t0.Add(2 * time.Hour)})
	l.add(t, schemas.TypeTokenCreated, eventlog.KindToken, "h1", schemas.TokenCreated{Hash: "h1", Type: "db", Expires: t0.Add(time.Hour)})
	l.add(t, schemas.TypeTokenConsumed, eventlog.KindToken, "h1", schemas.TokenConsumed{Hash: "h1", AgentID: "a1"})
	l.add(t, schemas.TypeAgentJoined, eventlog.KindAgent, "a1", schemas.AgentJoined{Agent: schemas.Agent{ID: "a1", Hostname: "h"}, TokenHash: "h1"})
	l.add(t, schemas.TypeAgentUpdated, eventlog.KindAgent, "a1", schemas.Agent{ID: "a1", Hostname: "h", PublicAddr: "h:7432"})
	l.add(t, schemas.TypeDatabaseRegistered, eventlog.KindDatabase, "roach", schemas.Database{Name: "roach", Protocol: "cockroachdb", URI: "r:26257"})
	l.add(t, schemas.TypeDatabaseUpdated, eventlog.KindDatabase, "roach", schemas.Database{Name: "roach", Protocol: "cockroachdb", URI: "r:26258"})
	l.add(t, schemas.TypeLockCreated, eventlog.KindLock, "l1", schemas.LockCreated{ID: "l1", Target: schemas.LockTarget{User: "alice"}, Message: "stop"})
	s, errs := applyAll(t, l.recs)
	require.Empty(t, errs)

	require.Equal(t, "c1", s.Cluster.Name)
	require.Equal(t, t0.Add(time.Minute), s.Cluster.CreatedAt)
	require.Equal(t, "1h", s.Roles["dev"].Spec.Options.MaxSessionTTL)
	require.Equal(t, t0.Add(2*time.Minute), s.Roles["dev"].CreatedAt)
	require.Equal(t, t0.Add(3*time.Minute), s.Roles["dev"].UpdatedAt)
	a := s.Users["alice"]
	require.True(t, a.PasswordSet)
	require.Equal(t, []string{"dev", "access"}, a.Roles)
	require.Equal(t, "inv2", a.InviteHash)
	require.Equal(t, t0.Add(4*time.Minute), a.CreatedAt)
	require.True(t, s.Tokens["h1"].Consumed)
	require.Equal(t, []string{"a1"}, s.Tokens["h1"].ConsumedBy)
	require.Equal(t, "h:7432", s.Agents["a1"].PublicAddr)
	require.Equal(t, t0.Add(10*time.Minute), s.Agents["a1"].JoinedAt)
	require.Equal(t, "r:26258", s.Databases["roach"].URI)
	require.Equal(t, t0.Add(12*time.Minute), s.Databases["roach"].RegisteredAt)
	require.Equal(t, "admin", s.Locks["l1"].CreatedBy)
	require.Equal(t, uint64(14), s.LastSeq)
	require.Equal(t, t0.Add(14*time.Minute), s.LastTime)
	require.Equal(t, uint64(7), s.SubjectSeq[eventlog.ControlSubject(eventlog.KindUser, "alice")])

	// Deletions.
	l.add(t, schemas.TypeLockDeleted, eventlog.KindLock, "l1", schemas.LockDeleted{ID: "l1"})
	l.add(t, schemas.TypeDatabaseDeregistered, eventlog.KindDatabase, "roach", schemas.DatabaseDeregistered{Name: "roach"})
	l.add(t, schemas.TypeTokenDeleted, eventlog.KindToken, "h1", schemas.TokenDeleted{Hash: "h1"})
	l.add(t, schemas.TypeUserDeleted, eventlog.KindUser, "alice", schemas.UserDeleted{Name: "alice"})
	l.add(t, schemas.TypeRoleDeleted, eventlog.KindRole, "dev", schemas.RoleDeleted{Name: "dev"})
	s, errs = applyAll(t, l.recs)
	require.Empty(t, errs)
	require.Empty(t, s.Locks)
	require.Empty(t, s.Databases)
	require.Empty(t, s.Tokens)
	require.Empty(t, s.Users)
	require.Empty(t, s.Roles)
	require.Equal(t, uint64(19), s.SubjectSeq[eventlog.ControlSubject(eventlog.KindRole, "dev")])
}

func TestApplyInvalidTransitions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		typ, kind  string
		entity     string
		data       any
		wantReason string
	}{
		{"second cluster", schemas.TypeClusterCreated, eventlog.KindCluster, "c2", schemas.ClusterCreated{Name: "c2"}, "already exists"},
		{"role exists", schemas.TypeRoleCreated, eventlog.KindRole, "r", schemas.Role{Name: "r"}, "already exists"},
		{"update unknown role", schemas.TypeRoleUpdated, eventlog.KindRole, "x", schemas.Role{Name: "x"}, "does not exist"},
		{"delete unknown role", schemas.TypeRoleDeleted, eventlog.KindRole, "x", schemas.RoleDeleted{Name: "x"}, "does not exist"},
		{"user exists", schemas.TypeUserCreated, eventlog.KindUser, "u", schemas.UserCreated{User: schemas.User{Name: "u"}}, "already exists"},
		{"update unknown user", schemas.TypeUserUpdated, eventlog.KindUser, "x", schemas.User{Name: "x"}, "does not exist"},
		{"delete unknown user", schemas.TypeUserDeleted, eventlog.KindUser, "x", schemas.UserDeleted{Name: "x"}, "does not exist"},
		{"password unknown user", schemas.TypeUserPasswordSet, eventlog.KindUser, "x", schemas.UserPasswordSet{Name: "x"}, "does not exist"},
		{"invite unknown user", schemas.TypeUserInviteCreated, eventlog.KindUser, "x", schemas.UserInviteCreated{Name: "x"}, "does not exist"},
		{"token exists", schemas.TypeTokenCreated, eventlog.KindToken, "t", schemas.TokenCreated{Hash: "t"}, "already exists"},
		{"consume unknown token", schemas.TypeTokenConsumed, eventlog.KindToken, "x", schemas.TokenConsumed{Hash: "x"}, "does not exist"},
		{"consume used token", schemas.TypeTokenConsumed, eventlog.KindToken, "t", schemas.TokenConsumed{Hash: "t", AgentID: "a2"}, "already consumed"},
		{"delete unknown token", schemas.TypeTokenDeleted, eventlog.KindToken, "x", schemas.TokenDeleted{Hash: "x"}, "does not exist"},
		{"update unknown agent", schemas.TypeAgentUpdated, eventlog.KindAgent, "x", schemas.Agent{ID: "x"}, "has not joined"},
		{"database exists", schemas.TypeDatabaseRegistered, eventlog.KindDatabase, "d", schemas.Database{Name: "d"}, "already registered"},
		{"update unknown database", schemas.TypeDatabaseUpdated, eventlog.KindDatabase, "x", schemas.Database{Name: "x"}, "not registered"},
		{"deregister unknown database", schemas.TypeDatabaseDeregistered, eventlog.KindDatabase, "x", schemas.DatabaseDeregistered{Name: "x"}, "not registered"},
		{"lock exists", schemas.TypeLockCreated, eventlog.KindLock, "l", schemas.LockCreated{ID: "l"}, "already exists"},
		{"delete unknown lock", schemas.TypeLockDeleted, eventlog.KindLock, "x", schemas.LockDeleted{ID: "x"}, "does not exist"},
		{"ca exists", schemas.TypeCACreated, eventlog.KindCA, "user", schemas.CACreated{CAType: "user"}, "already exists"},
		{"rotate unknown ca", schemas.TypeCARotationStarted, eventlog.KindCA, "db", schemas.CARotationStarted{CAType: "db"}, "does not exist"},
		{"phase while standby", schemas.TypeCARotationPhase, eventlog.KindCA, "user", schemas.CARotationPhaseChanged{CAType: "user", Phase: "update_clients"}, "cannot move"},
		{"complete while standby", schemas.TypeCARotationCompleted, eventlog.KindCA, "user", schemas.CARotationCompleted{CAType: "user"}, "only from phase update_servers"},
		{"rollback while standby", schemas.TypeCARotationRolledBack, eventlog.KindCA, "user", schemas.CARotationRolledBack{CAType: "user"}, "not rotating"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var l log
			l.add(t, schemas.TypeClusterCreated, eventlog.KindCluster, "c", schemas.ClusterCreated{Name: "c"})
			l.add(t, schemas.TypeCACreated, eventlog.KindCA, "user", schemas.CACreated{CAType: "user", KeyID: "k1", CertPEM: "P1"})
			l.add(t, schemas.TypeRoleCreated, eventlog.KindRole, "r", schemas.Role{Name: "r"})
			l.add(t, schemas.TypeUserCreated, eventlog.KindUser, "u", schemas.UserCreated{User: schemas.User{Name: "u"}})
			l.add(t, schemas.TypeTokenCreated, eventlog.KindToken, "t", schemas.TokenCreated{Hash: "t", Type: "db"})
			l.add(t, schemas.TypeTokenConsumed, eventlog.KindToken, "t", schemas.TokenConsumed{Hash: "t", AgentID: "a1"})
			l.add(t, schemas.TypeDatabaseRegistered, eventlog.KindDatabase, "d", schemas.Database{Name: "d"})
			l.add(t, schemas.TypeLockCreated, eventlog.KindLock, "l", schemas.LockCreated{ID: "l", Target: schemas.LockTarget{User: "u"}})
			before, errs := applyAll(t, l.recs)
			require.Empty(t, errs)
			want, err := before.Canonical()
			require.NoError(t, err)

			l.add(t, tt.typ, tt.kind, tt.entity, tt.data)
			last := l.recs[len(l.recs)-1]
			err = before.Apply(last)
			var ae *projections.ApplyError
			require.ErrorAs(t, err, &ae)
			require.ErrorIs(t, err, projections.ErrInvalidTransition)
			require.Contains(t, err.Error(), tt.wantReason)
			require.Equal(t, last.StreamSeq, ae.Seq)

			// Entities unchanged; bookkeeping advanced.
			require.Equal(t, last.StreamSeq, before.LastSeq)
			require.Equal(t, last.Event.Time, before.LastTime)
			require.Equal(t, last.StreamSeq, before.SubjectSeq[last.Event.Subject])
			before.LastSeq, before.LastTime = uint64(len(l.recs)-1), l.recs[len(l.recs)-2].Event.Time
			if prev, ok := findPrevSubjectSeq(l.recs[:len(l.recs)-1], last.Event.Subject); ok {
				before.SubjectSeq[last.Event.Subject] = prev
			} else {
				delete(before.SubjectSeq, last.Event.Subject)
			}
			got, err := before.Canonical()
			require.NoError(t, err)
			require.JSONEq(t, string(want), string(got))
		})
	}
}

func findPrevSubjectSeq(recs []eventlog.Record, subject string) (uint64, bool) {
	var seq uint64
	var ok bool
	for _, r := range recs {
		if r.Event.Subject == subject {
			seq, ok = r.StreamSeq, true
		}
	}
	return seq, ok
}

func TestApplyBadEvents(t *testing.T) {
	t.Parallel()
	s := projections.New()
	err := s.Apply(eventlog.Record{StreamSeq: 1, Event: eventlog.Event{Type: "user.created", V: 1, Subject: "tollgate.control.user.x", Data: json.RawMessage(`{"name":5}`)}})
	require.ErrorIs(t, err, projections.ErrBadEvent)
	err = s.Apply(eventlog.Record{StreamSeq: 2, Event: eventlog.Event{Type: "nope.created", V: 1, Data: json.RawMessage(`{}`)}})
	require.ErrorIs(t, err, schemas.ErrUnknownType)
	err = s.Apply(eventlog.Record{StreamSeq: 3, Event: eventlog.Event{Type: "user.created", V: 99, Data: json.RawMessage(`{}`)}})
	require.ErrorIs(t, err, schemas.ErrUnknownVersion)
	err = s.Apply(eventlog.Record{StreamSeq: 4, Event: eventlog.Event{Type: schemas.TypeQuery, V: 1, Data: json.RawMessage(`{}`)}})
	require.ErrorIs(t, err, projections.ErrInvalidTransition)
	require.Equal(t, uint64(4), s.LastSeq)
	require.Empty(t, s.Users)

	// A redelivered record is ignored.
	require.NoError(t, s.Apply(eventlog.Record{StreamSeq: 2, Event: eventlog.Event{Type: "user.created", V: 1, Data: json.RawMessage(`{"name":"bob"}`)}}))
	require.Empty(t, s.Users)
	require.Equal(t, uint64(4), s.LastSeq)
	require.False(t, errors.Is(nil, projections.ErrBadEvent))
}

func TestCARotation(t *testing.T) {
	t.Parallel()
	type step struct {
		typ     string
		data    any
		phase   string
		active  string
		signing string
		trusted []string
	}
	steps := func(last step) []step {
		return []step{
			{schemas.TypeCACreated, schemas.CACreated{CAType: "db", KeyID: "k1", CertPEM: "OLD"}, "standby", "k1", "k1", []string{"OLD"}},
			{schemas.TypeCARotationStarted, schemas.CARotationStarted{CAType: "db", KeyID: "k2", CertPEM: "NEW"}, "init", "k1", "k1", []string{"OLD", "NEW"}},
			{schemas.TypeCARotationPhase, schemas.CARotationPhaseChanged{CAType: "db", Phase: "update_clients"}, "update_clients", "k1", "k2", []string{"OLD", "NEW"}},
			{schemas.TypeCARotationPhase, schemas.CARotationPhaseChanged{CAType: "db", Phase: "update_servers"}, "update_servers", "k1", "k2", []string{"OLD", "NEW"}},
			last,
		}
	}
	for name, last := range map[string]step{
		"completed":   {schemas.TypeCARotationCompleted, schemas.CARotationCompleted{CAType: "db"}, "standby", "k2", "k2", []string{"NEW"}},
		"rolled back": {schemas.TypeCARotationRolledBack, schemas.CARotationRolledBack{CAType: "db"}, "standby", "k1", "k1", []string{"OLD"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := projections.New()
			var l log
			for i, st := range steps(last) {
				l.add(t, st.typ, eventlog.KindCA, "db", st.data)
				require.NoError(t, s.Apply(l.recs[i]), "step %d", i)
				ca := s.CAs["db"]
				require.Equal(t, st.phase, ca.Phase, "step %d", i)
				require.Equal(t, st.active, ca.Active.KeyID, "step %d", i)
				require.Equal(t, st.signing, ca.SigningKey().KeyID, "step %d", i)
				require.Equal(t, st.trusted, ca.Trusted, "step %d", i)
				require.Equal(t, st.phase != "standby", ca.Rotating())
				require.Equal(t, st.phase != "standby", ca.Next != nil)
			}
		})
	}
	// Rollback from init and from update_clients too; skipping a phase fails.
	for _, phases := range [][]string{{}, {"update_clients"}} {
		var l log
		l.add(t, schemas.TypeCACreated, eventlog.KindCA, "db", schemas.CACreated{CAType: "db", KeyID: "k1", CertPEM: "OLD"})
		l.add(t, schemas.TypeCARotationStarted, eventlog.KindCA, "db", schemas.CARotationStarted{CAType: "db", KeyID: "k2", CertPEM: "NEW"})
		for _, p := range phases {
			l.add(t, schemas.TypeCARotationPhase, eventlog.KindCA, "db", schemas.CARotationPhaseChanged{CAType: "db", Phase: p})
		}
		l.add(t, schemas.TypeCARotationCompleted, eventlog.KindCA, "db", schemas.CARotationCompleted{CAType: "db"})
		l.add(t, schemas.TypeCARotationRolledBack, eventlog.KindCA, "db", schemas.CARotationRolledBack{CAType: "db"})
		_, errs := applyAll(t, l.recs)
		require.Len(t, errs, 1) // the premature completion
		s2, _ := applyAll(t, l.recs)
		require.Equal(t, []string{"OLD"}, s2.CAs["db"].Trusted)
	}
	var l log
	l.add(t, schemas.TypeCACreated, eventlog.KindCA, "db", schemas.CACreated{CAType: "db", KeyID: "k1", CertPEM: "OLD"})
	l.add(t, schemas.TypeCARotationStarted, eventlog.KindCA, "db", schemas.CARotationStarted{CAType: "db", KeyID: "k2", CertPEM: "NEW"})
	l.add(t, schemas.TypeCARotationStarted, eventlog.KindCA, "db", schemas.CARotationStarted{CAType: "db", KeyID: "k3", CertPEM: "NEWER"})
	l.add(t, schemas.TypeCARotationPhase, eventlog.KindCA, "db", schemas.CARotationPhaseChanged{CAType: "db", Phase: "update_servers"})
	s, errs := applyAll(t, l.recs)
	require.Len(t, errs, 2)
	require.Equal(t, "init", s.CAs["db"].Phase)
	require.Equal(t, "k2", s.CAs["db"].Next.KeyID)
}

func TestReusableToken(t *testing.T) {
	t.Parallel()
	var l log
	l.add(t, schemas.TypeTokenCreated, eventlog.KindToken, "h", schemas.TokenCreated{Hash: "h", Type: "db", Reusable: true})
	l.add(t, schemas.TypeTokenConsumed, eventlog.KindToken, "h", schemas.TokenConsumed{Hash: "h", AgentID: "a1"})
	l.add(t, schemas.TypeTokenConsumed, eventlog.KindToken, "h", schemas.TokenConsumed{Hash: "h", AgentID: "a2"})
	s, errs := applyAll(t, l.recs)
	require.Empty(t, errs)
	require.Equal(t, []string{"a1", "a2"}, s.Tokens["h"].ConsumedBy)
}

// TestAgentLastSeen: an agent's last seen is the time of its latest
// control event (join, update, a database of its config registered or
// updated), with that event's type; a dynamic database or another agent's
// leaves it; the version comes from the event and an earlier view of the
// state is not changed.
func TestAgentLastSeen(t *testing.T) {
	t.Parallel()
	var l log
	at := func() time.Time { return t0.Add(time.Duration(len(l.recs)) * time.Minute) }
	l.add(t, schemas.TypeAgentJoined, eventlog.KindAgent, "a1", schemas.AgentJoined{Agent: schemas.Agent{ID: "a1", Hostname: "h", Version: "1.0"}, TokenHash: "h1"})
	joined := at()
	l.add(t, schemas.TypeAgentJoined, eventlog.KindAgent, "a2", schemas.AgentJoined{Agent: schemas.Agent{ID: "a2", Hostname: "h2"}, TokenHash: "h2"})
	s, errs := applyAll(t, l.recs)
	require.Empty(t, errs)
	a := s.Agents["a1"]
	require.Equal(t, joined, a.LastSeen)
	require.Equal(t, schemas.TypeAgentJoined, a.LastEvent)
	require.Equal(t, "1.0", a.Version)

	l.add(t, schemas.TypeDatabaseRegistered, eventlog.KindDatabase, "roach", schemas.Database{Name: "roach", Protocol: "cockroachdb", URI: "r:1", AgentID: "a1"})
	registered := at()
	l.add(t, schemas.TypeDatabaseRegistered, eventlog.KindDatabase, "dyn", schemas.Database{Name: "dyn", Protocol: "postgres", URI: "d:1"})
	l.add(t, schemas.TypeDatabaseRegistered, eventlog.KindDatabase, "pg", schemas.Database{Name: "pg", Protocol: "postgres", URI: "p:1", AgentID: "a2"})
	for _, r := range l.recs[2:] {
		require.NoError(t, s.Apply(r))
	}
	require.Equal(t, joined, a.LastSeen, "the earlier view is unchanged")
	require.Equal(t, registered, s.Agents["a1"].LastSeen)
	require.Equal(t, schemas.TypeDatabaseRegistered, s.Agents["a1"].LastEvent)

	l.add(t, schemas.TypeDatabaseUpdated, eventlog.KindDatabase, "roach", schemas.Database{Name: "roach", Protocol: "cockroachdb", URI: "r:2", AgentID: "a1"})
	l.add(t, schemas.TypeAgentUpdated, eventlog.KindAgent, "a1", schemas.Agent{ID: "a1", Hostname: "h", Version: "1.1"})
	updated := at()
	s, errs = applyAll(t, l.recs)
	require.Empty(t, errs)
	require.Equal(t, updated, s.Agents["a1"].LastSeen)
	require.Equal(t, schemas.TypeAgentUpdated, s.Agents["a1"].LastEvent)
	require.Equal(t, "1.1", s.Agents["a1"].Version)
	require.Equal(t, joined, s.Agents["a1"].JoinedAt)
	require.Equal(t, t0.Add(5*time.Minute), s.Agents["a2"].LastSeen, "a2's database")
}
