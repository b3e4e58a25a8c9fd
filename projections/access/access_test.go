package access_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/projections/access"
	"github.com/tollgate-db/tollgate/schemas"
)

var now = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func role(name string, allow, deny schemas.RoleConditions, ttl string) *projections.Role {
	return &projections.Role{Role: schemas.Role{Name: name, Spec: schemas.RoleSpec{
		Allow: allow, Deny: deny, Options: schemas.RoleOptions{MaxSessionTTL: ttl},
	}}}
}

func fixture() *projections.State {
	s := projections.New()
	s.Roles["access"] = role("access", schemas.RoleConditions{
		DBLabels: map[string][]string{"*": {"*"}},
		DBUsers:  []string{"{{internal.db_users}}"},
		DBNames:  []string{"{{internal.db_names}}"},
	}, schemas.RoleConditions{}, "12h")
	s.Roles["dev"] = role("dev", schemas.RoleConditions{
		DBLabels: map[string][]string{"env": {"dev", "^stag.*$"}},
		DBUsers:  []string{"alice", "^app_.*$"},
		DBNames:  []string{"*"},
	}, schemas.RoleConditions{DBUsers: []string{"root"}, DBNames: []string{"secrets"}}, "2h")
	s.Roles["noprod"] = role("noprod", schemas.RoleConditions{}, schemas.RoleConditions{
		DBLabels: map[string][]string{"env": {"prod"}},
	}, "")
	s.Roles["nobody"] = role("nobody", schemas.RoleConditions{}, schemas.RoleConditions{DBUsers: []string{"*"}}, "")
	s.Roles["editor"] = role("editor", schemas.RoleConditions{Rules: []schemas.Rule{
		{Resources: []string{"user", "role"}, Verbs: []string{"*"}},
		{Resources: []string{"*"}, Verbs: []string{"read"}},
	}}, schemas.RoleConditions{Rules: []schemas.Rule{{Resources: []string{"role"}, Verbs: []string{"delete"}}}}, "bogus")
	s.Databases["roach"] = &projections.Database{Database: schemas.Database{Name: "roach", Protocol: "cockroachdb", Labels: map[string]string{"env": "dev"}, AgentID: "agent1"}}
	s.Databases["pg"] = &projections.Database{Database: schemas.Database{Name: "pg", Protocol: "postgres", Labels: map[string]string{"env": "staging"}, AgentID: "agent2"}}
	s.Databases["prod"] = &projections.Database{Database: schemas.Database{Name: "prod", Protocol: "postgres", Labels: map[string]string{"env": "prod"}, AgentID: "agent2"}}
	s.Databases["bare"] = &projections.Database{Database: schemas.Database{Name: "bare", Protocol: "postgres", AgentID: "agent2"}}
	return s
}

