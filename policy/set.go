package policy

import (
	"fmt"
	"sort"

	"github.com/tollgate-db/tollgate/schemas"
)

// Set is the statement rules that apply to one session.
type Set struct {
	deny []rule
	// allow are the allow rules of the admitting roles; allowAll is set
	// when some admitting role (in the judged mode) has none.
	allow []rule
	// roles with statement rules, for unparseable texts.
	unparseable []roleOpt
	// openAll: an admitting role has no allow rules, so it admits every
	// statement; openEnforce: so does one in the enforcing judgment, where
	// a dry-run role's rules do not count.
	openAll, openEnforce bool
	held                 map[string]bool
	hasDryRun            bool
}

type roleOpt struct {
	role   string
	allow  bool // unparseable: allow
	dryRun bool
}

// NewSet builds the rules of a session: roles are the roles the identity
// holds (its own and those its grants add), admitting the names of those
// that admit the session. It returns nil when no role has statement rules
// (nothing to judge: only allow rules of roles that do not admit it
// count for nothing). A rule that does not compile is an error: the
// session is refused rather than judged by a part of its rules.
func NewSet(roles []schemas.Role, admitting map[string]bool) (*Set, error) {
	sorted := append([]schemas.Role(nil), roles...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	s := &Set{held: map[string]bool{}}
	hasRules := false
	for _, r := range sorted {
		s.held[r.Name] = true
		// A role's rules apply to the session when it has deny rules, or
		// admits the session and has allow rules.
		has := len(r.Spec.Deny.DBStatements) > 0 || (admitting[r.Name] && len(r.Spec.Allow.DBStatements) > 0)
		dry := has && r.Spec.Options.DBStatements != nil && r.Spec.Options.DBStatements.Mode == schemas.ModeDryRun
		if has {
			hasRules = true
			s.hasDryRun = s.hasDryRun || dry
			o := r.Spec.Options.DBStatements
			s.unparseable = append(s.unparseable, roleOpt{role: r.Name, dryRun: dry,
				allow: o != nil && o.Unparseable == schemas.UnparseableAllow})
		}
		for _, sr := range r.Spec.Deny.DBStatements {
			c, err := compile(r.Name, "deny", sr, dry)
			if err != nil {
				return nil, fmt.Errorf("role %s: %w", r.Name, err)
			}
			s.deny = append(s.deny, c)
		}
		if !admitting[r.Name] {
			continue
		}
		if len(r.Spec.Allow.DBStatements) == 0 {
			s.openAll, s.openEnforce = true, true
			continue
		}
		s.openEnforce = s.openEnforce || dry
		for _, sr := range r.Spec.Allow.DBStatements {
			c, err := compile(r.Name, "allow", sr, dry)
			if err != nil {
				return nil, fmt.Errorf("role %s: %w", r.Name, err)
			}
			s.allow = append(s.allow, c)
		}
	}
	if !hasRules {
		return nil, nil
	}
	return s, nil
}
