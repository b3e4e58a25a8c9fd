package bootstrap_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/bootstrap"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/projections/access"
	"github.com/tollgate-db/tollgate/schemas"
)

func state(t *testing.T) *projections.State {
	t.Helper()
	s := projections.New()
	for i, r := range bootstrap.BuiltinRoles() {
		raw, v, err := schemas.Marshal(schemas.TypeRoleCreated, r)
		require.NoError(t, err)
		ev := eventlog.Event{ID: r.Name, Type: schemas.TypeRoleCreated, V: v, Time: time.Unix(0, 0).UTC(), Source: "control",
			Subject: eventlog.ControlSubject(eventlog.KindRole, r.Name), Data: raw}
		require.NoError(t, s.Apply(eventlog.Record{StreamSeq: uint64(i + 1), Event: ev}))
	}
	s.Databases["roach"] = &projections.Database{Database: schemas.Database{Name: "roach", Protocol: schemas.ProtocolPostgres, Labels: map[string]string{"env": "dev"}}}
	return s
}

func TestBuiltinRolesValidate(t *testing.T) {
	t.Parallel()
	v, err := schemas.NewValidator()
	require.NoError(t, err)
	for _, r := range bootstrap.BuiltinRoles() {
		raw, ver, err := schemas.Marshal(schemas.TypeRoleCreated, r)
		require.NoError(t, err)
		ev := eventlog.Event{ID: "01J00000000000000000000000", Type: schemas.TypeRoleCreated, V: ver, Time: time.Unix(1, 0).UTC(),
			Source: "control", Actor: "admin", Subject: eventlog.ControlSubject(eventlog.KindRole, r.Name), Data: raw}
		require.NoError(t, v.Validate(&ev), r.Name)
	}
}

func TestBuiltinRolesRules(t *testing.T) {
	t.Parallel()
	s := state(t)
	tests := []struct {
		role, resource, verb string
		want                 bool
	}{
		{"editor", schemas.ResourceUser, schemas.VerbCreate, true},
		{"editor", schemas.ResourceRole, schemas.VerbDelete, true},
		{"editor", schemas.ResourceToken, schemas.VerbList, true},
		{"editor", schemas.ResourceLock, schemas.VerbCreate, true},
		{"editor", schemas.ResourceDatabase, schemas.VerbUpdate, true},
		{"editor", schemas.ResourceCert, schemas.VerbSign, true},
		{"editor", schemas.ResourceCA, schemas.VerbRotate, true},
		{"editor", schemas.ResourceCA, schemas.VerbRead, true},
		{"editor", schemas.ResourceCA, schemas.VerbDelete, false},
		{"editor", schemas.ResourceCluster, schemas.VerbRead, true},
		{"editor", schemas.ResourceEvent, schemas.VerbRead, true},
		{"editor", schemas.ResourceAudit, schemas.VerbRead, false},
		{"auditor", schemas.ResourceAudit, schemas.VerbRead, true},
		{"auditor", schemas.ResourceAudit, schemas.VerbList, true},
		{"auditor", schemas.ResourceEvent, schemas.VerbList, true},
		{"auditor", schemas.ResourceCluster, schemas.VerbRead, true},
		{"auditor", schemas.ResourceUser, schemas.VerbCreate, false},
		{"auditor", schemas.ResourceCert, schemas.VerbSign, false},
		{"access", schemas.ResourceUser, schemas.VerbRead, false},
		{"access", schemas.ResourceCert, schemas.VerbSign, false},
	}
	for _, tt := range tests {
		ok, reason := access.CanDo(s, []string{tt.role}, tt.resource, tt.verb)
		require.Equal(t, tt.want, ok, "%s %s %s: %s", tt.role, tt.verb, tt.resource, reason)
	}
}

func TestAccessRole(t *testing.T) {
	t.Parallel()
	s := state(t)
	now := time.Unix(100, 0).UTC()
	alice := access.Identity{User: "alice", Roles: []string{"access"}, Traits: map[string][]string{"db_users": {"alice"}, "db_names": {"shop"}}}
	d := access.Decide(s, alice, "roach", "alice", "shop", now)
	require.True(t, d.Allowed, d.Reason)
	require.Equal(t, "access", d.Role)
	require.False(t, access.Decide(s, alice, "roach", "root", "shop", now).Allowed)
	require.False(t, access.Decide(s, alice, "roach", "alice", "other", now).Allowed)
	require.Equal(t, 12*time.Hour, access.MaxSessionTTL(s, []string{"access", "editor"}, 24*time.Hour))
	require.Equal(t, 24*time.Hour, access.MaxSessionTTL(s, []string{"editor"}, 24*time.Hour))
}