func TestDecide(t *testing.T) {
	t.Parallel()
	alice := access.Identity{User: "alice", Roles: []string{"dev"}}
	traits := access.Identity{User: "bob", Roles: []string{"access"}, Traits: map[string][]string{"db_users": {"bob", "reader"}, "db_names": {"bob", "shop"}}}
	star := access.Identity{User: "carol", Roles: []string{"access"}, Traits: map[string][]string{"db_users": {"*"}, "db_names": {"*"}}}
	tests := []struct {
		name                 string
		mut                  func(s *projections.State)
		id                   access.Identity
		db, dbUser, dbName   string
		allowed              bool
		code, role           string
		reasonHas, gotDBName string
	}{
		{name: "labels literal, user literal, cockroach ignores names", id: alice, db: "roach", dbUser: "alice", dbName: "anything",
			allowed: true, role: "dev", reasonHas: "not enforced for cockroachdb"},
		{name: "regex label and regex user on postgres", id: alice, db: "pg", dbUser: "app_web", dbName: "shop", allowed: true, role: "dev", reasonHas: "db name \"shop\""},
		{name: "unknown database", id: alice, db: "nope", dbUser: "alice", code: schemas.RejectUnknownDB, reasonHas: "not registered"},
		{name: "no db user", id: alice, db: "roach", code: schemas.RejectDenied, reasonHas: "no database user"},
		{name: "labels do not match", id: alice, db: "prod", dbUser: "alice", code: schemas.RejectDenied, reasonHas: "no allow db_labels match"},
		{name: "database without labels", id: alice, db: "bare", dbUser: "alice", code: schemas.RejectDenied, reasonHas: "(none)"},
		{name: "db user not allowed", id: alice, db: "roach", dbUser: "bob", code: schemas.RejectDenied, reasonHas: "db user \"bob\" is not allowed"},
		{name: "regex anchored", id: alice, db: "roach", dbUser: "xapp_1", code: schemas.RejectDenied},
		{name: "deny db user wins", id: alice, db: "roach", dbUser: "root", code: schemas.RejectDenied, role: "dev", reasonHas: "denies db user"},
		{name: "deny db name on postgres", id: alice, db: "pg", dbUser: "alice", dbName: "secrets", code: schemas.RejectDenied, role: "dev", reasonHas: "denies db name"},
		{name: "deny db name ignored on cockroach", id: alice, db: "roach", dbUser: "alice", dbName: "secrets", allowed: true, role: "dev"},
		{name: "deny labels deny all", id: access.Identity{User: "carol", Roles: []string{"access", "noprod"}, Traits: star.Traits}, db: "prod", dbUser: "x",
			code: schemas.RejectDenied, role: "noprod", reasonHas: "deny db_labels"},
		{name: "deny labels elsewhere do not matter", id: access.Identity{User: "carol", Roles: []string{"access", "noprod"}, Traits: star.Traits}, db: "pg", dbUser: "x", allowed: true, role: "access"},
		{name: "deny wildcard user", id: access.Identity{User: "carol", Roles: []string{"access", "nobody"}, Traits: star.Traits}, db: "pg", dbUser: "x", code: schemas.RejectDenied, role: "nobody"},
		{name: "traits expand", id: traits, db: "pg", dbUser: "reader", dbName: "shop", allowed: true, role: "access"},
		{name: "traits name not allowed", id: traits, db: "pg", dbUser: "reader", dbName: "other", code: schemas.RejectDenied, reasonHas: "db name \"other\" is not allowed"},
		{name: "empty db name defaults to db user (allowed)", id: traits, db: "pg", dbUser: "bob", allowed: true, gotDBName: "bob", role: "access"},
		{name: "empty db name defaults to db user (denied)", id: traits, db: "pg", dbUser: "reader", code: schemas.RejectDenied, gotDBName: "reader", reasonHas: "db name \"reader\""},
		{name: "no traits no access", id: access.Identity{User: "dave", Roles: []string{"access"}}, db: "pg", dbUser: "dave", code: schemas.RejectDenied},
		{name: "wildcard traits", id: star, db: "prod", dbUser: "any", dbName: "any", allowed: true, role: "access"},
		{name: "unknown roles count for nothing", id: access.Identity{User: "eve", Roles: []string{"ghost"}}, db: "pg", dbUser: "eve", code: schemas.RejectDenied, reasonHas: "no existing role"},
		{name: "lock on user", mut: lock("l1", schemas.LockTarget{User: "alice"}, "investigating", time.Time{}),
			id: alice, db: "roach", dbUser: "alice", code: schemas.RejectLocked, reasonHas: "investigating"},
		{name: "lock on role", mut: lock("l1", schemas.LockTarget{Role: "dev"}, "", time.Time{}),
			id: alice, db: "roach", dbUser: "alice", code: schemas.RejectLocked, role: "dev", reasonHas: "lock l1"},
		{name: "lock on database", mut: lock("l1", schemas.LockTarget{Database: "roach"}, "maintenance", now.Add(time.Hour)),
			id: alice, db: "roach", dbUser: "alice", code: schemas.RejectLocked, reasonHas: "until 2025-03-01T13:00:00Z"},
		{name: "lock on other database", mut: lock("l1", schemas.LockTarget{Database: "pg"}, "", time.Time{}),
			id: alice, db: "roach", dbUser: "alice", allowed: true, role: "dev"},
		{name: "lock on agent", mut: lock("l1", schemas.LockTarget{Agent: "agent1"}, "", time.Time{}),
			id: alice, db: "roach", dbUser: "alice", code: schemas.RejectLocked},
		{name: "lock user and database both must match", mut: lock("l1", schemas.LockTarget{User: "alice", Database: "pg"}, "", time.Time{}),
			id: alice, db: "roach", dbUser: "alice", allowed: true, role: "dev"},
		{name: "expired lock", mut: lock("l1", schemas.LockTarget{User: "alice"}, "", now),
			id: alice, db: "roach", dbUser: "alice", allowed: true, role: "dev"},
		{name: "empty lock target blocks nothing", mut: lock("l1", schemas.LockTarget{}, "", time.Time{}),
			id: alice, db: "roach", dbUser: "alice", allowed: true, role: "dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := fixture()
			if tt.mut != nil {
				tt.mut(s)
			}
			d := access.Decide(s, tt.id, tt.db, tt.dbUser, tt.dbName, now)
			require.Equal(t, tt.allowed, d.Allowed, d.Reason)
			require.Equal(t, tt.code, d.Code, d.Reason)
			require.Equal(t, tt.role, d.Role, d.Reason)
			require.NotEmpty(t, d.Reason)
			require.Contains(t, d.Reason, tt.reasonHas)
			if tt.gotDBName != "" {
				require.Equal(t, tt.gotDBName, d.DBName)
			}
		})
	}
}

