package policy

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tollgate-db/tollgate/schemas"
)

// ErrInvalidRule is wrapped by the errors of Check and NewSet.
var ErrInvalidRule = errors.New("invalid statement rule")

var errTablePattern = errors.New(`expected "name" or "schema.name", each part a pattern`)

// rule is a compiled statement rule of one role.
type rule struct {
	role         string
	name         string
	action       string
	dryRun       bool
	classes      []Class
	tables       []tableGlob
	funcs        []glob
	withoutWhere bool
	requestRoles []string
}

// Check validates a role's statement rules and options: what control
// refuses at roles create/update. section is "allow" or "deny".
func Check(spec schemas.RoleSpec) error {
	if o := spec.Options.DBStatements; o != nil {
		switch o.Mode {
		case "", schemas.ModeEnforce, schemas.ModeDryRun:
		default:
			return fmt.Errorf("%w: spec.options.db_statements.mode %q: use enforce or dry_run", ErrInvalidRule, o.Mode)
		}
		switch o.Unparseable {
		case "", schemas.UnparseableDeny, schemas.UnparseableAllow:
		default:
			return fmt.Errorf("%w: spec.options.db_statements.unparseable %q: use deny or allow", ErrInvalidRule, o.Unparseable)
		}
	}
	for _, sec := range []struct {
		name  string
		rules []schemas.StatementRule
	}{{"allow", spec.Allow.DBStatements}, {"deny", spec.Deny.DBStatements}} {
		seen := map[string]bool{}
		for i, r := range sec.rules {
			if _, err := compile("", sec.name, r, false); err != nil {
				return fmt.Errorf("spec.%s.db_statements[%d]: %w", sec.name, i, err)
			}
			if seen[r.Name] {
				return fmt.Errorf("spec.%s.db_statements[%d]: %w: name %q is used twice", sec.name, i, ErrInvalidRule, r.Name)
			}
			seen[r.Name] = true
		}
	}
	return nil
}

// compile checks and compiles one rule of section ("allow" or "deny").
func compile(role, section string, r schemas.StatementRule, dryRun bool) (rule, error) {
	c := rule{role: role, name: r.Name, action: r.Action, dryRun: dryRun, withoutWhere: r.WithoutWhere, requestRoles: r.RequestRoles}
	bad := func(format string, args ...any) (rule, error) {
		return rule{}, fmt.Errorf("%w: %s", ErrInvalidRule, fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(r.Name) == "" {
		return bad("a rule needs a name (it names the rule in errors and events)")
	}
	for _, s := range r.Statements {
		cl := Class(strings.ToLower(s))
		if !knownClass(cl) {
			return bad("rule %s: unknown statement class %q; classes: %s", r.Name, s, classList())
		}
		c.classes = append(c.classes, cl)
	}
	for _, t := range r.Tables {
		g, err := compileTable(t)
		if err != nil {
			return bad("rule %s: table pattern %q: %v", r.Name, t, err)
		}
		c.tables = append(c.tables, g)
	}
	for _, f := range r.Functions {
		g, err := compileGlob(f)
		if err != nil {
			return bad("rule %s: function pattern %q: %v", r.Name, f, err)
		}
		c.funcs = append(c.funcs, g)
	}
	if section == "allow" {
		switch {
		case r.Action != "":
			return bad("rule %s: allow rules take no action (actions are for deny rules)", r.Name)
		case len(r.Functions) > 0 || r.WithoutWhere || len(r.RequestRoles) > 0:
			return bad("rule %s: allow rules match statements and tables only (functions, without_where and request_roles are for deny rules)", r.Name)
		}
		return c, nil
	}
	switch r.Action {
	case "":
		c.action = schemas.ActionDeny
	case schemas.ActionDeny, schemas.ActionLogOnly:
	case schemas.ActionRequireApproval:
		if len(r.RequestRoles) == 0 {
			return bad("rule %s: require_approval needs request_roles: the roles whose grant lets the statement run", r.Name)
		}
	default:
		return bad("rule %s: action %q: use deny, require_approval or log_only", r.Name, r.Action)
	}
	if len(r.RequestRoles) > 0 && c.action != schemas.ActionRequireApproval {
		return bad("rule %s: request_roles go with action require_approval", r.Name)
	}
	if len(r.Statements) == 0 && len(r.Tables) == 0 && len(r.Functions) == 0 && !r.WithoutWhere {
		return bad("rule %s: a deny rule must name statements, tables, functions or without_where (it would match every statement)", r.Name)
	}
	if r.WithoutWhere {
		for _, cl := range c.classes {
			if cl != ClassUpdate && cl != ClassDelete {
				return bad("rule %s: without_where applies to update and delete only, not %s", r.Name, cl)
			}
		}
	}
	return c, nil
}

func classList() string {
	s := make([]string, len(Classes))
	for i, c := range Classes {
		s[i] = string(c)
	}
	return strings.Join(s, ", ")
}

// matchOp reports whether a deny rule's classes, tables and without_where
// match op.
func (r *rule) matchOp(op Op) bool {
	if len(r.classes) > 0 && !hasClass(r.classes, op.Class) {
		return false
	}
	if r.withoutWhere && !(op.NoWhere && (op.Class == ClassUpdate || op.Class == ClassDelete)) {
		return false
	}
	if len(r.tables) == 0 {
		return true
	}
	for _, t := range op.Tables {
		for _, g := range r.tables {
			if g.match(t) {
				return true
			}
		}
	}
	return false
}

// coversOp reports whether an allow rule covers op: its class listed (or
// none), every table it touches matched (or no tables named).
func (r *rule) coversOp(op Op) bool {
	if len(r.classes) > 0 && !hasClass(r.classes, op.Class) {
		return false
	}
	if len(r.tables) == 0 {
		return true
	}
	for _, t := range op.Tables {
		ok := false
		for _, g := range r.tables {
			if g.covers(t) {
				ok = true
				break
			}
		}
		if !ok {
			return false
		}
	}
	return true
}

// matchFuncs reports whether the statement calls a function the rule names
// (true when it names none).
func (r *rule) matchFuncs(fns []string) (string, bool) {
	if len(r.funcs) == 0 {
		return "", true
	}
	for _, f := range fns {
		for _, g := range r.funcs {
			if funcMatch(g, f) {
				return f, true
			}
		}
	}
	return "", false
}

func hasClass(cs []Class, c Class) bool {
	for _, x := range cs {
		if x == c {
			return true
		}
	}
	return false
}
