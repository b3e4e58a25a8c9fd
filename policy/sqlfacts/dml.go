//go:build cgo

package sqlfacts

import (
	pg_query "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/tollgate-db/tollgate/policy"
)

// selectStmt reads a SELECT (VALUES, TABLE) node. own says whether it
// starts an op: it does not when it is an arm of a set operation (the
// arms of A UNION B EXCEPT C are one select op, whose tables are every
// arm's) or the VALUES list of an INSERT (the insert's own rows). A
// subquery anywhere in it is an op of its own all the same.
func (w *walker) selectStmt(s *pg_query.SelectStmt, own bool) {
	prev := w.cur
	if s.IntoClause != nil {
		// SELECT … INTO t creates t: a DDL op, before the select's.
		w.cur = w.addOp(policy.ClassDDL)
		w.walkGo(s.IntoClause)
		w.cur = prev
	}
	if own || w.cur < 0 {
		w.cur = w.addOp(policy.ClassSelect)
	}
	mark := w.with(s.WithClause)
	w.children(s.ProtoReflect(), "into_clause", "with_clause", "larg", "rarg")
	if s.Larg != nil {
		w.selectStmt(s.Larg, false)
	}
	if s.Rarg != nil {
		w.selectStmt(s.Rarg, false)
	}
	w.unscope(mark)
	w.cur = prev
}

// insertStmt reads an INSERT: its target is the insert op's table, the
// rows of its SELECT are that select's (a plain VALUES list is the
// insert's own).
func (w *walker) insertStmt(s *pg_query.InsertStmt) {
	prev := w.enter(policy.ClassInsert)
	w.target(s.Relation)
	mark := w.with(s.WithClause)
	if v := s.SelectStmt.GetSelectStmt(); v != nil && len(v.ValuesLists) > 0 && v.Op == pg_query.SetOperation_SETOP_NONE {
		w.selectStmt(v, false)
	} else if s.SelectStmt != nil {
		w.walkGo(s.SelectStmt)
	}
	w.children(s.ProtoReflect(), "relation", "with_clause", "select_stmt")
	w.unscope(mark)
	w.cur = prev
}

// modifyStmt reads an UPDATE or DELETE (m): target, CTEs, then the
// WHERE clause, which decides NoWhere, then the rest (SET, FROM, USING,
// RETURNING).
func (w *walker) modifyStmt(c policy.Class, m protoreflect.Message, rel *pg_query.RangeVar, wc *pg_query.WithClause, where *pg_query.Node) {
	prev := w.enter(c)
	op := w.cur
	w.target(rel)
	mark := w.with(wc)
	before := w.colRefs
	if where != nil {
		w.walkGo(where)
	}
	// No WHERE, or one that reads no column (WHERE true, WHERE 1 = 1):
	// every row. CURRENT OF counts as reading one.
	w.st.Ops[op].NoWhere = w.colRefs == before
	w.children(m, "relation", "with_clause", "where_clause")
	w.unscope(mark)
	w.cur = prev
}

// mergeStmt reads a MERGE: its target and its source are the merge op's
// (the source is any FROM item, so it may be a CTE); its WHEN actions
// are part of it, not ops of their own.
func (w *walker) mergeStmt(s *pg_query.MergeStmt) {
	prev := w.enter(policy.ClassMerge)
	w.target(s.Relation)
	mark := w.with(s.WithClause)
	w.children(s.ProtoReflect(), "relation", "with_clause")
	w.unscope(mark)
	w.cur = prev
}

// with reads a WITH clause and brings its CTE names into scope, as the
// server scopes them: a CTE sees the earlier ones of its list (and, WITH
// RECURSIVE, all of them, itself included); the statement sees all.
// The caller ends the scope with unscope(mark).
func (w *walker) with(wc *pg_query.WithClause) (mark int) {
	mark = len(w.ctes)
	if wc == nil {
		return mark
	}
	if wc.Recursive {
		for _, n := range wc.Ctes {
			w.scope(n.GetCommonTableExpr().GetCtename())
		}
	}
	for _, n := range wc.Ctes {
		w.walkGo(n)
		if !wc.Recursive {
			w.scope(n.GetCommonTableExpr().GetCtename())
		}
	}
	return mark
}

// scope brings a CTE name into scope.
func (w *walker) scope(name string) {
	if name == "" {
		return
	}
	if w.inScope == nil {
		w.inScope = make(map[string]int)
	}
	w.ctes = append(w.ctes, name)
	w.inScope[name]++
}

// unscope ends the scope of the names brought in after mark.
func (w *walker) unscope(mark int) {
	for _, name := range w.ctes[mark:] {
		if w.inScope[name]--; w.inScope[name] == 0 {
			delete(w.inScope, name)
		}
	}
	w.ctes = w.ctes[:mark]
}

// rangeVar reads a relation named in a FROM list (or anywhere but a DML
// target): an unqualified name that a CTE in scope has is that CTE, not
// a table.
func (w *walker) rangeVar(rv *pg_query.RangeVar) {
	if rv.Schemaname == "" && rv.Catalogname == "" && w.inScope[rv.Relname] > 0 {
		return
	}
	w.target(rv)
}

// target adds a relation that cannot be a CTE reference (the target of
// INSERT, UPDATE, DELETE, MERGE, the table SELECT INTO creates) to the
// current op. The catalog part of db.schema.table is dropped.
func (w *walker) target(rv *pg_query.RangeVar) {
	if rv == nil {
		return
	}
	w.addTable(policy.Table{Schema: rv.Schemaname, Name: rv.Relname})
}

// addTable adds t to the current op's tables unless it is there already.
func (w *walker) addTable(t policy.Table) {
	if t.Name == "" || w.cur < 0 {
		return
	}
	k := tableKey{op: w.cur, t: t}
	if _, dup := w.seenTable[k]; dup {
		return
	}
	if w.seenTable == nil {
		w.seenTable = make(map[tableKey]struct{})
	}
	w.seenTable[k] = struct{}{}
	w.st.Ops[w.cur].Tables = append(w.st.Ops[w.cur].Tables, t)
}
