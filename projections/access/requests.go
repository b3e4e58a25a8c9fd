package access

import (
	"fmt"
	"slices"
	"sort"
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

// RequestableAccess is a database id cannot reach now but would with
// Roles, roles its own roles allow it to request (each reaches it); its
// DatabaseAccess is the reach with all of them.
type RequestableAccess struct {
	DatabaseAccess
	Roles []string
}

// Requestable lists the databases id does not reach now that some role it
// may request (MayRequest with its own roles, grants left out) would
// reach, each with those roles, sorted by database and role.
func Requestable(s *projections.State, id Identity, now time.Time) []RequestableAccess {
	own := make([]string, 0, len(id.Roles))
	for _, r := range id.Roles {
		if _, granted := id.Grants[r]; !granted {
			own = append(own, r)
		}
	}
	reached := map[string]bool{}
	for _, da := range Reachable(s, id, now) {
		reached[da.Database.Name] = true
	}
	candidates := make([]string, 0, len(s.Roles))
	for n := range s.Roles {
		candidates = append(candidates, n)
	}
	sort.Strings(candidates)
	byDB := map[string]*RequestableAccess{}
	for _, role := range candidates {
		if slices.Contains(id.Roles, role) {
			continue
		}
		if _, err := MayRequest(s, own, []string{role}); err != nil {
			continue
		}
		with := id
		with.Roles = append(slices.Clone(id.Roles), role)
		for _, da := range Reachable(s, with, now) {
			if reached[da.Database.Name] {
				continue
			}
			ra, ok := byDB[da.Database.Name]
			if !ok {
				ra = &RequestableAccess{DatabaseAccess: da}
				byDB[da.Database.Name] = ra
			}
			ra.Roles = append(ra.Roles, role)
		}
	}
	out := make([]RequestableAccess, 0, len(byDB))
	for name, ra := range byDB {
		// How the database is reached with every role that reaches it.
		with := id
		with.Roles = append(slices.Clone(id.Roles), ra.Roles...)
		for _, da := range Reachable(s, with, now) {
			if da.Database.Name == name {
				ra.DatabaseAccess = da
			}
		}
		out = append(out, *ra)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Database.Name < out[j].Database.Name })
	return out
}
