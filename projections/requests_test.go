package projections_test

import (
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestAccessRequestLifecycle: a request goes pending → approved only with
// its approvals recorded first, and the events that do not fit — a review
// by its requester, a second review by one reviewer, a decision short of
// its threshold, a review of a decided request, a request for an unknown
// user — are refused and change nothing. The grant's expiry is the
// approval event's.
func TestAccessRequestLifecycle(t *testing.T) {
	t.Parallel()
	exp := t0.Add(2 * time.Hour)
	var l log
	l.add(t, schemas.TypeUserCreated, eventlog.KindUser, "alice", schemas.UserCreated{User: schemas.User{Name: "alice", Roles: []string{"access"}}})
	created := schemas.AccessRequestCreated{ID: "r1", User: "alice", Roles: []string{"dba"}, Duration: "1h", Approve: 2, Deny: 1}
	l.add(t, schemas.TypeAccessRequestCreated, eventlog.KindAccessRequest, "r1", created)
	l.add(t, schemas.TypeAccessRequestCreated, eventlog.KindAccessRequest, "r1",
		schemas.AccessRequestCreated{ID: "r2", User: "nobody", Roles: []string{"dba"}, Duration: "1h", Approve: 1, Deny: 1}) // refused
	l.add(t, schemas.TypeAccessRequestReviewed, eventlog.KindAccessRequest, "r1",
		schemas.AccessRequestReviewed{ID: "r1", Reviewer: "alice", Verdict: schemas.VerdictApprove}) // refused: self-review
	l.add(t, schemas.TypeAccessRequestReviewed, eventlog.KindAccessRequest, "r1",
		schemas.AccessRequestReviewed{ID: "r1", Reviewer: "bob", Verdict: schemas.VerdictApprove, Reason: "ok"})
	l.add(t, schemas.TypeAccessRequestReviewed, eventlog.KindAccessRequest, "r1",
		schemas.AccessRequestReviewed{ID: "r1", Reviewer: "bob", Verdict: schemas.VerdictApprove}) // refused: twice
	l.add(t, schemas.TypeAccessRequestApproved, eventlog.KindAccessRequest, "r1", schemas.AccessRequestApproved{ID: "r1", Expires: exp}) // refused: 1 of 2
	l.add(t, schemas.TypeAccessRequestReviewed, eventlog.KindAccessRequest, "r1",
		schemas.AccessRequestReviewed{ID: "r1", Reviewer: "carol", Verdict: schemas.VerdictApprove})
	l.add(t, schemas.TypeAccessRequestDenied, eventlog.KindAccessRequest, "r1", schemas.AccessRequestDenied{ID: "r1"}) // refused: no denial
	l.add(t, schemas.TypeAccessRequestApproved, eventlog.KindAccessRequest, "r1", schemas.AccessRequestApproved{ID: "r1", Expires: exp})
	l.add(t, schemas.TypeAccessRequestReviewed, eventlog.KindAccessRequest, "r1",
		schemas.AccessRequestReviewed{ID: "r1", Reviewer: "dave", Verdict: schemas.VerdictDeny}) // refused: decided
	s, errs := applyAll(t, l.recs)
	require.Len(t, errs, 6)
	for _, err := range errs {
		require.True(t, errors.Is(err, projections.ErrInvalidTransition), "%v", err)
	}
	require.Len(t, s.AccessRequests, 1)
	r := s.AccessRequests["r1"]
	require.Equal(t, schemas.RequestApproved, r.State)
	require.Equal(t, exp, r.Expires)
	require.Equal(t, []string{"bob", "carol"}, []string{r.Reviews[0].Reviewer, r.Reviews[1].Reviewer})
	require.True(t, r.Granted(exp.Add(-time.Nanosecond)))
	require.False(t, r.Granted(exp))

	// Dropped: the grant ends; a dropped request is not dropped again.
	l.add(t, schemas.TypeAccessRequestDropped, eventlog.KindAccessRequest, "r1", schemas.AccessRequestDropped{ID: "r1"})
	l.add(t, schemas.TypeAccessRequestDropped, eventlog.KindAccessRequest, "r1", schemas.AccessRequestDropped{ID: "r1"})
	s, errs = applyAll(t, l.recs)
	require.Len(t, errs, 7)
	require.Equal(t, schemas.RequestDropped, s.AccessRequests["r1"].State)
	require.False(t, s.AccessRequests["r1"].Granted(t0))
}
