package relay

import (
	"strings"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/sqllex"
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
	lx := newLexer(text, scs)
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
// does (internal/sqllex: quotes, comments and dollar quotes hide them) and
// reads each statement's head.
type lexer struct {
	src string
	lx  sqllex.Lexer
}

func newLexer(src string, scs bool) *lexer { return &lexer{src: src, lx: sqllex.New(src, scs)} }

func (l *lexer) done() bool { return l.lx.Pos() >= len(l.src) }

// statement reads up to the end of the next statement and returns its
// first max tokens.
func (l *lexer) statement(max int) []token {
	var toks []token
	add := func(t token) {
		if len(toks) < max {
			toks = append(toks, t)
		}
	}
	for {
		t, ok := l.lx.Next()
		if !ok {
			return toks
		}
		switch t.Kind {
		case sqllex.Semicolon:
			return toks
		case sqllex.Space, sqllex.Comment:
		case sqllex.Ident:
			add(token{text: fold(l.src[t.From:t.To]), word: true})
		case sqllex.QuotedIdent:
			add(token{text: unquote(l.src[t.From:t.To]), quoted: true, word: true})
		default:
			// Strings, numbers, parameters, U&"…" (escapes the agent
			// does not decode: the name is unknown), operators.
			add(token{})
		}
	}
}

// unquote is the server's key of a quoted identifier "…" ("" is a quote).
func unquote(q string) string {
	q = strings.TrimPrefix(q, `"`)
	q = strings.TrimSuffix(q, `"`)
	return clipName(strings.ReplaceAll(q, `""`, `"`))
}

// fold is an unquoted identifier or keyword folded as the server folds it
// (ASCII letters to lower case) and clipped to a name's length.
func fold(w string) string {
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