func lock(id string, target schemas.LockTarget, msg string, expires time.Time) func(*projections.State) {
	return func(s *projections.State) {
		s.Locks[id] = &projections.Lock{LockCreated: schemas.LockCreated{ID: id, Target: target, Message: msg, Expires: expires}}
	}
}

func TestLockForPicksSmallestID(t *testing.T) {
	t.Parallel()
	s := fixture()
	lock("b", schemas.LockTarget{User: "alice"}, "", time.Time{})(s)
	lock("a", schemas.LockTarget{Role: "dev"}, "", time.Time{})(s)
	id := access.Identity{User: "alice", Roles: []string{"dev"}}
	for range 20 {
		require.Equal(t, "a", access.LockFor(s, id, "roach", "agent1", now).ID)
	}
	require.Nil(t, access.LockFor(s, access.Identity{User: "bob"}, "roach", "agent1", now))
}

func TestCanDo(t *testing.T) {
	t.Parallel()
	s := fixture()
	tests := []struct {
		roles          []string
		resource, verb string
		want           bool
		reasonHas      string
	}{
		{[]string{"editor"}, "user", "create", true, "role editor allows"},
		{[]string{"editor"}, "role", "update", true, ""},
		{[]string{"editor"}, "role", "delete", false, "role editor denies"},
		{[]string{"editor"}, "audit", "read", true, ""},
		{[]string{"editor"}, "audit", "list", false, "no rule"},
		{[]string{"dev"}, "user", "read", false, "no rule"},
		{[]string{"ghost"}, "user", "read", false, "exists"},
		{nil, "user", "read", false, ""},
	}
	for _, tt := range tests {
		ok, reason := access.CanDo(s, tt.roles, tt.resource, tt.verb)
		require.Equal(t, tt.want, ok, "%v %s %s: %s", tt.roles, tt.verb, tt.resource, reason)
		require.Contains(t, reason, tt.reasonHas)
	}
	// A deny in another role wins over an allow.
	s.Roles["nouser"] = role("nouser", schemas.RoleConditions{}, schemas.RoleConditions{Rules: []schemas.Rule{{Resources: []string{"*"}, Verbs: []string{"create"}}}}, "")
	ok, reason := access.CanDo(s, []string{"editor", "nouser"}, "user", "create")
	require.False(t, ok)
	require.Contains(t, reason, "nouser")
}

func TestMaxSessionTTLAndReplication(t *testing.T) {
	t.Parallel()
	s := fixture()
	require.Equal(t, 2*time.Hour, access.MaxSessionTTL(s, []string{"access", "dev"}, 12*time.Hour))
	require.Equal(t, 12*time.Hour, access.MaxSessionTTL(s, []string{"access"}, time.Hour))
	require.Equal(t, time.Hour, access.MaxSessionTTL(s, []string{"editor", "ghost", "noprod"}, time.Hour))
	require.False(t, access.ReplicationAllowed(s, []string{"access"}))
	s.Roles["repl"] = &projections.Role{Role: schemas.Role{Name: "repl", Spec: schemas.RoleSpec{Options: schemas.RoleOptions{DBReplication: true}}}}
	require.True(t, access.ReplicationAllowed(s, []string{"access", "repl"}))
}

