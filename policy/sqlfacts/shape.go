package sqlfacts

import "strings"

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
// The shape comes from a small lexer that reads SQL as PostgreSQL's
// scanner does with standard_conforming_strings on (the only reading of
// the parser): digits in comments, strings, quoted identifiers, dollar
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
	for i := 0; i < len(text); {
		c := text[i]
		j := i + 1
		switch {
		case plain(c):
			for j < len(text) && plain(text[j]) {
				j++
			}
		case c == '-' && peek(text, i+1) == '-':
			j = lineEnd(text, i)
		case c == '/' && peek(text, i+1) == '*':
			j = commentEnd(text, i)
		case c == '\'':
			j = quoteEnd(text, i, '\'', false)
		case (c == 'e' || c == 'E') && peek(text, i+1) == '\'':
			j = quoteEnd(text, i+1, '\'', true)
		case c == '"':
			j = quoteEnd(text, i, '"', false)
		case c == '$':
			j = dollarEnd(text, i)
		case identStart(c):
			for j < len(text) && identCont(text[j]) {
				j++
			}
		case c >= '0' && c <= '9':
			j = numberEnd(text, i)
			float := !smallInteger(text[i:j])
			if float {
				dst = append(dst, "0.0"...)
			} else {
				dst = append(dst, '0')
			}
			if spans != nil {
				*spans = append(*spans, span{i, j, float})
			}
			changed = true
			i = j
			continue
		}
		dst = append(dst, text[i:j]...)
		i = j
	}
	return dst, changed
}

func peek(s string, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

func lineEnd(s string, i int) int {
	if k := strings.IndexByte(s[i:], '\n'); k >= 0 {
		return i + k
	}
	return len(s)
}

// commentEnd is the end of a /* */ comment at i (they nest).
func commentEnd(s string, i int) int {
	depth := 0
	for i < len(s) {
		switch {
		case s[i] == '/' && peek(s, i+1) == '*':
			depth++
			i += 2
		case s[i] == '*' && peek(s, i+1) == '/':
			depth--
			i += 2
			if depth == 0 {
				return i
			}
		default:
			i++
		}
	}
	return len(s)
}

// quoteEnd is the end of the quoted run opened by q at i: a doubled q is
// one; with backslashes, \x is x.
func quoteEnd(s string, i int, q byte, backslashes bool) int {
	for i++; i < len(s); i++ {
		switch {
		case backslashes && s[i] == '\\':
			i++
		case s[i] == q && peek(s, i+1) == q:
			i++
		case s[i] == q:
			return i + 1
		}
	}
	return len(s)
}

// dollarEnd is the end of what starts with $ at i: a parameter ($1), a
// dollar quote ($tag$…$tag$), or the $ alone.
func dollarEnd(s string, i int) int {
	j := i + 1
	if c := peek(s, j); c >= '0' && c <= '9' {
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		return j
	}
	if c := peek(s, j); c != '$' && !identStart(c) {
		return j
	}
	for j < len(s) && identCont(s[j]) && s[j] != '$' {
		j++
	}
	if peek(s, j) != '$' {
		return i + 1
	}
	tag := s[i : j+1]
	if k := strings.Index(s[j+1:], tag); k >= 0 {
		return j + 1 + k + len(tag)
	}
	return len(s)
}

// numberEnd is the end of a numeric constant at i: digits, a fraction, an
// exponent.
func numberEnd(s string, i int) int {
	digits := func(j int) int {
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		return j
	}
	j := digits(i)
	if peek(s, j) == '.' && peek(s, j+1) != '.' {
		j = digits(j + 1)
	}
	if c := peek(s, j); c == 'e' || c == 'E' {
		k := j + 1
		if c := peek(s, k); c == '+' || c == '-' {
			k++
		}
		if c := peek(s, k); c >= '0' && c <= '9' {
			j = digits(k)
		}
	}
	return j
}

// plain bytes start nothing the lexer reads: whitespace, operators,
// punctuation (not - / ' " $ digits letters _ or bytes ≥ 0x80).
func plain(c byte) bool {
	switch {
	case c >= 0x80, c == '-', c == '/', c == '\'', c == '"', c == '$', c == '_':
		return false
	case c >= '0' && c <= '9', c|0x20 >= 'a' && c|0x20 <= 'z':
		return false
	}
	return true
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

func identStart(c byte) bool {
	return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') || c >= 0x80
}

func identCont(c byte) bool {
	return identStart(c) || (c >= '0' && c <= '9') || c == '$'
}
