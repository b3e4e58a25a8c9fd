//go:build cgo

package sqlfacts

import (
	"reflect"
	"slices"

	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tollgate-db/tollgate/policy"
)

// walker reads one statement's tree into a policy.Statement. It visits
// every message of the tree through protoreflect, so a node kind this
// package never heard of is still searched for the relations, calls and
// statements inside it; only the nodes that mean something to a rule get
// a case of their own.
type walker struct {
	st *policy.Statement
	// cur is the index in st.Ops of the innermost enclosing op: the one a
	// relation met now belongs to.
	cur int
	// colRefs counts the ColumnRefs and CURRENT OFs met so far; a WHERE
	// clause that leaves it unchanged reads no column (NoWhere).
	colRefs int
	// ctes are the CTE names in scope, innermost last; inScope counts
	// each, for a cheap lookup.
	ctes    []string
	inScope map[string]int
	// seenTable and seenFunc dedup Op.Tables and Statement.Functions; the
	// slices keep the order.
	seenTable map[tableKey]struct{}
	seenFunc  map[string]struct{}
}

type tableKey struct {
	op int
	t  policy.Table
}

// statement reads one RawStmt's statement node into w.st.
func (w *walker) statement(n *pg_query.Node) {
	x := nodeInner(n)
	if x == nil {
		w.cur = w.addOp(policy.ClassOther)
		return
	}
	if !startsOp(x) {
		// A statement node stmtClass does not know (a later grammar's)
		// still gets an op, for its relations to belong to.
		w.cur = w.addOp(fallbackClass(x.ProtoReflect()))
	}
	w.walkGo(x)
}

// startsOp: m is a statement node that starts an op of its own.
func startsOp(m any) bool {
	switch m.(type) {
	case *pg_query.SelectStmt, *pg_query.InsertStmt, *pg_query.UpdateStmt, *pg_query.DeleteStmt, *pg_query.MergeStmt:
		return true
	}
	_, ok := stmtClass(m)
	return ok
}

// nodeInner is the message a Node holds (its oneof), or nil.
func nodeInner(n *pg_query.Node) protoreflect.ProtoMessage {
	if n == nil || n.Node == nil {
		return nil
	}
	// Every oneof wrapper (Node_SelectStmt…) is a struct of one field,
	// the message: plain reflect reads it at a third of the cost of
	// protoreflect's WhichOneof and Get, and half the messages of a tree
	// are Nodes.
	if v := reflect.ValueOf(n.Node); v.Kind() == reflect.Pointer && !v.IsNil() &&
		v.Elem().Kind() == reflect.Struct && v.Elem().NumField() == 1 {
		if f := v.Elem().Field(0); f.Kind() == reflect.Pointer && !f.IsNil() && f.CanInterface() {
			if x, ok := f.Interface().(protoreflect.ProtoMessage); ok {
				return x
			}
		}
	}
	m := n.ProtoReflect()
	oneofs := m.Descriptor().Oneofs()
	if oneofs.Len() == 0 {
		return nil
	}
	fd := m.WhichOneof(oneofs.Get(0))
	if fd == nil || fd.Kind() != protoreflect.MessageKind {
		return nil
	}
	if inner := m.Get(fd).Message(); inner.IsValid() {
		return inner.Interface()
	}
	return nil
}

// walk visits m and everything under it.
func (w *walker) walk(m protoreflect.Message) {
	if m != nil && m.IsValid() {
		w.visit(m.Interface(), m)
	}
}

// walkGo is walk from the message's Go value (cheaper than from its
// protoreflect view, when the caller has the Go value).
func (w *walker) walkGo(x protoreflect.ProtoMessage) {
	if x == nil {
		return
	}
	if m := x.ProtoReflect(); m.IsValid() {
		w.visit(x, m)
	}
}

