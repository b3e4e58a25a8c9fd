//go:build cgo

package sqlfacts

import (
	"slices"
	"strings"
	"testing"

	"github.com/tollgate-db/tollgate/policy"
)

// FuzzParse: Parse never panics (nor reaches its recover), numbers the
// statements 1..n, gives every statement an op of a known class, names
// no empty table, and gives the same facts twice. Seeds are under
// testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add("WITH d AS (DELETE FROM payments RETURNING *) SELECT * FROM d; SELECT set_config('role', 'x', false)")
	f.Fuzz(func(t *testing.T, text string) {
		facts := Parse(text)
		if strings.HasPrefix(facts.Unparseable, internalError) {
			t.Fatalf("%q: %s", text, facts.Unparseable)
		}
		if facts.Unparseable != "" && len(facts.Statements) > 0 {
			t.Fatalf("%q: unparseable (%s) with %d statements", text, facts.Unparseable, len(facts.Statements))
		}
		for i, st := range facts.Statements {
			if st.Index != i+1 {
				t.Fatalf("%q: statement %d has Index %d", text, i+1, st.Index)
			}
			if len(st.Ops) == 0 {
				t.Fatalf("%q: statement %d has no op", text, st.Index)
			}
			for _, op := range st.Ops {
				if !slices.Contains(policy.Classes, op.Class) {
					t.Fatalf("%q: unknown class %q", text, op.Class)
				}
				for _, tb := range op.Tables {
					if tb.Name == "" {
						t.Fatalf("%q: a table with no name in %+v", text, op)
					}
				}
			}
		}
		if again := Parse(text); !factsEqual(facts, again) {
			t.Fatalf("%q: two readings differ:\n%+v\n%+v", text, facts, again)
		}
	})
}

// factsEqual compares facts without reflect (the fuzzer runs it a lot).
func factsEqual(a, b policy.Facts) bool {
	return a.Unparseable == b.Unparseable && slices.EqualFunc(a.Statements, b.Statements, func(x, y policy.Statement) bool {
		return x.Index == y.Index && slices.Equal(x.Functions, y.Functions) && slices.Equal(x.Executes, y.Executes) &&
			slices.EqualFunc(x.Ops, y.Ops, func(p, q policy.Op) bool {
				return p.Class == q.Class && p.NoWhere == q.NoWhere && slices.Equal(p.Tables, q.Tables)
			})
	})
}
