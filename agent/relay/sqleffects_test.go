package relay

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSQLEffects(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 70)
	for _, tc := range []struct {
		sql  string
		scs  bool
		want []sqlEffect
	}{
		{"select 1", true, []sqlEffect{{}}},
		{"PREPARE s1 AS select 1", true, []sqlEffect{{kind: effPrepare, name: "s1"}}},
		{`prepare "S 1" (int) as select $1`, true, []sqlEffect{{kind: effPrepare, name: "S 1"}}},
		{"Prepare MixedCase as select 1", true, []sqlEffect{{kind: effPrepare, name: "mixedcase"}}},
		{"DEALLOCATE PREPARE s2; deallocate ALL", true, []sqlEffect{{kind: effDeallocate, name: "s2"}, {kind: effDeallocAll}}},
		{`deallocate "all"`, true, []sqlEffect{{kind: effDeallocate, name: "all"}}},
		{"DISCARD ALL; discard plans", true, []sqlEffect{{kind: effDiscardAll}, {}}},
		{"declare c no scroll cursor with hold for select 1", true, []sqlEffect{{kind: effDeclare, name: "c", hold: true}}},
		{"DECLARE c CURSOR FOR select 'with hold'", true, []sqlEffect{{kind: effDeclare, name: "c"}}},
		{"close c; CLOSE ALL", true, []sqlEffect{{kind: effClose, name: "c"}, {kind: effCloseAll}}},
		{"/* PREPARE x AS */ select 1; -- PREPARE y AS\nselect 2", true, []sqlEffect{{}, {}}},
		{"/* nested /* ; */ still */ PREPARE z AS select 1", true, []sqlEffect{{kind: effPrepare, name: "z"}}},
		{"select $$;PREPARE q AS$$; select $t$ ; $t$", true, []sqlEffect{{}, {}}},
		{"select 'a;b'; PREPARE p AS select 'it''s'", true, []sqlEffect{{}, {kind: effPrepare, name: "p"}}},
		// With standard_conforming_strings off a backslash escapes a quote.
		{`select 'a\'; PREPARE x AS select 1; --'; PREPARE y AS select 2`, false, []sqlEffect{{}, {kind: effPrepare, name: "y"}}},
		{`select 'a\'; PREPARE x AS select 1; --'; PREPARE y AS select 2`, true, []sqlEffect{{}, {kind: effPrepare, name: "x"}}},
		{`select E'a\'; PREPARE x AS select 1'; select 2`, true, []sqlEffect{{}, {}}},
		{"prepare " + long + " as select 1", true, []sqlEffect{{kind: effPrepare, name: long[:nameMax]}}},
		{`PREPARE U&"d\0061t" AS select 1`, true, []sqlEffect{{kind: effUnknown}}},
		{"PREPARE", true, []sqlEffect{{kind: effUnknown}}},
		{";;  ;", true, nil},
		{"select a$b; PREPARE w AS select $1", true, []sqlEffect{{}, {kind: effPrepare, name: "w"}}},
	} {
		require.Equal(t, tc.want, sqlEffects(tc.sql, tc.scs), "%q (scs %t)", tc.sql, tc.scs)
	}
}

func TestMayHaveEffectsCoversEveryEffect(t *testing.T) {
	t.Parallel()
	for _, sql := range []string{"PREPARE a AS select 1", "x; deallocate a", "DISCARD ALL", "declare c cursor for select 1", "CLOSE c"} {
		require.True(t, mayHaveEffects(sql), sql)
	}
	require.False(t, mayHaveEffects("select abalance from pgbench_accounts where aid = 42"))
}

// FuzzSQLEffects: the reader never panics, finds at most one statement per
// top-level semicolon and one more, and says an effect only where the
// cheap keyword test would have looked.
func FuzzSQLEffects(f *testing.F) {
	for _, s := range []string{"PREPARE s1 AS select 1", "select '$$'; DEALLOCATE ALL", "/* /* */ close c", `select E'\''; discard all`} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, sql string, scs bool) {
		effs := sqlEffects(sql, scs)
		if len(effs) > strings.Count(sql, ";")+1 {
			t.Fatalf("%d statements from %d semicolons", len(effs), strings.Count(sql, ";"))
		}
		for _, e := range effs {
			if e.kind != effNone && !mayHaveEffects(sql) {
				t.Fatalf("effect %v in %q, which the keyword test passes over", e, sql)
			}
			if len(e.name) > nameMax {
				t.Fatalf("name %q longer than the server keeps", e.name)
			}
		}
	})
}
