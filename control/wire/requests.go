package wire

import (
	"time"

	"github.com/tollgate-db/tollgate/schemas"
)

// AccessRequestCreate is POST /v1/access-requests: the caller asks for
// Roles, for Duration (0: the shorter of 1h and what its roles allow).
type AccessRequestCreate struct {
	Roles    []string      `json:"roles"`
	Reason   string        `json:"reason,omitempty"`
	Duration time.Duration `json:"duration,omitempty"`
}

// AccessRequestsQuery is GET /v1/access-requests: the requests the caller
// may see (its own, and those it may review), optionally in one state.
type AccessRequestsQuery struct {
	State string `query:"state"`
}

// AccessRequestReview is POST /v1/access-requests/{id}/review.
type AccessRequestReview struct {
	ID   string        `path:"id"`
	Body ReviewVerdict `body:"json"`
}

// ReviewVerdict is a review's body: schemas.VerdictApprove or
// VerdictDeny, and why.
type ReviewVerdict struct {
	Verdict string `json:"verdict"`
	Reason  string `json:"reason,omitempty"`
}

// AccessRequest is an access request as a caller sees it.
type AccessRequest struct {
	schemas.AccessRequestCreated
	State     string          `json:"state"`
	CreatedAt time.Time       `json:"created_at"`
	Reviews   []RequestReview `json:"reviews,omitempty"`
	Expires   time.Time       `json:"expires,omitzero"`
	DecidedAt time.Time       `json:"decided_at,omitzero"`
	DecidedBy string          `json:"decided_by,omitempty"`
}

// RequestReview is one review of an access request.
type RequestReview struct {
	Reviewer string    `json:"reviewer"`
	Verdict  string    `json:"verdict"`
	Reason   string    `json:"reason,omitempty"`
	Time     time.Time `json:"time"`
}
