//go:build cgo

package sqlfacts

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/policy"
)

// tb is a table: tb("payments") or tb("s", "payments").
func tb(names ...string) policy.Table {
	if len(names) == 1 {
		return policy.Table{Name: names[0]}
	}
	return policy.Table{Schema: names[0], Name: names[1]}
}

// op is an op of class c on tables.
func op(c policy.Class, tables ...policy.Table) policy.Op {
	return policy.Op{Class: c, Tables: tables}
}

// noWhere is an update or delete op with NoWhere set.
func noWhere(c policy.Class, tables ...policy.Table) policy.Op {
	return policy.Op{Class: c, Tables: tables, NoWhere: true}
}

// only parses sql, which must be one parseable statement, and returns it.
func only(t *testing.T, sql string) policy.Statement {
	t.Helper()
	f := Parse(sql)
	require.Empty(t, f.Unparseable, sql)
	require.Len(t, f.Statements, 1, sql)
	return f.Statements[0]
}

// classesOf are the classes of st's ops, in order.
func classesOf(st policy.Statement) []policy.Class {
	var cs []policy.Class
	for _, o := range st.Ops {
		cs = append(cs, o.Class)
	}
	return cs
}

// unsafeData is the address of s's bytes.
func unsafeData(s string) *byte { return unsafe.StringData(s) }
