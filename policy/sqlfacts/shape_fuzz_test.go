//go:build cgo

package sqlfacts

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzShape: a text cached by its shape stands for every text of that
// shape. For any text whose numbers the scanner confirms, the text with
// other digits in those numbers has the same facts (an unparseable one
// stays unparseable).
func FuzzShape(f *testing.F) {
	for _, s := range []string{
		"SELECT abalance FROM pgbench_accounts WHERE aid = 4711",
		`DELETE FROM "t1" WHERE id = 1.5e3 -- 7`,
		"SELECT $1::int + 2 FROM t9 LIMIT 10",
		"PREPARE p1 AS DELETE FROM x WHERE 1 = 1; EXECUTE p1(5)",
		"SELECT $q$ 1 $q$, E'\\'2', '3''4', 5",
		"FETCH 3 FROM c1",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		var spans []span
		shape, numbers := appendShape(nil, text, &spans)
		if !numbers || !verifyShape(text, spans) {
			return
		}
		// Another text of the same shape: each number's digits replaced.
		var other []byte
		last := 0
		for _, sp := range spans {
			other = append(other, text[last:sp.from]...)
			other = append(other, "98"...)
			last = sp.to
		}
		other = append(other, text[last:]...)
		if s2, _ := appendShape(nil, string(other), nil); string(s2) != string(shape) {
			return // "98" glued to what followed: another shape, no claim
		}
		want, got := Parse(text), Parse(string(other))
		if want.Unparseable != "" || got.Unparseable != "" {
			require.Equal(t, want.Unparseable != "", got.Unparseable != "", "%q vs %q", text, other)
			return
		}
		require.Equal(t, want, got, "%q vs %q", text, other)
	})
}
