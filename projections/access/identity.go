package access

import (
	"slices"

	"github.com/tollgate-db/tollgate/projections"
)

// Identity is who asks: a user with its current roles and traits.
type Identity struct {
	User   string
	Roles  []string
	Traits map[string][]string
}

// IdentityFor returns the identity of user as the state has it now (roles
// and traits from the projection, not from a certificate, so that a role
// removed from a user takes effect at the next connection). It returns
// false when the user does not exist.
func IdentityFor(s *projections.State, user string) (Identity, bool) {
	u, ok := s.Users[user]
	if !ok {
		return Identity{}, false
	}
	return Identity{User: u.Name, Roles: slices.Clone(u.Roles), Traits: u.Traits}, true
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
