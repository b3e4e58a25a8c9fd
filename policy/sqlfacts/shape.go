package sqlfacts

import (
	"strings"

	"github.com/tollgate-db/tollgate/internal/sqllex"
)

// A statement's shape is its text with each numeric constant written 0
// (an integer the scanner reads as one, up to 2147483647) or 0.0 (any
// other: a fraction, an exponent, a larger integer), as the parser tells
// them apart:
// `SELECT abalance FROM pgbench_accounts WHERE aid = 4711` and `… = 12`
// have one shape, and the same facts (no rule reads a number). The cache
// keys texts that have numbers by their shape, so that an application
// that writes its values into the text (pgbench, ORMs without bind
// parameters) is parsed once per statement, not once per value.
//
// The shape comes from the module's lexer (internal/sqllex) reading SQL
// as PostgreSQL's scanner does with standard_conforming_strings on (the
// only reading of the parser): digits in comments, strings, quoted identifiers, dollar
// quotes, identifiers and parameters ($1) are text. A text is cached by
// its shape only once the parser's own scanner has found its numeric
// constants exactly where the lexer did (verifyShape): two texts of one
// shape then differ only in the digits of such constants.

// span is a byte range [from, to) of a text holding a numeric constant;
// float is set when it is not an integer constant (FCONST, not ICONST).
type span struct {
	from, to int
	float    bool
}

// appendShape appends the shape of text to dst; spans, when not nil,
// gets the numeric constants it replaced. changed is false when there was
// none (the shape is the text).
func appendShape(dst []byte, text string, spans *[]span) (out []byte, changed bool) {
	last := 0
	for lx := sqllex.New(text, true); ; {
		t, ok := lx.NextOf(sqllex.Number)
		if !ok {
			break
		}
		dst = append(dst, text[last:t.From]...)
		float := !smallInteger(text[t.From:t.To])
		if float {
			dst = append(dst, "0.0"...)
		} else {
			dst = append(dst, '0')
		}
		if spans != nil {
			*spans = append(*spans, span{t.From, t.To, float})
		}
		last, changed = t.To, true
	}
	return append(dst, text[last:]...), changed
}

// smallInteger reports whether n (a numeric constant) is digits only and
// at most 2147483647: the scanner's integer constant.
func smallInteger(n string) bool {
	for i := 0; i < len(n); i++ {
		if n[i] < '0' || n[i] > '9' {
			return false
		}
	}
	n = strings.TrimLeft(n, "0")
	return len(n) < 10 || (len(n) == 10 && n <= "2147483647")
}
