package control

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/projections/access"
	"github.com/tollgate-db/tollgate/schemas"
)

// Requests are access requests: a user asks for roles for a while, others
// review, and an approval grants them until it expires. Each step is a
// control event; the agents decide from the projection, so an approved
// grant applies at the user's next connection.
type Requests struct{ s *Service }

// Requests returns the service's access requests.
func (s *Service) Requests() Requests { return Requests{s} }

// Create records the caller's request for r.Roles, on the terms the
// caller's own roles allow (access.MayRequest).
func (rs Requests) Create(ctx context.Context, c Caller, r wire.AccessRequestCreate) (wire.AccessRequest, error) {
	s := rs.s
	if c.Kind != CallerUser {
		return wire.AccessRequest{}, forbiddenf("only a user may request access")
	}
	roles := slices.Compact(slices.Sorted(slices.Values(r.Roles)))
	if len(roles) == 0 || roles[0] == "" {
		return wire.AccessRequest{}, invalidf("name the roles to request: --roles=ROLE[,ROLE…]")
	}
	if r.Duration < 0 {
		return wire.AccessRequest{}, invalidf("duration %s is negative", r.Duration)
	}
	now := s.cfg.Clock.Now().UTC()
	id := s.builder.IDs.NewID(now)
	var data schemas.AccessRequestCreated
	_, err := s.change(ctx, c.Actor(), eventlog.KindAccessRequest, id, schemas.TypeAccessRequestCreated, func(st *projections.State) (any, error) {
		u, ok := st.Users[c.Name]
		if !ok {
			return nil, &Error{Code: CodeUnauthorized, Message: "user " + c.Name + " no longer exists; log in again"}
		}
		p, err := access.MayRequest(st, u.Roles, roles)
		if err != nil {
			return nil, forbiddenf("%s may not request %s: %v", c.Name, strings.Join(roles, ","), err)
		}
		d := r.Duration
		if d == 0 {
			d = min(schemas.DefaultRequestDuration, p.MaxDuration)
		}
		if d > p.MaxDuration {
			return nil, invalidf("duration %s is longer than your roles allow for %s (%s): ask for less", d, strings.Join(roles, ","), p.MaxDuration)
		}
		data = schemas.AccessRequestCreated{ID: id, User: c.Name, Roles: roles, Reason: r.Reason, Duration: d.String(),
			Approve: p.Approve, Deny: p.Deny}
		return data, nil
	})
	if err != nil {
		return wire.AccessRequest{}, err
	}
	return rs.Get(c, id)
}

// visible reports whether c may see r: its own, one it may review, or
// with a rule allowing read on access_request.
func visible(st *projections.State, c Caller, r *projections.AccessRequest) bool {
	if c.Kind != CallerUser {
		return false
	}
	if r.User == c.Name {
		return true
	}
	u, ok := st.Users[c.Name]
	if !ok {
		return false
	}
	if ok, _ := access.CanDo(st, u.Roles, schemas.ResourceAccessRequest, schemas.VerbRead); ok {
		return true
	}
	return access.MayReview(st, u.Roles, r.Roles) == nil
}

