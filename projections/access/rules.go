package access

import (
	"fmt"
	"slices"
	"time"

	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// CanDo tells whether holders of roles may perform verb on resource, by
// the roles' rules: a deny rule of any role that matches refuses, whatever
// the allow rules say; otherwise one matching allow rule is enough. "*"
// matches any resource or verb. The string says which role decided, or why
// none did, for a person.
func CanDo(s *projections.State, roles []string, resource, verb string) (bool, string) {
	set := roleSet(s, roles)
	for _, r := range set {
		if ruleMatches(r.Spec.Deny.Rules, resource, verb) {
			return false, fmt.Sprintf("role %s denies %s on %s", r.Name, verb, resource)
		}
	}
	for _, r := range set {
		if ruleMatches(r.Spec.Allow.Rules, resource, verb) {
			return true, fmt.Sprintf("role %s allows %s on %s", r.Name, verb, resource)
		}
	}
	if len(set) == 0 {
		return false, fmt.Sprintf("none of the roles %v exists, so nothing is allowed", roles)
	}
	return false, fmt.Sprintf("no rule of the roles %v allows %s on %s", roles, verb, resource)
}

func ruleMatches(rules []schemas.Rule, resource, verb string) bool {
	for _, r := range rules {
		if (slices.Contains(r.Resources, Wildcard) || slices.Contains(r.Resources, resource)) &&
			(slices.Contains(r.Verbs, Wildcard) || slices.Contains(r.Verbs, verb)) {
			return true
		}
	}
	return false
}

// MaxSessionTTL returns the smallest max_session_ttl among roles that exist
// and set a valid positive one, or def when none does.
func MaxSessionTTL(s *projections.State, roles []string, def time.Duration) time.Duration {
	best := time.Duration(0)
	for _, r := range roleSet(s, roles) {
		if r.Spec.Options.MaxSessionTTL == "" {
			continue
		}
		d, err := time.ParseDuration(r.Spec.Options.MaxSessionTTL)
		if err != nil || d <= 0 {
			continue
		}
		if best == 0 || d < best {
			best = d
		}
	}
	if best == 0 {
		return def
	}
	return best
}

// ReplicationAllowed tells whether one of roles allows the `replication`
// startup parameter (role option db_replication).
func ReplicationAllowed(s *projections.State, roles []string) bool {
	for _, r := range roleSet(s, roles) {
		if r.Spec.Options.DBReplication {
			return true
		}
	}
	return false
}
