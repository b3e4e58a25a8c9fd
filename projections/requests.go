package projections

import (
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// AccessRequest is an access request and what happened to it. Its state
// changes only on access_request.approved, .denied and .dropped; reviews
// are recorded as they come (control appends the decision once a review
// reaches the request's threshold).
type AccessRequest struct {
	schemas.AccessRequestCreated
	State     string    `json:"state"` // schemas.Request*
	CreatedAt time.Time `json:"created_at"`
	Reviews   []Review  `json:"reviews,omitempty"`
	// Expires is when an approved request's grant ends.
	Expires time.Time `json:"expires,omitzero"`
	// DecidedAt is when it was approved, denied or dropped.
	DecidedAt time.Time `json:"decided_at,omitzero"`
	DecidedBy string    `json:"decided_by,omitempty"`
}

// Review is one reviewer's verdict.
type Review struct {
	Reviewer string    `json:"reviewer"`
	Verdict  string    `json:"verdict"`
	Reason   string    `json:"reason,omitempty"`
	Time     time.Time `json:"time"`
}

// Count returns the approvals and denials of r.
func (r *AccessRequest) Count() (approve, deny int) {
	for _, v := range r.Reviews {
		if v.Verdict == schemas.VerdictApprove {
			approve++
		} else {
			deny++
		}
	}
	return approve, deny
}

// Granted reports whether r grants its roles at now: approved and not yet
// expired (an expiry is the end of the grant, exclusive).
func (r *AccessRequest) Granted(now time.Time) bool {
	return r.State == schemas.RequestApproved && now.Before(r.Expires)
}

// Reviewed reports whether user reviewed r already.
func (r *AccessRequest) Reviewed(user string) bool {
	for _, v := range r.Reviews {
		if v.Reviewer == user {
			return true
		}
	}
	return false
}

// request is the request of id, replaced rather than changed in place
// (earlier views of the state stay as they were), or "" and why not.
func (s *State) request(id string) (*AccessRequest, string) {
	r, ok := s.AccessRequests[id]
	if !ok {
		return nil, "access request " + id + " does not exist"
	}
	c := *r
	c.Reviews = append([]Review(nil), r.Reviews...)
	return &c, ""
}

func (s *State) accessRequestCreated(ev eventlog.Event, d *schemas.AccessRequestCreated) string {
	if _, ok := s.AccessRequests[d.ID]; ok {
		return "access request " + d.ID + " already exists"
	}
	if _, ok := s.Users[d.User]; !ok {
		return "user " + d.User + " does not exist"
	}
	s.AccessRequests[d.ID] = &AccessRequest{AccessRequestCreated: *d, State: schemas.RequestPending, CreatedAt: ev.Time}
	return ""
}

func (s *State) accessRequestReviewed(ev eventlog.Event, d *schemas.AccessRequestReviewed) string {
	r, why := s.request(d.ID)
	switch {
	case r == nil:
		return why
	case r.State != schemas.RequestPending:
		return "access request " + d.ID + " is " + r.State + ", not pending"
	case d.Reviewer == r.User:
		return "access request " + d.ID + ": its requester cannot review it"
	case r.Reviewed(d.Reviewer):
		return "access request " + d.ID + ": " + d.Reviewer + " reviewed it already"
	}
	r.Reviews = append(r.Reviews, Review{Reviewer: d.Reviewer, Verdict: d.Verdict, Reason: d.Reason, Time: ev.Time})
	s.AccessRequests[d.ID] = r
	return ""
}

func (s *State) accessRequestApproved(ev eventlog.Event, d *schemas.AccessRequestApproved) string {
	r, why := s.request(d.ID)
	if r == nil {
		return why
	}
	if approve, _ := r.Count(); r.State != schemas.RequestPending || approve < r.Approve {
		return "access request " + d.ID + " cannot be approved: it is " + r.State + " with fewer approvals than it needs"
	}
	r.State, r.Expires, r.DecidedAt, r.DecidedBy = schemas.RequestApproved, d.Expires, ev.Time, ev.Actor
	s.AccessRequests[d.ID] = r
	return ""
}

func (s *State) accessRequestDenied(ev eventlog.Event, d *schemas.AccessRequestDenied) string {
	r, why := s.request(d.ID)
	if r == nil {
		return why
	}
	if _, deny := r.Count(); r.State != schemas.RequestPending || deny < r.Deny {
		return "access request " + d.ID + " cannot be denied: it is " + r.State + " with fewer denials than it needs"
	}
	r.State, r.DecidedAt, r.DecidedBy = schemas.RequestDenied, ev.Time, ev.Actor
	s.AccessRequests[d.ID] = r
	return ""
}

func (s *State) accessRequestDropped(ev eventlog.Event, d *schemas.AccessRequestDropped) string {
	r, why := s.request(d.ID)
	if r == nil {
		return why
	}
	if r.State != schemas.RequestPending && r.State != schemas.RequestApproved {
		return "access request " + d.ID + " is " + r.State + " already"
	}
	r.State, r.DecidedAt, r.DecidedBy = schemas.RequestDropped, ev.Time, ev.Actor
	s.AccessRequests[d.ID] = r
	return ""
}

func (s *State) accessRequestExpired(ev eventlog.Event, d *schemas.AccessRequestExpired) string {
	r, why := s.request(d.ID)
	switch {
	case r == nil:
		return why
	case r.State == schemas.RequestApproved && ev.Time.Before(r.Expires):
		return "access request " + d.ID + " is granted until " + r.Expires.UTC().Format(time.RFC3339) + ", not expired"
	case r.State != schemas.RequestPending && r.State != schemas.RequestApproved:
		return "access request " + d.ID + " is " + r.State + " already"
	}
	r.State = schemas.RequestExpired
	if r.DecidedAt.IsZero() {
		r.DecidedAt, r.DecidedBy = ev.Time, ev.Actor
	}
	s.AccessRequests[d.ID] = r
	return ""
}
