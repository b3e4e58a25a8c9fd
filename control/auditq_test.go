package control

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestAuditRequiresAuditRules: the audit questions need the audit rules
// (auditor role); an access-only user and a host are refused.
func TestAuditRequiresAuditRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.Users().Add(ctx, f.admin, schemas.User{Name: "bob", Roles: []string{"access"}})
	require.NoError(t, err)
	for _, c := range []Caller{{Kind: CallerUser, Name: "bob"}, {Kind: CallerHost, Name: "agent-1"}} {
		_, err = f.svc.Audit().Search(ctx, c, wire.AuditSearch{})
		require.Equal(t, CodeForbidden, apiCode(t, err))
		_, err = f.svc.Audit().Session(ctx, c, "s1")
		require.Equal(t, CodeForbidden, apiCode(t, err))
		_, err = f.svc.Audit().AccessAt(ctx, c, wire.AccessAt{At: time.Now(), User: "bob"})
		require.Equal(t, CodeForbidden, apiCode(t, err))
		_, err = f.svc.Audit().Verify(ctx, c, wire.AuditVerify{})
		require.Equal(t, CodeForbidden, apiCode(t, err))
	}
	_, err = f.svc.Audit().Search(ctx, f.admin, wire.AuditSearch{User: "bob"})
	require.NoError(t, err)
}

// TestAuditSearchPagesPastTheBound: a search matching more than
// MaxAuditSearch events answers the bound and says more match, with the
// cursor the next page starts after; a limit above the bound is cut to it,
// never silently.
func TestAuditSearchPagesPastTheBound(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	b := eventlog.NewBuilder("agent-1")
	const total = MaxAuditSearch + 5
	evs := make([]eventlog.Event, 0, total)
	for i := range total {
		ev, err := b.Build(schemas.TypeQuery, 1, "alice", eventlog.AuditSubject("roach", "alice", "s1", schemas.TypeQuery),
			schemas.Query{SessionID: "s1", N: uint64(i + 1), Kind: "simple", Statement: "select 1"})
		require.NoError(t, err)
		evs = append(evs, ev)
	}
	_, err := f.aud.AppendBatch(ctx, evs)
	require.NoError(t, err)

	page, err := f.svc.Audit().Search(ctx, f.admin, wire.AuditSearch{User: "alice", Limit: 50000})
	require.NoError(t, err)
	require.Len(t, page.Events, MaxAuditSearch)
	require.True(t, page.More)
	require.Equal(t, page.Events[len(page.Events)-1].Seq, page.Cursor)
	next, err := f.svc.Audit().Search(ctx, f.admin, wire.AuditSearch{User: "alice", After: page.Cursor, Limit: 50000})
	require.NoError(t, err)
	require.Len(t, next.Events, 5)
	require.False(t, next.More)
	require.Zero(t, next.Cursor)
	require.Greater(t, next.Events[0].Seq, page.Cursor)

	def, err := f.svc.Audit().Search(ctx, f.admin, wire.AuditSearch{User: "alice"})
	require.NoError(t, err)
	require.Len(t, def.Events, 1000, "the default page")
	require.True(t, def.More)
}