// List returns the requests c may see, newest first, in state when set.
func (rs Requests) List(c Caller, q wire.AccessRequestsQuery) ([]wire.AccessRequest, error) {
	switch q.State {
	case "", schemas.RequestPending, schemas.RequestApproved, schemas.RequestDenied, schemas.RequestDropped, schemas.RequestExpired:
	default:
		return nil, invalidf("state %q: use pending, approved, denied, dropped or expired", q.State)
	}
	out := []wire.AccessRequest{}
	rs.s.View(func(st *projections.State) {
		for _, r := range st.AccessRequests {
			if (q.State == "" || r.State == q.State) && visible(st, c, r) {
				out = append(out, requestOut(r))
			}
		}
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	return out, nil
}

// Get returns request id, when c may see it.
func (rs Requests) Get(c Caller, id string) (wire.AccessRequest, error) {
	var (
		out   wire.AccessRequest
		found bool
	)
	rs.s.View(func(st *projections.State) {
		if r, ok := st.AccessRequests[id]; ok && visible(st, c, r) {
			out, found = requestOut(r), true
		}
	})
	if !found {
		return out, notFoundf("access request %s not found (toll request ls, tollctl requests ls)", id)
	}
	return out, nil
}

// Review records c's verdict on request id and, when it reaches the
// request's threshold, the decision: approved until now plus the
// request's duration, or denied. A reviewer may not review its own
// request, nor one twice; a request decided but not yet marked (control
// stopped between the two appends) is marked by the next review call.
func (rs Requests) Review(ctx context.Context, c Caller, id string, v wire.ReviewVerdict) (wire.AccessRequest, error) {
	s := rs.s
	if v.Verdict != schemas.VerdictApprove && v.Verdict != schemas.VerdictDeny {
		return wire.AccessRequest{}, invalidf("verdict %q: use approve or deny", v.Verdict)
	}
	if c.Kind != CallerUser {
		return wire.AccessRequest{}, forbiddenf("only a user may review access requests")
	}
	_, err := s.change(ctx, c.Actor(), eventlog.KindAccessRequest, id, schemas.TypeAccessRequestReviewed, func(st *projections.State) (any, error) {
		r, err := reviewable(st, c, id)
		if err != nil {
			return nil, err
		}
		if r.Reviewed(c.Name) {
			return nil, errAlreadyReviewed
		}
		return schemas.AccessRequestReviewed{ID: id, Reviewer: c.Name, Verdict: v.Verdict, Reason: v.Reason}, nil
	})
	again := errors.Is(err, errAlreadyReviewed)
	if err != nil && !again {
		return wire.AccessRequest{}, err
	}
	if err := rs.decide(ctx, c, id); err != nil {
		return wire.AccessRequest{}, err
	}
	if again {
		return wire.AccessRequest{}, conflictf("you reviewed access request %s already", id)
	}
	return rs.Get(c, id)
}

// errAlreadyReviewed: the caller's review is on record already.
var errAlreadyReviewed = errors.New("reviewed already")

// reviewable is request id if c may review it now.
func reviewable(st *projections.State, c Caller, id string) (*projections.AccessRequest, error) {
	r, ok := st.AccessRequests[id]
	if !ok {
		return nil, notFoundf("access request %s not found (tollctl requests ls)", id)
	}
	if r.User == c.Name {
		return nil, forbiddenf("you may not review your own access request %s: another reviewer must", id)
	}
	u, ok := st.Users[c.Name]
	if !ok {
		return nil, &Error{Code: CodeUnauthorized, Message: "user " + c.Name + " no longer exists; log in again"}
	}
	if err := access.MayReview(st, u.Roles, r.Roles); err != nil {
		return nil, forbiddenf("%s may not review access request %s: %v", c.Name, id, err)
	}
	if r.State != schemas.RequestPending {
		return nil, conflictf("access request %s is %s already", id, r.State)
	}
	return r, nil
}

// decide appends the decision of request id when its reviews reach a
// threshold and it is still pending.
func (rs Requests) decide(ctx context.Context, c Caller, id string) error {
	s := rs.s
	now := s.cfg.Clock.Now().UTC()
	_, err := s.change(ctx, c.Actor(), eventlog.KindAccessRequest, id, schemas.TypeAccessRequestApproved, func(st *projections.State) (any, error) {
		r, ok := st.AccessRequests[id]
		if !ok || r.State != schemas.RequestPending {
			return nil, errNoDecision
		}
		approve, deny := r.Count()
		switch {
		case deny >= r.Deny:
			return nil, errDenyFirst
		case approve >= r.Approve:
			d, err := time.ParseDuration(r.Duration)
			if err != nil {
				return nil, err
			}
			return schemas.AccessRequestApproved{ID: id, Expires: now.Add(d)}, nil
		}
		return nil, errNoDecision
	})
	if errors.Is(err, errDenyFirst) {
		_, err = s.change(ctx, c.Actor(), eventlog.KindAccessRequest, id, schemas.TypeAccessRequestDenied, func(st *projections.State) (any, error) {
			if r, ok := st.AccessRequests[id]; !ok || r.State != schemas.RequestPending {
				return nil, errNoDecision
			}
			return schemas.AccessRequestDenied{ID: id}, nil
		})
	}
	if errors.Is(err, errNoDecision) {
		return nil
	}
	return err
}

var (
	errNoDecision = errors.New("no decision")
	errDenyFirst  = errors.New("denied")
)

// Drop withdraws request id: its requester's, or with a rule allowing
// delete on access_request. A pending request is never decided; an
// approved one's grant ends (agents end the sessions opened through it).
func (rs Requests) Drop(ctx context.Context, c Caller, id string) error {
	s := rs.s
	_, err := s.change(ctx, c.Actor(), eventlog.KindAccessRequest, id, schemas.TypeAccessRequestDropped, func(st *projections.State) (any, error) {
		r, ok := st.AccessRequests[id]
		if !ok || !visible(st, c, r) {
			return nil, notFoundf("access request %s not found (toll request ls)", id)
		}
		if r.User != c.Name {
			if err := authorizeIn(st, c, schemas.ResourceAccessRequest, schemas.VerbDelete); err != nil {
				return nil, err
			}
		}
		if r.State != schemas.RequestPending && r.State != schemas.RequestApproved {
			return nil, conflictf("access request %s is %s already", id, r.State)
		}
		return schemas.AccessRequestDropped{ID: id}, nil
	})
	return err
}

func requestOut(r *projections.AccessRequest) wire.AccessRequest {
	out := wire.AccessRequest{AccessRequestCreated: r.AccessRequestCreated, State: r.State, CreatedAt: r.CreatedAt,
		Expires: r.Expires, DecidedAt: r.DecidedAt, DecidedBy: r.DecidedBy}
	for _, v := range r.Reviews {
		out.Reviews = append(out.Reviews, wire.RequestReview(v))
	}
	return out
}

// RequestSweep is how often RunRequestExpiry looks for requests whose
// time is up.
const RequestSweep = 5 * time.Second

// RunRequestExpiry expires due requests every RequestSweep until ctx
// ends. Several controls may run it: the appends are conditional on each
// request's last event, so one of them wins and the others find nothing
// left to do.
func (rs Requests) RunRequestExpiry(ctx context.Context) {
	t := time.NewTicker(RequestSweep)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if n, err := rs.ExpireDue(ctx); err != nil && ctx.Err() == nil {
				rs.s.log.Warn().Err(err).Int("expired", n).Msg("access request expiry (retried at the next sweep)")
			}
		}
	}
}

