package relay

import (
	"strings"

	"github.com/tollgate-db/tollgate/eventlog"
)

// nameMax is PostgreSQL's NAMEDATALEN-1: the bytes of a statement, portal
// or cursor name the server keeps.
const nameMax = 63

// protocolName is the key the server files a protocol-level name under:
// the hash tables of prepared statements and portals keep its first 63
// bytes, cut wherever they fall.
func protocolName(name string) string {
	if len(name) > nameMax {
		return name[:nameMax]
	}
	return name
}

// effectKind is what one top-level SQL statement does to the session's
// prepared statements and portals.
type effectKind uint8

const (
	effNone       effectKind = iota
	effPrepare               // PREPARE name AS …
	effDeallocate            // DEALLOCATE [PREPARE] name
	effDeallocAll            // DEALLOCATE [PREPARE] ALL
	effDiscardAll            // DISCARD ALL (statements and portals)
	effDeclare               // DECLARE name … CURSOR … FOR …
	effClose                 // CLOSE name
	effCloseAll              // CLOSE ALL
	effUnknown               // one of the above whose name could not be read
)

// sqlEffect is the effect of one statement; name is the server's key.
type sqlEffect struct {
	kind effectKind
	name string
	hold bool // DECLARE … WITH HOLD
}

// tagKind is the effect a command tag reports, or effNone. The server's
// tag is the truth the lexer's reading is checked against.
func tagKind(tag string) effectKind {
	switch tag {
	case "PREPARE":
		return effPrepare
	case "DEALLOCATE":
		return effDeallocate
	case "DEALLOCATE ALL":
		return effDeallocAll
	case "DISCARD ALL":
		return effDiscardAll
	case "DECLARE CURSOR":
		return effDeclare
	case "CLOSE CURSOR":
		return effClose
	case "CLOSE CURSOR ALL":
		return effCloseAll
	}
	return effNone
}

// mayHaveEffects is a cheap, lexing-free test: false means no statement of
// text can change a name (a keyword that could is nowhere in it).
func mayHaveEffects(text string) bool {
	for i := 0; i < len(text); i++ {
		switch text[i] | 0x20 {
		case 'p', 'd', 'c':
			rest := text[i:]
			if hasFoldPrefix(rest, "prepare") || hasFoldPrefix(rest, "deallocate") ||
				hasFoldPrefix(rest, "discard") || hasFoldPrefix(rest, "declare") || hasFoldPrefix(rest, "close") {
				return true
			}
		}
	}
	return false
}

func hasFoldPrefix(s, prefix string) bool {
	return len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix)
}

// sqlEffects reads the top-level statements of text (a simple Query's
// string, or a Parse's single statement) and returns one effect per
// non-empty statement, in order. scs is standard_conforming_strings as
// the server had it when the string was parsed. The reading is checked
// against the server's command tags (see tagKind): where they disagree the
// caller forgets every name.
func sqlEffects(text string, scs bool) []sqlEffect {
	var out []sqlEffect
	lx := lexer{src: text, scs: scs}
	for !lx.done() {
		toks := lx.statement(8)
		if len(toks) == 0 {
			continue
		}
		out = append(out, effectOf(toks))
	}
	return out
}

// token is a word of a statement's head: an unquoted word (folded to
// lower case, as the server does), a quoted identifier, or other.
type token struct {
	text   string
	quoted bool
	word   bool // an identifier or keyword
}

func effectOf(toks []token) sqlEffect {
	kw := func(i int, w string) bool {
		return i < len(toks) && toks[i].word && !toks[i].quoted && toks[i].text == w
	}
	name := func(i int) (string, bool) {
		if i < len(toks) && toks[i].word {
			return toks[i].text, true
		}
		return "", false
	}
	switch {
	case kw(0, "prepare"):
		if n, ok := name(1); ok {
			return sqlEffect{kind: effPrepare, name: n}
		}
	case kw(0, "deallocate"):
		i := 1
		if kw(1, "prepare") {
			i = 2
		}
		if kw(i, "all") {
			return sqlEffect{kind: effDeallocAll}
		}
		if n, ok := name(i); ok {
			return sqlEffect{kind: effDeallocate, name: n}
		}
	case kw(0, "discard"):
		if kw(1, "all") {
			return sqlEffect{kind: effDiscardAll}
		}
		return sqlEffect{}
	case kw(0, "declare"):
		n, ok := name(1)
		if !ok {
			break
		}
		e := sqlEffect{kind: effDeclare, name: n}
		for i := 2; i+1 < len(toks); i++ {
			if kw(i, "with") && kw(i+1, "hold") {
				e.hold = true
			}
		}
		return e
	case kw(0, "close"):
		if kw(1, "all") {
			return sqlEffect{kind: effCloseAll}
		}
		if n, ok := name(1); ok {
			return sqlEffect{kind: effClose, name: n}
		}
	default:
		return sqlEffect{}
	}
	return sqlEffect{kind: effUnknown}
}

