package access

import (
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// StatementRoles are what a session's statement rules (package policy)
// come from: the roles id holds as the state has them (its own and those
// its grants add; absent ones count for nothing), and the names of those
// that admit a session to db as dbUser with dbName — their allow
// db_labels, db_users and, where names are enforced, db_names match, as
// in Decide. An empty dbName means dbUser's name.
func StatementRoles(s *projections.State, id Identity, db, dbUser, dbName string) ([]schemas.Role, map[string]bool) {
	if dbName == "" {
		dbName = dbUser
	}
	roles := roleSet(s, id.Roles)
	out := make([]schemas.Role, 0, len(roles))
	admitting := make(map[string]bool, len(roles))
	database, known := s.Databases[db]
	for _, r := range roles {
		out = append(out, r.Role)
		if !known {
			continue
		}
		allow := r.Spec.Allow
		if !matchLabels(allow.DBLabels, database.Labels, id.Traits) {
			continue
		}
		if _, ok := matchAny(expand(allow.DBUsers, id.Traits), dbUser); !ok {
			continue
		}
		if NamesEnforced(database.Protocol) {
			if _, ok := matchAny(expand(allow.DBNames, id.Traits), dbName); !ok {
				continue
			}
		}
		admitting[r.Name] = true
	}
	return out, admitting
}
