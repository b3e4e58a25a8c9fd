package access

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// Decision is the outcome of Decide.
type Decision struct {
	Allowed bool
	// Code is "" when allowed, else a schemas.Reject* code: denied, locked,
	// unknown_database.
	Code string
	// Reason says why, for a person (it goes into session.rejected and the
	// client's error).
	Reason string
	// Role is the role that allowed or denied, when one did (for a lock on
	// a role, that role).
	Role string
	// DBName is the database name decided on: the one asked for, or the db
	// user when none was given.
	DBName string
	// Grant is set when Role is held through an access request: the
	// session it allows ends with the grant.
	Grant *Grant
}

// NamesEnforced tells whether db_names are checked for a protocol. They are
// not for CockroachDB: Tollgate cannot tell which database a CockroachDB
// statement touches (a session may switch with SET database or name any
// database in a query), so only labels and db users restrict it there.
func NamesEnforced(protocol string) bool {
	return protocol != schemas.ProtocolCockroachDB
}

const cockroachNote = "db names are not enforced for cockroachdb (a session can switch databases with SET database), so db_names are not checked"

// Decide tells whether id may reach database db as dbUser with database
// name dbName at now. An empty dbName means dbUser's name, decided on as
// such (the server would default it the same way; deciding on "" would be
// an RBAC bypass).
//
// The rules, as in Teleport:
//  1. the database must be registered (else unknown_database);
//  2. an active lock on the user, one of its roles, the database or its
//     agent refuses with locked and the lock's message; a role requiring
//     a second factor (require_mfa: login) the user has not enrolled
//     refuses with denied;
//  3. deny first: a role whose deny db_labels match the database refuses
//     it entirely; a role whose deny db_users (or, where names are
//     enforced, deny db_names) match refuses;
//  4. allow: some one role must match on every count: its allow db_labels
//     match the database's labels, its db_users match dbUser and, where
//     names are enforced (every protocol but cockroachdb), its db_names
//     match the db name.
//
// Matchers accept "*", "^…$" regular expressions and literals;
// "{{internal.db_users}}" and "{{internal.db_names}}" expand from the
// identity's traits. Roles named by id but absent from s count for nothing.
func Decide(s *projections.State, id Identity, db, dbUser, dbName string, now time.Time) Decision {
	if dbName == "" {
		dbName = dbUser
	}
	d := Decision{DBName: dbName}
	database, ok := s.Databases[db]
	if !ok {
		d.Code = schemas.RejectUnknownDB
		d.Reason = fmt.Sprintf("database %q is not registered; `toll db ls` lists the databases you may reach", db)
		return d
	}
	if dbUser == "" {
		d.Code = schemas.RejectDenied
		d.Reason = "no database user given; connect with a db user (--db-user or the user startup parameter)"
		return d
	}
	if l := LockFor(s, id, db, database.AgentID, now); l != nil {
		d.Code = schemas.RejectLocked
		d.Reason = lockReason(l)
		d.Role = l.Target.Role
		return d
	}
	if role, missing := MFAMissing(s, id); missing {
		return denied(d, role, mfaReason(role))
	}
	enforced := NamesEnforced(database.Protocol)
	roles := roleSet(s, id.Roles)

	for _, r := range roles {
		deny := r.Spec.Deny
		if matchLabels(deny.DBLabels, database.Labels, id.Traits) {
			return denied(d, r.Name, fmt.Sprintf("role %s denies access to database %s (its deny db_labels match the database's labels)", r.Name, db))
		}
		if p, ok := matchAny(expand(deny.DBUsers, id.Traits), dbUser); ok {
			return denied(d, r.Name, fmt.Sprintf("role %s denies db user %q (deny db_users %q)", r.Name, dbUser, p))
		}
		if enforced {
			if p, ok := matchAny(expand(deny.DBNames, id.Traits), dbName); ok {
				return denied(d, r.Name, fmt.Sprintf("role %s denies db name %q (deny db_names %q)", r.Name, dbName, p))
			}
		}
	}

	var labelRoles, userRoles []string
	for _, r := range roles {
		allow := r.Spec.Allow
		if !matchLabels(allow.DBLabels, database.Labels, id.Traits) {
			continue
		}
		labelRoles = append(labelRoles, r.Name)
		if _, ok := matchAny(expand(allow.DBUsers, id.Traits), dbUser); !ok {
			continue
		}
		userRoles = append(userRoles, r.Name)
		if enforced {
			if _, ok := matchAny(expand(allow.DBNames, id.Traits), dbName); !ok {
				continue
			}
		}
		d.Allowed = true
		d.Role = r.Name
		if g, ok := id.Grants[r.Name]; ok {
			d.Grant = &g
		}
		if enforced {
			d.Reason = fmt.Sprintf("role %s allows db user %q and db name %q on database %s", r.Name, dbUser, dbName, db)
		} else {
			d.Reason = fmt.Sprintf("role %s allows db user %q on database %s; %s", r.Name, dbUser, db, cockroachNote)
		}
		return d
	}

	who := id.User
	if who == "" {
		who = "this identity"
	}
	switch {
	case len(roles) == 0:
		return denied(d, "", fmt.Sprintf("%s has no existing role (roles %v), so no database is allowed", who, id.Roles))
	case len(labelRoles) == 0:
		return denied(d, "", fmt.Sprintf("no role of %s (%s) allows database %s: no allow db_labels match its labels %s",
			who, strings.Join(names(roles), ", "), db, labelString(database.Labels)))
	case len(userRoles) == 0:
		return denied(d, "", fmt.Sprintf("db user %q is not allowed on database %s: roles %s allow db users %v",
			dbUser, db, strings.Join(labelRoles, ", "), allowedValues(s, labelRoles, id.Traits, false)))
	default:
		return denied(d, "", fmt.Sprintf("db name %q is not allowed on database %s: roles %s allow db names %v",
			dbName, db, strings.Join(userRoles, ", "), allowedValues(s, userRoles, id.Traits, true)))
	}
}

func denied(d Decision, role, reason string) Decision {
	d.Allowed = false
	d.Code = schemas.RejectDenied
	d.Role = role
	d.Reason = reason
	return d
}

func names(roles []*projections.Role) []string {
	out := make([]string, len(roles))
	for i, r := range roles {
		out[i] = r.Name
	}
	return out
}

// allowedValues is the sorted union of the expanded allow db_users (or
// db_names) of roles.
func allowedValues(s *projections.State, roles []string, traits map[string][]string, dbNames bool) []string {
	set := map[string]bool{}
	for _, r := range roleSet(s, roles) {
		vals := r.Spec.Allow.DBUsers
		if dbNames {
			vals = r.Spec.Allow.DBNames
		}
		for _, v := range expand(vals, traits) {
			set[v] = true
		}
	}
	return sortedKeys(set)
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func labelString(labels map[string]string) string {
	if len(labels) == 0 {
		return "(none)"
	}
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + labels[k]
	}
	return strings.Join(parts, ",")
}
