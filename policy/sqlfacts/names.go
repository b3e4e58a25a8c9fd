//go:build cgo

package sqlfacts

import (
	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/tollgate-db/tollgate/policy"
)

// objectTable adds the relation a DROP, COMMENT or SECURITY LABEL object
// names to the current op. These statements name their objects as lists
// of strings ([schema,] name), not RangeVars; for a column, trigger, rule,
// policy or table constraint the list is the relation's name followed by
// the object's own, and the relation is what the op touches.
func (w *walker) objectTable(obj *pg_query.Node, t pg_query.ObjectType) {
	items := obj.GetList().GetItems()
	if len(items) == 0 {
		return
	}
	switch t {
	case pg_query.ObjectType_OBJECT_TABLE, pg_query.ObjectType_OBJECT_VIEW, pg_query.ObjectType_OBJECT_MATVIEW,
		pg_query.ObjectType_OBJECT_SEQUENCE, pg_query.ObjectType_OBJECT_INDEX, pg_query.ObjectType_OBJECT_FOREIGN_TABLE:
	case pg_query.ObjectType_OBJECT_COLUMN, pg_query.ObjectType_OBJECT_TRIGGER, pg_query.ObjectType_OBJECT_RULE,
		pg_query.ObjectType_OBJECT_POLICY, pg_query.ObjectType_OBJECT_TABCONSTRAINT:
		items = items[:len(items)-1]
	default:
		return
	}
	if t, ok := tableOf(items); ok {
		w.addTable(t)
	}
}

// tableOf reads a [[catalog,] schema,] name list; the catalog is dropped,
// as a RangeVar's is.
func tableOf(items []*pg_query.Node) (policy.Table, bool) {
	n := len(items)
	if n == 0 || n > 3 {
		return policy.Table{}, false
	}
	t := policy.Table{Name: items[n-1].GetString_().GetSval()}
	if n >= 2 {
		t.Schema = items[n-2].GetString_().GetSval()
	}
	return t, t.Name != ""
}
