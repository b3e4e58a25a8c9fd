package access

import (
	"sort"
	"time"

	"github.com/tollgate-db/tollgate/projections"
)

// DatabaseAccess is one database an identity may reach, with how.
type DatabaseAccess struct {
	Database projections.Database
	// DBUsers are the db users allowed (sorted; may hold "*" and "^…$"
	// patterns), minus literals a deny rule refuses.
	DBUsers []string
	// DBNames likewise, when NamesEnforced; nil otherwise.
	DBNames []string
	// NamesEnforced is false for cockroachdb (see NamesEnforced).
	NamesEnforced bool
	// Roles are the roles that grant access, sorted.
	Roles []string
}

// Reachable lists, sorted by name, every database id may reach at now: not
// locked for it, not denied by labels or a deny-all db_users, and allowed
// by the labels of at least one role that allows at least one db user
// (and db name, where enforced). It is what `toll db ls` shows and what
// `tollctl access at` answers. Decide stays the authority for one
// connection: a listed pattern may still be refused by a deny pattern.
func Reachable(s *projections.State, id Identity, now time.Time) []DatabaseAccess {
	names := make([]string, 0, len(s.Databases))
	for n := range s.Databases {
		names = append(names, n)
	}
	sort.Strings(names)
	roles := roleSet(s, id.Roles)
	var out []DatabaseAccess
	for _, n := range names {
		db := s.Databases[n]
		if LockFor(s, id, n, db.AgentID, now) != nil {
			continue
		}
		enforced := NamesEnforced(db.Protocol)
		var denyUsers, denyNames []string
		deniedAll := false
		for _, r := range roles {
			if matchLabels(r.Spec.Deny.DBLabels, db.Labels, id.Traits) {
				deniedAll = true
				break
			}
			denyUsers = append(denyUsers, expand(r.Spec.Deny.DBUsers, id.Traits)...)
			if enforced {
				denyNames = append(denyNames, expand(r.Spec.Deny.DBNames, id.Traits)...)
			}
		}
		if deniedAll || containsWildcard(denyUsers) || containsWildcard(denyNames) {
			continue
		}
		users, dbNames := map[string]bool{}, map[string]bool{}
		var granting []string
		for _, r := range roles {
			allow := r.Spec.Allow
			if !matchLabels(allow.DBLabels, db.Labels, id.Traits) {
				continue
			}
			u := subtract(expand(allow.DBUsers, id.Traits), denyUsers)
			if len(u) == 0 {
				continue
			}
			var nm []string
			if enforced {
				nm = subtract(expand(allow.DBNames, id.Traits), denyNames)
				if len(nm) == 0 {
					continue
				}
			}
			granting = append(granting, r.Name)
			for _, v := range u {
				users[v] = true
			}
			for _, v := range nm {
				dbNames[v] = true
			}
		}
		if len(granting) == 0 {
			continue
		}
		sort.Strings(granting)
		a := DatabaseAccess{Database: *db, DBUsers: sortedKeys(users), NamesEnforced: enforced, Roles: granting}
		if enforced {
			a.DBNames = sortedKeys(dbNames)
		}
		out = append(out, a)
	}
	return out
}

// subtract drops from allowed every literal that a deny pattern matches.
// Patterns in allowed ("*", regexes) stay: Decide refuses their denied
// values one by one.
func subtract(allowed, deny []string) []string {
	var out []string
	for _, v := range allowed {
		if v != Wildcard && !isRegex(v) {
			if _, ok := matchAny(deny, v); ok {
				continue
			}
		}
		out = append(out, v)
	}
	return out
}

// NoDBUser returns the roles of id that grant databases (allow db_labels)
// when none of them allows a db user once its templates are expanded with
// id's traits (the access role allows the user's db_users trait): id can
// reach no database, whatever is registered. It returns nil when id has
// no such role or one of them allows a db user.
func NoDBUser(s *projections.State, id Identity) []string {
	var granting []string
	for _, r := range roleSet(s, id.Roles) {
		if len(r.Spec.Allow.DBLabels) == 0 {
			continue
		}
		if len(expand(r.Spec.Allow.DBUsers, id.Traits)) > 0 {
			return nil
		}
		granting = append(granting, r.Name)
	}
	return granting
}
