package control

import (
	"time"

	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// Stand-ins for projections/access and control/bootstrap.BuiltinRoles
// until those packages land; same semantics, switched over then.

func canDo(st *projections.State, roles []string, resource, verb string) bool {
	allowed := false
	for _, name := range roles {
		r, ok := st.Roles[name]
		if !ok {
			continue
		}
		if ruleMatch(r.Spec.Deny.Rules, resource, verb) {
			return false
		}
		if ruleMatch(r.Spec.Allow.Rules, resource, verb) {
			allowed = true
		}
	}
	return allowed
}

func ruleMatch(rules []schemas.Rule, resource, verb string) bool {
	for _, rl := range rules {
		if (contains(rl.Resources, "*") || contains(rl.Resources, resource)) && (contains(rl.Verbs, "*") || contains(rl.Verbs, verb)) {
			return true
		}
	}
	return false
}

func maxSessionTTL(st *projections.State, roles []string, def time.Duration) time.Duration {
	ttl := def
	for _, name := range roles {
		r, ok := st.Roles[name]
		if !ok || r.Spec.Options.MaxSessionTTL == "" {
			continue
		}
		if d, err := time.ParseDuration(r.Spec.Options.MaxSessionTTL); err == nil && d > 0 && d < ttl {
			ttl = d
		}
	}
	return ttl
}

func builtinRoles() []schemas.Role {
	all := []string{"*"}
	return []schemas.Role{
		{Name: "access", Spec: schemas.RoleSpec{Allow: schemas.RoleConditions{
			DBLabels: map[string][]string{"*": {"*"}},
			DBUsers:  []string{"{{internal.db_users}}"},
			DBNames:  []string{"{{internal.db_names}}"},
			Rules:    []schemas.Rule{{Resources: []string{schemas.ResourceDatabase}, Verbs: []string{schemas.VerbList, schemas.VerbRead}}},
		}}},
		{Name: "editor", Spec: schemas.RoleSpec{Allow: schemas.RoleConditions{Rules: []schemas.Rule{{
			Resources: []string{schemas.ResourceUser, schemas.ResourceRole, schemas.ResourceToken, schemas.ResourceLock,
				schemas.ResourceDatabase, schemas.ResourceCert, schemas.ResourceCA, schemas.ResourceCluster},
			Verbs: all}}}}},
		{Name: "auditor", Spec: schemas.RoleSpec{Allow: schemas.RoleConditions{Rules: []schemas.Rule{{
			Resources: []string{schemas.ResourceAudit, schemas.ResourceEvent, schemas.ResourceCluster},
			Verbs:     []string{schemas.VerbList, schemas.VerbRead}}}}}},
	}
}