// lexer splits SQL at top-level semicolons the way PostgreSQL's scanner
// does: quotes ('…', E'…', "…", $tag$…$tag$), comments (-- and nested
// /* */) hide them.
type lexer struct {
	src string
	pos int
	scs bool
}

func (l *lexer) done() bool { return l.pos >= len(l.src) }

// statement reads up to the end of the next statement and returns its
// first max tokens.
func (l *lexer) statement(max int) []token {
	var toks []token
	add := func(t token) {
		if len(toks) < max {
			toks = append(toks, t)
		}
	}
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == ';':
			l.pos++
			return toks
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v':
			l.pos++
		case c == '-' && l.peek(1) == '-':
			l.skipLine()
		case c == '/' && l.peek(1) == '*':
			l.skipBlockComment()
		case c == '\'':
			l.skipString(!l.scs)
			add(token{})
		case (c == 'e' || c == 'E') && l.peek(1) == '\'':
			l.pos++
			l.skipString(true)
			add(token{})
		case (c == 'u' || c == 'U') && l.peek(1) == '&' && (l.peek(2) == '"' || l.peek(2) == '\''):
			// U&"…" / U&'…': escapes the agent does not decode; the name
			// is unknown (tokens with no word flag).
			l.pos += 2
			if l.src[l.pos] == '"' {
				l.quotedIdent()
			} else {
				l.skipString(false)
			}
			add(token{})
		case c == '"':
			add(token{text: l.quotedIdent(), quoted: true, word: true})
		case c == '$' && l.dollarTag() != "":
			l.skipDollar(l.dollarTag())
			add(token{})
		case isIdentStart(c):
			add(token{text: l.word(), word: true})
		default:
			l.pos++
			add(token{})
		}
	}
	return toks
}

func (l *lexer) peek(n int) byte {
	if l.pos+n < len(l.src) {
		return l.src[l.pos+n]
	}
	return 0
}

func (l *lexer) skipLine() {
	for l.pos < len(l.src) && l.src[l.pos] != '\n' {
		l.pos++
	}
}

func (l *lexer) skipBlockComment() {
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

// skipString skips '…' (” is a quote; with backslashes, \x escapes x).
func (l *lexer) skipString(backslashes bool) {
	l.pos++ // opening quote
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case backslashes && c == '\\':
			l.pos += 2
		case c == '\'' && l.peek(1) == '\'':
			l.pos += 2
		case c == '\'':
			l.pos++
			return
		default:
			l.pos++
		}
	}
}

// quotedIdent reads "…" ("" is a quote) and returns the server's key.
func (l *lexer) quotedIdent() string {
	l.pos++
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		if c == '"' {
			if l.peek(1) == '"' {
				b.WriteByte('"')
				l.pos += 2
				continue
			}
			l.pos++
			break
		}
		b.WriteByte(c)
		l.pos++
	}
	return clipName(b.String())
}

// dollarTag returns "$tag$" if a dollar quote starts at pos, else "".
func (l *lexer) dollarTag() string {
	if l.pos > 0 && isIdentCont(l.src[l.pos-1]) {
		return "" // part of an identifier (a$b)
	}
	i := l.pos + 1
	if i < len(l.src) && l.src[i] >= '0' && l.src[i] <= '9' {
		return "" // $1: a parameter
	}
	for i < len(l.src) && isIdentCont(l.src[i]) && l.src[i] != '$' {
		i++
	}
	if i < len(l.src) && l.src[i] == '$' {
		return l.src[l.pos : i+1]
	}
	return ""
}

func (l *lexer) skipDollar(tag string) {
	l.pos += len(tag)
	if j := strings.Index(l.src[l.pos:], tag); j >= 0 {
		l.pos += j + len(tag)
		return
	}
	l.pos = len(l.src)
}

// word reads an unquoted identifier or keyword, folded as the server
// folds it (ASCII letters to lower case) and clipped to a name's length.
func (l *lexer) word() string {
	start := l.pos
	for l.pos < len(l.src) && isIdentCont(l.src[l.pos]) {
		l.pos++
	}
	w := l.src[start:l.pos]
	lower := true
	for i := 0; i < len(w); i++ {
		if w[i] >= 'A' && w[i] <= 'Z' {
			lower = false
			break
		}
	}
	if !lower {
		b := []byte(w)
		for i, c := range b {
			if c >= 'A' && c <= 'Z' {
				b[i] = c + 'a' - 'A'
			}
		}
		w = string(b)
	}
	return clipName(w)
}

// clipName truncates a SQL identifier as the server does: to 63 bytes,
// at a character boundary.
func clipName(s string) string { return eventlog.CutUTF8(s, nameMax) }

func isIdentStart(c byte) bool {
	return c == '_' || (c|0x20 >= 'a' && c|0x20 <= 'z') || c >= 0x80
}

func isIdentCont(c byte) bool {
	return isIdentStart(c) || (c >= '0' && c <= '9') || c == '$'
}