// ExpireDue appends access_request.expired for every request whose time
// is up at control's clock: pending for PendingRequestTTL, or approved
// and past its grant. It returns how many it expired.
func (rs Requests) ExpireDue(ctx context.Context) (int, error) {
	s := rs.s
	now := s.cfg.Clock.Now().UTC()
	var due []string
	s.View(func(st *projections.State) {
		for id, r := range st.AccessRequests {
			if dueAt(r, now) {
				due = append(due, id)
			}
		}
	})
	sort.Strings(due)
	n := 0
	var errs []error
	for _, id := range due {
		_, err := s.change(ctx, Source, eventlog.KindAccessRequest, id, schemas.TypeAccessRequestExpired, func(st *projections.State) (any, error) {
			if r, ok := st.AccessRequests[id]; !ok || !dueAt(r, now) {
				return nil, errNoDecision
			}
			return schemas.AccessRequestExpired{ID: id}, nil
		})
		switch {
		case err == nil:
			n++
		case errors.Is(err, errNoDecision), isCode(err, CodeConflict): // done by another control
		default:
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

// dueAt reports whether r's time is up at now.
func dueAt(r *projections.AccessRequest, now time.Time) bool {
	switch r.State {
	case schemas.RequestPending:
		return !now.Before(r.CreatedAt.Add(schemas.PendingRequestTTL))
	case schemas.RequestApproved:
		return !now.Before(r.Expires)
	}
	return false
}
