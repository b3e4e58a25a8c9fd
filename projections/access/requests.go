package access

import (
	"fmt"
	"strings"
	"time"

	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// RequestPolicy is what a user's roles allow of a request for some roles:
// its longest grant and the reviews that decide it.
type RequestPolicy struct {
	MaxDuration time.Duration
	Approve     int // approvals that grant it (the most any allowing role asks)
	Deny        int // denials that refuse it (the fewest any allowing role asks)
}

// MayRequest tells whether holders of roles (a user's own, not granted
// ones) may request every role of requested, and on what terms: each must
// exist, match some role's allow.request.roles and no role's
// deny.request.roles. The longest grant is the smallest of, for each
// requested role, the largest max_duration of the roles allowing it
// (schemas.DefaultRequestDuration where none sets one).
func MayRequest(s *projections.State, roles, requested []string) (RequestPolicy, error) {
	mine := roleSet(s, roles)
	p := RequestPolicy{Approve: 1, Deny: 0}
	for _, want := range requested {
		if _, ok := s.Roles[want]; !ok {
			return p, fmt.Errorf("role %q does not exist", want)
		}
		var best time.Duration
		allowed := false
		for _, r := range mine {
			if rq := r.Spec.Deny.Request; rq != nil {
				if pat, ok := matchAny(rq.Roles, want); ok {
					return p, fmt.Errorf("role %s denies requesting %q (deny.request.roles %q)", r.Name, want, pat)
				}
			}
			rq := r.Spec.Allow.Request
			if rq == nil {
				continue
			}
			if _, ok := matchAny(rq.Roles, want); !ok {
				continue
			}
			allowed = true
			d := schemas.DefaultRequestDuration
			if v, err := time.ParseDuration(rq.MaxDuration); err == nil && v > 0 {
				d = v
			}
			best = max(best, d)
			for _, t := range rq.Thresholds {
				p.Approve = max(p.Approve, t.Approve)
				if t.Deny > 0 && (p.Deny == 0 || t.Deny < p.Deny) {
					p.Deny = t.Deny
				}
			}
		}
		if !allowed {
			return p, fmt.Errorf("no role of yours (%s) allows requesting %q (allow.request.roles)", strings.Join(names(mine), ", "), want)
		}
		if p.MaxDuration == 0 || best < p.MaxDuration {
			p.MaxDuration = best
		}
	}
	if p.Deny == 0 {
		p.Deny = 1
	}
	return p, nil
}

// MayReview tells whether holders of roles may review a request for
// requested: every requested role matches some role's
// allow.review_requests.roles.
func MayReview(s *projections.State, roles, requested []string) error {
	mine := roleSet(s, roles)
	for _, want := range requested {
		ok := false
		for _, r := range mine {
			if rv := r.Spec.Allow.ReviewRequests; rv != nil {
				if _, m := matchAny(rv.Roles, want); m {
					ok = true
					break
				}
			}
		}
		if !ok {
			return fmt.Errorf("no role of yours (%s) allows reviewing requests for %q (allow.review_requests.roles)", strings.Join(names(mine), ", "), want)
		}
	}
	return nil
}
