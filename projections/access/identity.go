package access

import (
	"slices"
	"sort"
	"time"

	"github.com/tollgate-db/tollgate/projections"
)

// Identity is who asks: a user with its current roles and traits.
type Identity struct {
	User   string
	Roles  []string
	Traits map[string][]string
	// Grants are the roles of Roles the user holds only through an
	// approved access request at the time of IdentityFor, with the request.
	Grants map[string]Grant
}

// Grant is a role held through an approved access request, until Expires.
type Grant struct {
	Request string
	Expires time.Time
}

// IdentityFor returns the identity of user as the state has it at now
// (roles and traits from the projection, not from a certificate, so that a
// role removed from a user takes effect at the next connection): its own
// roles, then the roles its approved access requests grant at now (each
// from the request that grants it longest). It returns false when the
// user does not exist.
func IdentityFor(s *projections.State, user string, now time.Time) (Identity, bool) {
	u, ok := s.Users[user]
	if !ok {
		return Identity{}, false
	}
	id := Identity{User: u.Name, Roles: slices.Clone(u.Roles), Traits: u.Traits}
	for _, g := range grantsOf(s, user, now) {
		for _, r := range g.Roles {
			if slices.Contains(u.Roles, r) {
				continue
			}
			if id.Grants == nil {
				id.Grants = map[string]Grant{}
			}
			if cur, ok := id.Grants[r]; !ok || g.Expires.After(cur.Expires) {
				if !ok {
					id.Roles = append(id.Roles, r)
				}
				id.Grants[r] = Grant{Request: g.ID, Expires: g.Expires}
			}
		}
	}
	return id, true
}

// grantsOf are user's requests granted at now, oldest first (a stable
// order, for a deterministic role list).
func grantsOf(s *projections.State, user string, now time.Time) []*projections.AccessRequest {
	var out []*projections.AccessRequest
	for _, r := range s.AccessRequests {
		if r.User == user && r.Granted(now) {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].CreatedAt.Equal(out[j].CreatedAt) {
			return out[i].CreatedAt.Before(out[j].CreatedAt)
		}
		return out[i].ID < out[j].ID
	})
	return out
}

// roleSet returns the roles of names that exist in s, in the given order,
// without duplicates. Unknown role names (e.g. a deleted role still listed
// on a user) grant and deny nothing.
func roleSet(s *projections.State, names []string) []*projections.Role {
	out := make([]*projections.Role, 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		if r, ok := s.Roles[n]; ok {
			out = append(out, r)
		}
	}
	return out
}