func TestReachable(t *testing.T) {
	t.Parallel()
	s := fixture()
	alice := access.Identity{User: "alice", Roles: []string{"dev"}}
	got := access.Reachable(s, alice, now)
	require.Len(t, got, 2)
	require.Equal(t, "pg", got[0].Database.Name)
	require.Equal(t, []string{"^app_.*$", "alice"}, got[0].DBUsers)
	require.Equal(t, []string{"*"}, got[0].DBNames)
	require.True(t, got[0].NamesEnforced)
	require.Equal(t, []string{"dev"}, got[0].Roles)
	require.Equal(t, "roach", got[1].Database.Name)
	require.False(t, got[1].NamesEnforced)
	require.Nil(t, got[1].DBNames)

	bob := access.Identity{User: "bob", Roles: []string{"access", "noprod", "dev"}, Traits: map[string][]string{"db_users": {"bob", "root"}, "db_names": {"bob"}}}
	got = access.Reachable(s, bob, now)
	require.Len(t, got, 3) // bare, pg, roach; prod denied by labels
	require.Equal(t, "bare", got[0].Database.Name)
	require.Equal(t, []string{"bob"}, got[0].DBUsers) // root denied by dev
	require.Equal(t, []string{"access"}, got[0].Roles)
	require.Equal(t, []string{"access", "dev"}, got[1].Roles)

	lock("l", schemas.LockTarget{Database: "pg"}, "", time.Time{})(s)
	got = access.Reachable(s, alice, now)
	require.Len(t, got, 1)
	require.Empty(t, access.Reachable(s, access.Identity{User: "x", Roles: []string{"access", "nobody"}, Traits: map[string][]string{"db_users": {"*"}}}, now))
}

// TestNoDBUser: access without a db_users trait grants databases but no
// db user; a trait, or another role allowing a db user, fixes that; roles
// granting no database are not reported.
func TestNoDBUser(t *testing.T) {
	t.Parallel()
	s := fixture()
	for _, tc := range []struct {
		id   access.Identity
		want []string
	}{
		{access.Identity{User: "a", Roles: []string{"access"}}, []string{"access"}},
		{access.Identity{User: "a", Roles: []string{"access"}, Traits: map[string][]string{"db_names": {"*"}}}, []string{"access"}},
		{access.Identity{User: "a", Roles: []string{"access"}, Traits: map[string][]string{"db_users": {"a"}}}, nil},
		{access.Identity{User: "a", Roles: []string{"access", "dev"}}, nil},
		{access.Identity{User: "a", Roles: []string{"editor", "noprod"}}, nil},
	} {
		require.Equal(t, tc.want, access.NoDBUser(s, tc.id), "%+v", tc.id)
	}
}

func TestTokenUsable(t *testing.T) {
	t.Parallel()
	s := projections.New()
	s.Tokens["hash_fresh"] = &projections.Token{TokenCreated: schemas.TokenCreated{Hash: "hash_fresh", Type: "db", Expires: now.Add(time.Minute)}}
	s.Tokens["hash_old"] = &projections.Token{TokenCreated: schemas.TokenCreated{Hash: "hash_old", Type: "db", Expires: now}}
	s.Tokens["hash_used"] = &projections.Token{TokenCreated: schemas.TokenCreated{Hash: "hash_used", Type: "db", Expires: now.Add(time.Minute)}, Consumed: true}
	s.Tokens["hash_multi"] = &projections.Token{TokenCreated: schemas.TokenCreated{Hash: "hash_multi", Type: "db", Expires: now.Add(time.Minute), Reusable: true}, Consumed: true}
	tests := []struct {
		hash, typ string
		want      error
	}{
		{"hash_fresh", "db", nil},
		{"hash_multi", "db", nil},
		{"hash_nope", "db", access.ErrTokenUnknown},
		{"hash_old", "db", access.ErrTokenExpired},
		{"hash_used", "db", access.ErrTokenUsed},
		{"hash_fresh", "node", access.ErrTokenWrongType},
	}
	for _, tt := range tests {
		err := access.TokenUsable(s, tt.hash, tt.typ, now)
		if tt.want == nil {
			require.NoError(t, err, tt.hash)
			continue
		}
		require.True(t, errors.Is(err, tt.want), "%s: %v", tt.hash, err)
		require.NotContains(t, err.Error(), tt.hash)
	}
}

func TestIdentityFor(t *testing.T) {
	t.Parallel()
	s := fixture()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	_, ok := access.IdentityFor(s, "alice", now)
	require.False(t, ok)
	s.Users["alice"] = &projections.User{User: schemas.User{Name: "alice", Roles: []string{"dev"}, Traits: map[string][]string{"db_users": {"a"}}}}
	id, ok := access.IdentityFor(s, "alice", now)
	require.True(t, ok)
	require.Equal(t, access.Identity{User: "alice", Roles: []string{"dev"}, Traits: map[string][]string{"db_users": {"a"}}}, id)
}

