package projections_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

func TestSnapshotRestoreTail(t *testing.T) {
	t.Parallel()
	var l log
	l.add(t, schemas.TypeClusterCreated, eventlog.KindCluster, "c", schemas.ClusterCreated{Name: "c"})
	l.add(t, schemas.TypeCACreated, eventlog.KindCA, "db", schemas.CACreated{CAType: "db", KeyID: "k1", CertPEM: "OLD"})
	l.add(t, schemas.TypeUserCreated, eventlog.KindUser, "u", schemas.UserCreated{User: schemas.User{Name: "u", Traits: map[string][]string{"db_users": {"x"}}}})
	l.add(t, schemas.TypeCARotationStarted, eventlog.KindCA, "db", schemas.CARotationStarted{CAType: "db", KeyID: "k2", CertPEM: "NEW"})
	l.add(t, schemas.TypeTokenCreated, eventlog.KindToken, "h", schemas.TokenCreated{Hash: "h", Type: "db", Reusable: true})
	l.add(t, schemas.TypeTokenConsumed, eventlog.KindToken, "h", schemas.TokenConsumed{Hash: "h", AgentID: "a1"})
	l.add(t, schemas.TypeTokenConsumed, eventlog.KindToken, "h", schemas.TokenConsumed{Hash: "h", AgentID: "a2"})
	l.add(t, schemas.TypeUserUpdated, eventlog.KindUser, "u", schemas.User{Name: "u", Roles: []string{}})
	l.add(t, schemas.TypeCARotationRolledBack, eventlog.KindCA, "db", schemas.CARotationRolledBack{CAType: "db"})

	full, errs := applyAll(t, l.recs)
	require.Empty(t, errs)
	want, err := full.Canonical()
	require.NoError(t, err)

	for cut := 0; cut <= len(l.recs); cut++ {
		head, _ := applyAll(t, l.recs[:cut])
		snap, err := projections.Snapshot(head)
		require.NoError(t, err)
		s, err := projections.Restore(snap)
		require.NoError(t, err)
		headBytes, _ := head.Canonical()
		restoredBytes, _ := s.Canonical()
		require.Equal(t, string(headBytes), string(restoredBytes), "cut %d", cut)
		// Overlap with the snapshot is ignored.
		for _, r := range l.recs {
			require.NoError(t, s.Apply(r))
		}
		got, err := s.Canonical()
		require.NoError(t, err)
		require.Equal(t, string(want), string(got), "cut %d", cut)
	}

	c, err := full.Clone()
	require.NoError(t, err)
	c.Users["u"].Name = "changed"
	require.Equal(t, "u", full.Users["u"].Name)
}

func TestRestoreRejects(t *testing.T) {
	t.Parallel()
	for _, in := range []string{``, `{`, `{"snapshot_version":2,"state":{}}`, `{"snapshot_version":1,"state":{"users":5}}`} {
		_, err := projections.Restore([]byte(in))
		require.ErrorIs(t, err, projections.ErrSnapshotFormat, in)
	}
	s, err := projections.Restore([]byte(`{"snapshot_version":1,"state":{"users":null}}`))
	require.NoError(t, err)
	require.NotNil(t, s.Users)
	require.NotNil(t, s.Locks)
}
