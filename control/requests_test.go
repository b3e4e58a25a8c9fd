package control

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
	"github.com/tollgate-db/tollgate/internal/testclock"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/projections/access"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestAccessRequests: the guide's requester asks for a role; a reviewer
// approves and the role is hers until the grant expires; she may not
// review her own request, one without the right may neither request nor
// review nor see it, a grant longer than the roles allow is refused, a
// threshold of two approvals waits for the second and one denial refuses,
// and a dropped grant ends.
func TestAccessRequests(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	roles := []schemas.Role{
		{Name: "dba", Spec: schemas.RoleSpec{Allow: schemas.RoleConditions{DBLabels: map[string][]string{"*": {"*"}}, DBUsers: []string{"postgres"}}}},
		{Name: "dba-reviewer", Spec: schemas.RoleSpec{Allow: schemas.RoleConditions{ReviewRequests: &schemas.ReviewConditions{Roles: []string{"dba"}}}}},
		{Name: "cautious", Spec: schemas.RoleSpec{Allow: schemas.RoleConditions{Request: &schemas.RequestConditions{Roles: []string{"dba"},
			Thresholds: []schemas.Threshold{{Approve: 2, Deny: 1}}}}}},
	}
	for _, r := range roles {
		_, err := f.svc.Roles().Create(ctx, f.admin, r)
		require.NoError(t, err)
	}
	for name, rs := range map[string][]string{"alice": {"access", "requester"}, "bob": {"dba-reviewer"}, "carol": {"dba-reviewer"}, "dave": {"access"}} {
		_, err := f.svc.Users().Add(ctx, f.admin, schemas.User{Name: name, Roles: rs})
		require.NoError(t, err)
	}
	user := func(n string) Caller { return Caller{Kind: CallerUser, Name: n} }
	alice, bob, carol, dave := user("alice"), user("bob"), user("carol"), user("dave")
	reqs := f.svc.Requests()

	_, err := reqs.Create(ctx, dave, wire.AccessRequestCreate{Roles: []string{"dba"}})
	require.Equal(t, CodeForbidden, apiCode(t, err), "dave holds no role that may request")
	_, err = reqs.Create(ctx, alice, wire.AccessRequestCreate{Roles: []string{"dba"}, Duration: 13 * time.Hour})
	require.Equal(t, CodeInvalid, apiCode(t, err), "the requester role allows 12h")
	_, err = reqs.Create(ctx, alice, wire.AccessRequestCreate{Roles: []string{"nosuch"}})
	require.Equal(t, CodeForbidden, apiCode(t, err))

	before := time.Now()
	r, err := reqs.Create(ctx, alice, wire.AccessRequestCreate{Roles: []string{"dba"}, Reason: "incident 42"})
	require.NoError(t, err)
	require.Equal(t, schemas.RequestPending, r.State)
	require.Equal(t, "1h0m0s", r.Duration)
	require.Equal(t, 1, r.Approve)
	_, err = reqs.Review(ctx, alice, r.ID, wire.ReviewVerdict{Verdict: schemas.VerdictApprove})
	require.Equal(t, CodeForbidden, apiCode(t, err), "no self-review")
	_, err = reqs.Review(ctx, dave, r.ID, wire.ReviewVerdict{Verdict: schemas.VerdictApprove})
	require.Equal(t, CodeForbidden, apiCode(t, err))
	_, err = reqs.Get(dave, r.ID)
	require.Equal(t, CodeNotFound, apiCode(t, err), "dave may not see alice's request")
	_, err = reqs.Get(bob, r.ID)
	require.NoError(t, err, "a reviewer sees it")

	r, err = reqs.Review(ctx, bob, r.ID, wire.ReviewVerdict{Verdict: schemas.VerdictApprove, Reason: "on call"})
	require.NoError(t, err)
	require.Equal(t, schemas.RequestApproved, r.State)
	require.WithinRange(t, r.Expires, before.Add(time.Hour), time.Now().Add(time.Hour))
	_, err = reqs.Review(ctx, carol, r.ID, wire.ReviewVerdict{Verdict: schemas.VerdictDeny})
	require.Equal(t, CodeConflict, apiCode(t, err), "decided already")
	f.svc.View(func(st *projections.State) {
		id, ok := access.IdentityFor(st, "alice", time.Now())
		require.True(t, ok)
		require.Equal(t, []string{"access", "requester", "dba"}, id.Roles)
		require.Equal(t, r.ID, id.Grants["dba"].Request)
		id, _ = access.IdentityFor(st, "alice", r.Expires)
		require.Equal(t, []string{"access", "requester"}, id.Roles, "the grant ends at its expiry")
	})

	// Two approvals needed: one waits, a denial refuses.
	_, err = f.svc.Users().Update(ctx, f.admin, schemas.User{Name: "alice", Roles: []string{"access", "requester", "cautious"}})
	require.NoError(t, err)
	r2, err := reqs.Create(ctx, alice, wire.AccessRequestCreate{Roles: []string{"dba"}, Duration: 30 * time.Minute})
	require.NoError(t, err)
	require.Equal(t, 2, r2.Approve)
	r2, err = reqs.Review(ctx, bob, r2.ID, wire.ReviewVerdict{Verdict: schemas.VerdictApprove})
	require.NoError(t, err)
	require.Equal(t, schemas.RequestPending, r2.State, "one approval of two")
	_, err = reqs.Review(ctx, bob, r2.ID, wire.ReviewVerdict{Verdict: schemas.VerdictApprove})
	require.Equal(t, CodeConflict, apiCode(t, err), "bob counts once")
	r2, err = reqs.Review(ctx, carol, r2.ID, wire.ReviewVerdict{Verdict: schemas.VerdictDeny, Reason: "not now"})
	require.NoError(t, err)
	require.Equal(t, schemas.RequestDenied, r2.State)

	list, err := reqs.List(bob, wire.AccessRequestsQuery{State: schemas.RequestApproved})
	require.NoError(t, err)
	require.Len(t, list, 1)
	list, err = reqs.List(dave, wire.AccessRequestsQuery{})
	require.NoError(t, err)
	require.Empty(t, list)

	require.NoError(t, reqs.Drop(ctx, alice, r.ID))
	f.svc.View(func(st *projections.State) {
		id, _ := access.IdentityFor(st, "alice", time.Now())
		require.Nil(t, id.Grants, "a dropped grant ends")
	})
	require.Equal(t, CodeConflict, apiCode(t, reqs.Drop(ctx, alice, r.ID)))
}