// TestIdentityForAddsGrantedRoles: roles of approved, unexpired requests
// join the user's own (after them, each once, from the request that grants
// it longest); pending, denied, dropped and expired requests and other
// users' grant nothing, and a role the user has already is not a grant.
func TestIdentityForAddsGrantedRoles(t *testing.T) {
	t.Parallel()
	s := fixture()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	s.Users["alice"] = &projections.User{User: schemas.User{Name: "alice", Roles: []string{"dev"}}}
	req := func(id, user, state string, created time.Time, expires time.Time, roles ...string) {
		s.AccessRequests[id] = &projections.AccessRequest{AccessRequestCreated: schemas.AccessRequestCreated{ID: id, User: user, Roles: roles},
			State: state, CreatedAt: created, Expires: expires}
	}
	req("r1", "alice", schemas.RequestApproved, now.Add(-2*time.Hour), now.Add(time.Hour), "dba", "dev")
	req("r2", "alice", schemas.RequestApproved, now.Add(-time.Hour), now.Add(2*time.Hour), "dba")
	req("r3", "alice", schemas.RequestApproved, now.Add(-3*time.Hour), now, "ops")
	req("r4", "alice", schemas.RequestPending, now, time.Time{}, "pending-role")
	req("r5", "alice", schemas.RequestDropped, now, now.Add(time.Hour), "dropped-role")
	req("r6", "alice", schemas.RequestDenied, now, time.Time{}, "denied-role")
	req("r7", "bob", schemas.RequestApproved, now, now.Add(time.Hour), "bobs-role")
	id, ok := access.IdentityFor(s, "alice", now)
	require.True(t, ok)
	require.Equal(t, []string{"dev", "dba"}, id.Roles, "expired at now (r3) grants nothing: an expiry is exclusive")
	require.Equal(t, map[string]access.Grant{"dba": {Request: "r2", Expires: now.Add(2 * time.Hour)}}, id.Grants)
	id, _ = access.IdentityFor(s, "alice", now.Add(3*time.Hour))
	require.Equal(t, []string{"dev"}, id.Roles)
	require.Nil(t, id.Grants)
}

// TestRequestable: the databases only a requestable role reaches, with
// that role; none that the user reaches already, none through a role it
// may not request, and a role held through a grant is no help to request
// more.
func TestRequestable(t *testing.T) {
	t.Parallel()
	s := fixture()
	s.Roles["dba"] = role("dba", schemas.RoleConditions{DBLabels: map[string][]string{"env": {"prod"}}, DBUsers: []string{"postgres"}, DBNames: []string{"*"}},
		schemas.RoleConditions{}, "")
	s.Roles["requester"] = &projections.Role{Role: schemas.Role{Name: "requester", Spec: schemas.RoleSpec{Allow: schemas.RoleConditions{
		Request: &schemas.RequestConditions{Roles: []string{"dba", "access"}}}}}}
	alice := access.Identity{User: "alice", Roles: []string{"dev", "requester"}, Traits: map[string][]string{"db_users": {"alice"}, "db_names": {"alice"}}}
	got := access.Requestable(s, alice, now)
	require.Len(t, got, 2)
	require.Equal(t, "bare", got[0].Database.Name)
	require.Equal(t, []string{"access"}, got[0].Roles)
	require.Equal(t, "prod", got[1].Database.Name)
	require.Equal(t, []string{"access", "dba"}, got[1].Roles)
	require.Equal(t, []string{"alice", "postgres"}, got[1].DBUsers)

	require.Empty(t, access.Requestable(s, access.Identity{User: "bob", Roles: []string{"dev"}}, now), "bob may request nothing")
	granted := access.Identity{User: "carol", Roles: []string{"dev", "requester"}, Grants: map[string]access.Grant{"requester": {Request: "r1"}}}
	require.Empty(t, access.Requestable(s, granted, now), "a granted requester role does not let one request")
}

// TestSessionLocks: a session lock ends that session only; it blocks no
// connection (LockFor ignores it) and expires like any lock.
func TestSessionLocks(t *testing.T) {
	t.Parallel()
	s := fixture()
	lock("l1", schemas.LockTarget{Session: "s1"}, "", now.Add(time.Hour))(s)
	alice := access.Identity{User: "alice", Roles: []string{"dev"}}
	require.Nil(t, access.LockFor(s, alice, "pg", "agent2", now), "no new session is blocked")
	require.NotNil(t, access.SessionLockFor(s, "s1", now))
	require.Nil(t, access.SessionLockFor(s, "s2", now))
	require.Nil(t, access.SessionLockFor(s, "s1", now.Add(time.Hour)), "expired")
}
