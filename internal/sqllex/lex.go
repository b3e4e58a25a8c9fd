package sqllex

import "strings"

// Kind is a token's kind.
type Kind uint8

// The kinds of token.
const (
	Space        Kind = iota // whitespace
	Comment                  // -- to the end of the line, or /* */ (nested)
	String                   // '…' ('' is a quote; with standard_conforming_strings off \x is x)
	EString                  // E'…' (\x is x in any case)
	UString                  // U&'…' (escapes not decoded)
	QuotedIdent              // "…" ("" is a quote)
	UQuotedIdent             // U&"…"
	Dollar                   // $tag$…$tag$
	Param                    // $1
	Ident                    // an unquoted identifier or keyword
	Number                   // digits, a fraction, an exponent
	Semicolon                // ;
	Other                    // any other byte
)

// Token is a run of the text: src[From:To].
type Token struct {
	Kind     Kind
	From, To int
}

// Lexer reads a text token by token.
type Lexer struct {
	src string
	pos int
	// scs is standard_conforming_strings: off, a backslash escapes in a
	// plain string.
	scs bool
}

// New reads src with standard_conforming_strings as scs.
func New(src string, scs bool) Lexer { return Lexer{src: src, scs: scs} }

// Pos is where the next token starts.
func (l *Lexer) Pos() int { return l.pos }

// Next returns the next token; false at the end of the text.
func (l *Lexer) Next() (Token, bool) {
	if l.pos >= len(l.src) {
		return Token{}, false
	}
	from := l.pos
	k := l.scan()
	return Token{Kind: k, From: from, To: l.pos}, true
}

// NextOf returns the next token of kind k, reading past the others; false
// at the end of the text.
func (l *Lexer) NextOf(k Kind) (Token, bool) {
	for l.pos < len(l.src) {
		from := l.pos
		if l.scan() == k {
			return Token{Kind: k, From: from, To: l.pos}, true
		}
	}
	return Token{}, false
}

func (l *Lexer) scan() Kind {
	s, i := l.src, l.pos
	c := s[i]
	switch {
	case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
		for l.pos++; l.pos < len(s) && isSpace(s[l.pos]); l.pos++ {
		}
		return Space
	case c == '-' && l.peek(1) == '-':
		if k := strings.IndexByte(s[i:], '\n'); k >= 0 {
			l.pos = i + k
		} else {
			l.pos = len(s)
		}
		return Comment
	case c == '/' && l.peek(1) == '*':
		l.blockComment()
		return Comment
	case c == '\'':
		l.quoted('\'', !l.scs)
		return String
	case (c == 'e' || c == 'E') && l.peek(1) == '\'':
		l.pos++
		l.quoted('\'', true)
		return EString
	case (c == 'u' || c == 'U') && l.peek(1) == '&' && (l.peek(2) == '"' || l.peek(2) == '\''):
		l.pos += 2
		if s[l.pos] == '"' {
			l.quoted('"', false)
			return UQuotedIdent
		}
		l.quoted('\'', false)
		return UString
	case c == '"':
		l.quoted('"', false)
		return QuotedIdent
	case c == '$':
		return l.dollar()
	case c == ';':
		l.pos++
		return Semicolon
	case IsIdentStart(c):
		for l.pos++; l.pos < len(s) && IsIdentCont(s[l.pos]); l.pos++ {
		}
		return Ident
	case c >= '0' && c <= '9':
		l.number()
		return Number
	}
	l.pos++
	return Other
}

func (l *Lexer) peek(n int) byte {
	if l.pos+n < len(l.src) {
		return l.src[l.pos+n]
	}
	return 0
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func (l *Lexer) blockComment() {
	depth := 0
	for l.pos < len(l.src) {
		switch {
		case l.src[l.pos] == '/' && l.peek(1) == '*':
			depth++
			l.pos += 2
		case l.src[l.pos] == '*' && l.peek(1) == '/':
			depth--
			l.pos += 2
			if depth == 0 {
				return
			}
		default:
			l.pos++
		}
	}
}

// quoted reads a run opened by q at pos: a doubled q is one; with
// backslashes, \x is x.
func (l *Lexer) quoted(q byte, backslashes bool) {
	for l.pos++; l.pos < len(l.src); l.pos++ {
		switch c := l.src[l.pos]; {
		case backslashes && c == '\\':
			l.pos++
		case c == q && l.peek(1) == q:
			l.pos++
		case c == q:
			l.pos++
			return
		}
	}
	l.pos = len(l.src)
}

// dollar reads what starts with $: a parameter ($1), a dollar quote
// ($tag$…$tag$; a $ that ends an identifier was read with it), or the $
// alone.
func (l *Lexer) dollar() Kind {
	s, j := l.src, l.pos+1
	if c := l.peek(1); c >= '0' && c <= '9' {
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		l.pos = j
		return Param
	}
	for j < len(s) && IsIdentCont(s[j]) && s[j] != '$' {
		j++
	}
	if j >= len(s) || s[j] != '$' || (j > l.pos+1 && !IsIdentStart(s[l.pos+1])) {
		l.pos++
		return Other
	}
	tag := s[l.pos : j+1]
	if k := strings.Index(s[j+1:], tag); k >= 0 {
		l.pos = j + 1 + k + len(tag)
	} else {
		l.pos = len(s)
	}
	return Dollar
}

// number reads digits, a fraction and an exponent.
func (l *Lexer) number() {
	s := l.src
	digits := func(j int) int {
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		return j
	}
	j := digits(l.pos)
	if j < len(s) && s[j] == '.' && (j+1 >= len(s) || s[j+1] != '.') {
		j = digits(j + 1)
	}
	if j < len(s) && (s[j] == 'e' || s[j] == 'E') {
		k := j + 1
		if k < len(s) && (s[k] == '+' || s[k] == '-') {
			k++
		}
		if k < len(s) && s[k] >= '0' && s[k] <= '9' {
			j = digits(k)
		}
	}
	l.pos = j
}

// IsIdentStart reports whether c starts an unquoted identifier.
func IsIdentStart(c byte) bool {
	return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') || c >= 0x80
}

// IsIdentCont reports whether c goes on an unquoted identifier.
func IsIdentCont(c byte) bool {
	return IsIdentStart(c) || (c >= '0' && c <= '9') || c == '$'
}
