//go:build cgo

package sqlfacts

import (
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/tollgate-db/tollgate/policy"
)

// funcCall records a call in Statement.Functions and, when it is
// set_config of the role or the session authorization, adds a set_role
// op: the function form of SET ROLE.
func (w *walker) funcCall(f *pg_query.FuncCall) {
	name := funcName(f.Funcname)
	if name == "" {
		return
	}
	if _, dup := w.seenFunc[name]; !dup {
		if w.seenFunc == nil {
			w.seenFunc = make(map[string]struct{})
		}
		w.seenFunc[name] = struct{}{}
		w.st.Functions = append(w.st.Functions, name)
	}
	if f.Funcname[len(f.Funcname)-1].GetString_().GetSval() == "set_config" && setsRole(f.Args) {
		w.addOp(policy.ClassSetRole)
	}
}

// funcName joins the name's parts with "." as the parser gives them;
// "" when a part is not a string (the grammar makes none such).
func funcName(parts []*pg_query.Node) string {
	if len(parts) == 1 {
		return parts[0].GetString_().GetSval()
	}
	var b strings.Builder
	for i, p := range parts {
		s := p.GetString_().GetSval()
		if s == "" {
			return ""
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

// setsRole: set_config's setting_name argument is 'role' or
// 'session_authorization' (in any case) — or is not a constant at all
// (set_config(lower('ROLE'), …), set_config($1, …)), which may be either
// for all the text says.
func setsRole(args []*pg_query.Node) bool {
	arg := settingArg(args)
	if arg == nil {
		return false // no setting: the server refuses the call
	}
	name, constant := constString(arg)
	return !constant || isRoleSetting(name)
}

// settingArg is the setting_name argument: the first one, unless the
// call names its arguments (set_config(setting_name => …)).
func settingArg(args []*pg_query.Node) *pg_query.Node {
	for i, a := range args {
		named := a.GetNamedArgExpr()
		if named == nil {
			if i == 0 {
				return a
			}
			continue
		}
		if strings.EqualFold(named.Name, "setting_name") {
			return named.Arg
		}
	}
	return nil
}

// constString is the value of a constant, through casts and COLLATE:
// ('role'::text) is 'role'. A constant that is not a string (a number,
// NULL) is no setting name: "", true. Anything else is not constant.
func constString(n *pg_query.Node) (string, bool) {
	for {
		switch {
		case n.GetTypeCast() != nil:
			n = n.GetTypeCast().Arg
		case n.GetCollateClause() != nil:
			n = n.GetCollateClause().Arg
		case n.GetAConst() != nil:
			return n.GetAConst().GetSval().GetSval(), true
		default:
			return "", false
		}
	}
}
