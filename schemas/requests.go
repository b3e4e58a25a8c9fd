package schemas

import "time"

// RequestConditions are a role's allow.request (or deny.request): which
// roles its holders may ask for, for how long, and how many reviews
// decide.
type RequestConditions struct {
	// Roles are the roles that may be requested ("*" for any; in deny,
	// the roles that may not be).
	Roles []string `json:"roles,omitempty"`
	// MaxDuration bounds a request's grant, a Go duration ("8h"); empty
	// means DefaultRequestDuration.
	MaxDuration string `json:"max_duration,omitempty"`
	// Thresholds are how many approvals grant and how many denials refuse
	// (default: one of each).
	Thresholds []Threshold `json:"thresholds,omitempty"`
}

// Threshold is a number of approving and of denying reviews.
type Threshold struct {
	Approve int `json:"approve,omitempty"`
	Deny    int `json:"deny,omitempty"`
}

// ReviewConditions are a role's allow.review_requests: the requests its
// holders may review, by the roles they ask for.
type ReviewConditions struct {
	Roles []string `json:"roles,omitempty"`
}

// DefaultRequestDuration is a grant's length when neither the request nor
// the requester's roles say.
const DefaultRequestDuration = time.Hour

// ResourceAccessRequest is the admin resource of access requests (rules
// may grant list and read on it; reviewing is by review_requests).
const ResourceAccessRequest = "access_request"

// Access request states.
const (
	RequestPending  = "pending"
	RequestApproved = "approved"
	RequestDenied   = "denied"
	RequestDropped  = "dropped"
	RequestExpired  = "expired"
)

// PendingRequestTTL is how long a request waits for its reviews before
// control expires it.
const PendingRequestTTL = 24 * time.Hour

// Review verdicts.
const (
	VerdictApprove = "approve"
	VerdictDeny    = "deny"
)

// AccessRequestCreated is a user's request for roles, pending review.
// The thresholds are fixed when it is created, from the requester's roles.
type AccessRequestCreated struct {
	ID       string   `json:"id"`
	User     string   `json:"user"`
	Roles    []string `json:"roles"`
	Reason   string   `json:"reason,omitempty"`
	Duration string   `json:"duration"` // Go duration of the grant once approved
	Approve  int      `json:"approve"`  // approvals that grant it
	Deny     int      `json:"deny"`     // denials that refuse it
}

// AccessRequestReviewed is one reviewer's verdict on a pending request.
type AccessRequestReviewed struct {
	ID       string `json:"id"`
	Reviewer string `json:"reviewer"`
	Verdict  string `json:"verdict"` // VerdictApprove or VerdictDeny
	Reason   string `json:"reason,omitempty"`
}

// AccessRequestApproved grants a request's roles to its user until
// Expires (the approval's time plus the request's duration, computed by
// control and recorded, so replay decides the same).
type AccessRequestApproved struct {
	ID      string    `json:"id"`
	Expires time.Time `json:"expires"`
}

// AccessRequestDenied refuses a request.
type AccessRequestDenied struct {
	ID string `json:"id"`
}

// AccessRequestExpired closes a request whose time is up: a pending one
// reviewed too late (PendingRequestTTL), or an approved one whose grant
// ended (its Expires, which had ended the grant already; the event puts
// the end on record).
type AccessRequestExpired struct {
	ID string `json:"id"`
}

// AccessRequestDropped withdraws a request (its user's or an admin's): a
// pending one is never decided, an approved one's grant ends.
type AccessRequestDropped struct {
	ID string `json:"id"`
}
