package relay

import "strings"

// With standard_conforming_strings off, the server reads a backslash in a
// plain '…' string as an escape: 'a\'' is one string to it, while a
// parser reading with it on (PostgreSQL's default, and the only reading
// of the SQL parser the statement rules use) ends that string early —
// and the two readings can disagree on where code is. asConforming
// rewrites text so that the parser, reading with the setting on, sees
// the strings where a server with it off sees them: in each plain string
// \' becomes '' (E'…', dollar quotes, identifiers and comments are read as
// both readings do). The rules judge both texts when the session's
// setting is off, or may be by the time it runs.

// asConforming returns text as a server with standard_conforming_strings
// off reads it, spelled for a reading with it on; changed is false when
// the two are the same.
func asConforming(text string) (out string, changed bool) {
	if strings.IndexByte(text, '\\') < 0 {
		return text, false
	}
	var b strings.Builder
	l := lexer{src: text}
	last := 0
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == '-' && l.peek(1) == '-':
			l.skipLine()
		case c == '/' && l.peek(1) == '*':
			l.skipBlockComment()
		case (c == 'e' || c == 'E') && l.peek(1) == '\'':
			l.pos++
			l.skipString(true)
		case (c == 'u' || c == 'U') && l.peek(1) == '&' && (l.peek(2) == '"' || l.peek(2) == '\''):
			l.pos += 2
			if l.src[l.pos] == '"' {
				l.quotedIdent()
			} else {
				l.skipString(false)
			}
		case c == '\'':
			// A plain string, read with backslash escapes.
			l.pos++
			for l.pos < len(l.src) {
				c := l.src[l.pos]
				if c == '\\' && l.peek(1) == '\'' {
					b.WriteString(text[last:l.pos])
					b.WriteString("''")
					l.pos += 2
					last, changed = l.pos, true
					continue
				}
				if c == '\\' {
					l.pos += 2
					continue
				}
				if c == '\'' && l.peek(1) == '\'' {
					l.pos += 2
					continue
				}
				l.pos++
				if c == '\'' {
					break
				}
			}
		case c == '"':
			l.quotedIdent()
		case c == '$' && l.dollarTag() != "":
			l.skipDollar(l.dollarTag())
		case isIdentStart(c):
			l.word()
		default:
			l.pos++
		}
	}
	if !changed {
		return text, false
	}
	b.WriteString(text[last:])
	return b.String(), true
}