// visit visits x (m is its protoreflect view) and everything under it.
func (w *walker) visit(x any, m protoreflect.Message) {
	switch x := x.(type) {
	case *pg_query.Node:
		w.walkGo(nodeInner(x))
	case *pg_query.String, *pg_query.Integer, *pg_query.Float, *pg_query.Boolean, *pg_query.BitString,
		*pg_query.A_Const, *pg_query.A_Star, *pg_query.ParamRef:
		// Leaves: nothing a rule reads is under them.
	case *pg_query.SelectStmt:
		w.selectStmt(x, true)
	case *pg_query.InsertStmt:
		w.insertStmt(x)
	case *pg_query.UpdateStmt:
		w.modifyStmt(policy.ClassUpdate, m, x.Relation, x.WithClause, x.WhereClause)
	case *pg_query.DeleteStmt:
		w.modifyStmt(policy.ClassDelete, m, x.Relation, x.WithClause, x.WhereClause)
	case *pg_query.MergeStmt:
		w.mergeStmt(x)
	case *pg_query.RangeVar:
		w.rangeVar(x)
	case *pg_query.IntoClause:
		// The relation SELECT INTO or CREATE TABLE AS creates: a name
		// being made, never a CTE reference.
		w.target(x.Rel)
		w.children(m, "rel")
	case *pg_query.LockingClause:
		// FOR UPDATE OF p names FROM items again, by alias as often as
		// not: no relation of its own.
	case *pg_query.ColumnRef, *pg_query.CurrentOfExpr:
		w.colRefs++
	case *pg_query.FuncCall:
		w.funcCall(x)
		w.children(m)
	default:
		w.other(x, m)
	}
}

// other visits a node without a case of its own in visit: a statement
// stmtClass knows starts an op, anything else is only searched.
func (w *walker) other(x any, m protoreflect.Message) {
	c, ok := stmtClass(x)
	if !ok {
		w.children(m)
		return
	}
	prev := w.cur
	w.cur = w.addOp(c)
	w.statementExtras(x)
	if adp, ok := x.(*pg_query.AlterDefaultPrivilegesStmt); ok && adp.Action != nil {
		// Its GRANT or REVOKE is the grant op itself, not a second one.
		w.children(m, "action")
		w.children(adp.Action.ProtoReflect())
	} else {
		w.children(m)
	}
	w.cur = prev
}

// statementExtras reads what a statement says other than in RangeVars
// and calls: the relations DROP and COMMENT name as plain name lists,
// EXECUTE's and PREPARE's statement names, DISCARD ALL's role reset.
func (w *walker) statementExtras(x any) {
	switch s := x.(type) {
	case *pg_query.DropStmt:
		for _, o := range s.Objects {
			w.objectTable(o, s.RemoveType)
		}
	case *pg_query.CommentStmt:
		w.objectTable(s.Object, s.Objtype)
	case *pg_query.SecLabelStmt:
		w.objectTable(s.Object, s.Objtype)
	case *pg_query.ExecuteStmt:
		if s.Name != "" && !slices.Contains(w.st.Executes, s.Name) {
			w.st.Executes = append(w.st.Executes, s.Name)
		}
	case *pg_query.PrepareStmt:
		if s.Name != "" && !slices.Contains(w.st.Prepares, s.Name) {
			w.st.Prepares = append(w.st.Prepares, s.Name)
		}
	case *pg_query.DiscardStmt:
		// DISCARD ALL runs SET SESSION AUTHORIZATION DEFAULT and RESET
		// ALL: a change of identity, as RESET ALL is.
		if s.Target == pg_query.DiscardMode_DISCARD_ALL {
			w.addOp(policy.ClassSetRole)
		}
	}
}

// children visits every message-valued field of m, lists included, in
// declaration order, except the fields named in skip. Not m.Range: its
// order is deliberately perturbed (it may differ from one build to the
// next), and the order of Ops and Tables must not.
func (w *walker) children(m protoreflect.Message, skip ...protoreflect.Name) {
	fields := m.Descriptor().Fields()
	for i, n := 0, fields.Len(); i < n; i++ {
		fd := fields.Get(i)
		if fd.Kind() != protoreflect.MessageKind || fd.IsMap() || !m.Has(fd) || slices.Contains(skip, fd.Name()) {
			continue
		}
		v := m.Get(fd)
		if !fd.IsList() {
			w.walk(v.Message())
			continue
		}
		l := v.List()
		for j, k := 0, l.Len(); j < k; j++ {
			w.walk(l.Get(j).Message())
		}
	}
}

// addOp appends an op of class c and returns its index; it does not make
// it the current one.
func (w *walker) addOp(c policy.Class) int {
	w.st.Ops = append(w.st.Ops, policy.Op{Class: c})
	return len(w.st.Ops) - 1
}

// enter starts an op of class c as the current one and returns the one
// to go back to.
func (w *walker) enter(c policy.Class) (prev int) {
	prev = w.cur
	w.cur = w.addOp(c)
	return prev
}
