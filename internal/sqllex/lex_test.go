package sqllex

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// kinds lexes src and returns "kind:text" of each token but spaces.
func kinds(src string, scs bool) []string {
	names := map[Kind]string{Comment: "comment", String: "string", EString: "estring", UString: "ustring", QuotedIdent: "qident",
		UQuotedIdent: "uqident", Dollar: "dollar", Param: "param", Ident: "ident", Number: "number", Semicolon: "semi", Other: "other"}
	var out []string
	for lx := New(src, scs); ; {
		t, ok := lx.Next()
		if !ok {
			return out
		}
		if t.Kind != Space {
			out = append(out, names[t.Kind]+":"+src[t.From:t.To])
		}
	}
}

// TestTokensAsPostgreSQLDelimitsThem: where each kind of token begins and
// ends, and what hides a semicolon.
func TestTokensAsPostgreSQLDelimitsThem(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src string
		scs       bool
		want      []string
	}{
		{"statement heads", "PREPARE p1 AS select 1; DEALLOCATE p1", true,
			[]string{"ident:PREPARE", "ident:p1", "ident:AS", "ident:select", "number:1", "semi:;", "ident:DEALLOCATE", "ident:p1"}},
		{"comments hide semicolons", "a -- b; c\n/* d; /* e; */ f; */ g", true, []string{"ident:a", "comment:-- b; c", "comment:/* d; /* e; */ f; */", "ident:g"}},
		{"doubled quotes", `'it''s;' "a""b;"`, true, []string{`string:'it''s;'`, `qident:"a""b;"`}},
		{"a backslash is text when conforming", `'a\' ; x`, true, []string{`string:'a\'`, "semi:;", "ident:x"}},
		{"a backslash escapes when not", `'a\' ; x'`, false, []string{`string:'a\' ; x'`}},
		{"E strings escape either way", `E'a\';' ;`, true, []string{`estring:E'a\';'`, "semi:;"}},
		{"U& strings and names", `U&'d\0061' U&"a;"`, true, []string{`ustring:U&'d\0061'`, `uqident:U&"a;"`}},
		{"dollar quotes", "$$a;$$ $tag$b;$tag$ $1 a$b", true, []string{"dollar:$$a;$$", "dollar:$tag$b;$tag$", "param:$1", "ident:a$b"}},
		{"numbers", "1 2.5 3e10 4.e-2 5..6 x1", true, []string{"number:1", "number:2.5", "number:3e10", "number:4.e-2", "number:5", "other:.", "other:.", "number:6", "ident:x1"}},
		{"unterminated runs end the text", `'abc`, true, []string{`string:'abc`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, kinds(tc.src, tc.scs))
		})
	}
}

// FuzzLex: tokens follow one another with no gap or overlap, cover the
// text, and the lexer ends.
func FuzzLex(f *testing.F) {
	for _, s := range []string{"SELECT 1; SELECT 'a''b'", "/* /* */ $x$ $$ E'\\'", `U&"x" "y`, "$1$a$b$a$"} {
		f.Add(s, true)
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, src string, scs bool) {
		pos := 0
		for lx := New(src, scs); ; {
			tok, ok := lx.Next()
			if !ok {
				break
			}
			require.Equal(t, pos, tok.From)
			require.Greater(t, tok.To, tok.From)
			pos = tok.To
		}
		require.Equal(t, len(src), pos)
		// NextOf finds the same tokens of a kind.
		var all, of []Token
		for lx := New(src, scs); ; {
			tok, ok := lx.Next()
			if !ok {
				break
			}
			if tok.Kind == Number {
				all = append(all, tok)
			}
		}
		for lx := New(src, scs); ; {
			tok, ok := lx.NextOf(Number)
			if !ok {
				break
			}
			of = append(of, tok)
		}
		require.Equal(t, all, of)
	})
}