// TestAccessRequestsExpire: at control's clock, a pending request expires
// after PendingRequestTTL and an approved one once its grant ended (the
// event puts the end on record; the grant had ended by its time already);
// a request not yet due is left, and a second sweep finds nothing.
func TestAccessRequestsExpire(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := testclock.New(time.Now().UTC())
	svc, err := New(Config{Control: memlog.New(eventlog.ControlStream), Audit: memlog.New(eventlog.AuditStream), DataDir: t.TempDir(),
		ClusterName: "c", Clock: clock, Logger: zerolog.Nop()})
	require.NoError(t, err)
	require.NoError(t, svc.Start(ctx))
	admin, alice := Caller{Kind: CallerUser, Name: AdminUser}, Caller{Kind: CallerUser, Name: "alice"}
	_, err = svc.Users().Add(ctx, admin, schemas.User{Name: "alice", Roles: []string{"access", "requester"}})
	require.NoError(t, err)
	reqs := svc.Requests()
	pending, err := reqs.Create(ctx, alice, wire.AccessRequestCreate{Roles: []string{"auditor"}})
	require.NoError(t, err)
	granted, err := reqs.Create(ctx, alice, wire.AccessRequestCreate{Roles: []string{"auditor"}, Duration: 2 * time.Hour})
	require.NoError(t, err)
	_, err = reqs.Review(ctx, admin, granted.ID, wire.ReviewVerdict{Verdict: schemas.VerdictApprove})
	require.NoError(t, err)

	clock.Add(time.Hour)
	n, err := reqs.ExpireDue(ctx)
	require.NoError(t, err)
	require.Zero(t, n, "nothing is due yet")
	clock.Add(time.Hour)
	n, err = reqs.ExpireDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the 2h grant ended")
	g, err := reqs.Get(alice, granted.ID)
	require.NoError(t, err)
	require.Equal(t, schemas.RequestExpired, g.State)

	clock.Add(schemas.PendingRequestTTL)
	n, err = reqs.ExpireDue(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, n, "the pending one waited too long")
	p, err := reqs.Get(alice, pending.ID)
	require.NoError(t, err)
	require.Equal(t, schemas.RequestExpired, p.State)
	_, err = reqs.Review(ctx, admin, pending.ID, wire.ReviewVerdict{Verdict: schemas.VerdictApprove})
	require.Equal(t, CodeConflict, apiCode(t, err), "an expired request is not reviewed")
	n, err = reqs.ExpireDue(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
}
