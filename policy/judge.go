package policy

import (
	"fmt"
	"slices"
	"strings"

	"github.com/tollgate-db/tollgate/schemas"
)

// Match is what a rule matched: what query.denied, query.would_deny and
// query.flagged record.
type Match struct {
	Role   string
	Rule   string
	Action string // schemas.Action*
	// Statement is the 1-based index of the statement in the text (0: the
	// text as a whole).
	Statement int
	Reason    string
	// RequestRoles (require_approval): the roles whose grant lets it run.
	RequestRoles []string
}

// Verdict is the judgment of one text.
type Verdict struct {
	// Deny, when set, refuses the text: none of it runs.
	Deny *Match
	// WouldDeny: a dry-run role's rules would have refused it (it runs).
	WouldDeny *Match
	// Flag: a log_only rule matched, or an unparseable text a role allows
	// (it runs).
	Flag *Match
}

// Resolver gives the Facts of the prepared statement an EXECUTE names;
// false when the name is not known.
type Resolver func(name string) (*Facts, bool)

// Judge judges the Facts of one text. resolve may be nil.
func (s *Set) Judge(f *Facts, resolve Resolver) Verdict {
	var v Verdict
	if s == nil {
		return v
	}
	v.Deny, v.Flag = s.judge(f, resolve, false)
	if v.Deny == nil && s.hasDryRun {
		var flag *Match
		v.WouldDeny, flag = s.judge(f, resolve, true)
		if v.Flag == nil {
			v.Flag = flag
		}
	}
	return v
}

// judge runs the rules once: withDry, the dry-run roles' rules count as
// enforced.
func (s *Set) judge(f *Facts, resolve Resolver, withDry bool) (deny, flag *Match) {
	if f.Unparseable != "" {
		return s.unparseableMatch(f.Unparseable, withDry)
	}
	for _, st := range f.Statements {
		ops, fns, resolved := expandExecutes(st, resolve)
		for i := range s.deny {
			r := &s.deny[i]
			if r.dryRun && !withDry {
				continue
			}
			m := r.matchStatement(st.Index, ops, fns)
			if m == nil {
				continue
			}
			switch {
			case r.action == schemas.ActionLogOnly:
				if flag == nil {
					flag = m
				}
				continue
			case r.action == schemas.ActionRequireApproval && s.holdsAny(r.requestRoles):
				continue
			}
			return m, flag
		}
		if !s.allowlist(withDry) {
			continue
		}
		for _, op := range ops {
			if wrapper(op.Class, resolved) || s.covered(op, withDry) {
				continue
			}
			return s.notAllowed(st.Index, op, withDry), flag
		}
	}
	return nil, flag
}

// expandExecutes adds to a statement's operations and functions those of
// the prepared statements its EXECUTEs run; resolved is false when one of
// them is unknown.
func expandExecutes(st Statement, resolve Resolver) (ops []Op, fns []string, resolved bool) {
	ops, fns, resolved = st.Ops, st.Functions, true
	copied := false // st's slices are shared (cached facts): append to copies
	for _, name := range st.Executes {
		var pf *Facts
		ok := false
		if resolve != nil {
			pf, ok = resolve(name)
		}
		if !ok || pf.Unparseable != "" {
			resolved = false
			continue
		}
		if !copied {
			ops, fns, copied = slices.Clone(ops), slices.Clone(fns), true
		}
		for _, ps := range pf.Statements {
			ops = append(ops, ps.Ops...)
			fns = append(fns, ps.Functions...)
		}
	}
	return ops, fns, resolved
}

// wrapper: prepare and explain are covered by the statement they wrap,
// which is judged as an operation of its own; so is an execute whose
// prepared statements are known.
func wrapper(c Class, executesResolved bool) bool {
	return c == ClassPrepare || c == ClassExplain || (c == ClassExecute && executesResolved)
}

// allowlist reports whether the allow rules are in force: every admitting
// role (in the judged mode) has some, and there are some.
func (s *Set) allowlist(withDry bool) bool {
	if s.openAll || (!withDry && s.openEnforce) {
		return false
	}
	for i := range s.allow {
		if withDry || !s.allow[i].dryRun {
			return true
		}
	}
	return false
}

func (s *Set) holdsAny(roles []string) bool {
	for _, r := range roles {
		if s.held[r] {
			return true
		}
	}
	return false
}

func (s *Set) covered(op Op, withDry bool) bool {
	for i := range s.allow {
		r := &s.allow[i]
		if r.dryRun && !withDry {
			continue
		}
		if r.coversOp(op) {
			return true
		}
	}
	return false
}

func (s *Set) unparseableMatch(why string, withDry bool) (deny, flag *Match) {
	for _, o := range s.unparseable {
		if o.dryRun && !withDry {
			continue
		}
		m := &Match{Role: o.role, Action: schemas.ActionUnparseable,
			Reason: "the SQL parser cannot read the text (" + why + ")"}
		if !o.allow {
			m.Reason += "; role " + o.role + " refuses what it cannot read (options.db_statements.unparseable: allow lets it run, flagged)"
			return m, nil
		}
		if flag == nil {
			flag = m
		}
	}
	return nil, flag
}

func (s *Set) notAllowed(index int, op Op, withDry bool) *Match {
	var roles []string
	for i := range s.allow {
		r := &s.allow[i]
		if (withDry || !r.dryRun) && (len(roles) == 0 || roles[len(roles)-1] != r.role) {
			roles = append(roles, r.role)
		}
	}
	m := &Match{Action: schemas.ActionNotAllowed, Statement: index,
		Reason: fmt.Sprintf("no allow rule of role %s covers %s", strings.Join(roles, ", "), describeOp(op))}
	if len(roles) > 0 {
		m.Role = roles[0]
	}
	return m
}

// matchStatement matches a deny rule against a statement's operations and
// functions: some operation matches its classes, tables and without_where,
// and the statement calls one of its functions.
func (r *rule) matchStatement(index int, ops []Op, fns []string) *Match {
	fn, ok := r.matchFuncs(fns)
	if !ok {
		return nil
	}
	for _, op := range ops {
		if !r.matchOp(op) {
			continue
		}
		what := describeOp(op)
		if fn != "" {
			what += ", calling " + fn
		}
		m := &Match{Role: r.role, Rule: r.name, Action: r.action, Statement: index, RequestRoles: r.requestRoles,
			Reason: fmt.Sprintf("%s matches rule %s of role %s", what, r.name, r.role)}
		return m
	}
	return nil
}

// describeOp says what an operation is: "delete on public.payments
// without a WHERE clause".
func describeOp(op Op) string {
	var b strings.Builder
	b.WriteString(string(op.Class))
	if len(op.Tables) > 0 {
		b.WriteString(" on ")
		for i, t := range op.Tables {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(t.String())
		}
	}
	if op.NoWhere {
		b.WriteString(" without a WHERE clause")
	}
	return b.String()
}
