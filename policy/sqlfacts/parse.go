//go:build cgo

package sqlfacts

import (
	"fmt"
	"strings"

	pg_query "github.com/pganalyze/pg_query_go/v6"

	"github.com/tollgate-db/tollgate/policy"
)

// MaxText is the longest text Parse reads: a longer one is Unparseable
// (the parser's time and memory grow with it, and no real query the
// gateway judges is that long).
const MaxText = 1 << 20

// The Unparseable reasons Parse gives itself (the rest are the parser's).
const (
	tooLong       = "statement text longer than 1 MiB is not parsed"
	hasNUL        = "statement text contains a NUL byte"
	internalError = "sqlfacts: the parse tree could not be read"
)

// Parse reads text with PostgreSQL's parser into the facts a rule
// matches: one Statement per statement, in order. It never panics: a text
// the parser refuses (or one too long to try) gives Facts with only
// Unparseable set. The same text always gives the same Facts.
func Parse(text string) (f policy.Facts) {
	if len(text) > MaxText {
		return policy.Facts{Unparseable: tooLong}
	}
	// The parser reads a C string, so it would stop at a NUL and judge
	// less than the text; the wire protocol cannot carry one anyway.
	if strings.IndexByte(text, 0) >= 0 {
		return policy.Facts{Unparseable: hasNUL}
	}
	defer func() {
		// A tree this package misreads must cost the text its facts,
		// not the gateway its process. FuzzParse fails on this reason.
		if r := recover(); r != nil {
			f = policy.Facts{Unparseable: fmt.Sprintf("%s: %v", internalError, r)}
		}
	}()
	tree, err := pg_query.Parse(text)
	if err != nil {
		return policy.Facts{Unparseable: parseError(err)}
	}
	return facts(tree)
}

// parseError is the parser's message (syntax error at or near "FROMM").
func parseError(err error) string {
	if msg := err.Error(); msg != "" {
		return msg
	}
	return "the parser could not read the text"
}

// facts reads a parse tree: one Statement per RawStmt.
func facts(tree *pg_query.ParseResult) policy.Facts {
	var f policy.Facts
	if len(tree.Stmts) == 0 {
		return f
	}
	f.Statements = make([]policy.Statement, len(tree.Stmts))
	var w walker
	for i, raw := range tree.Stmts {
		f.Statements[i].Index = i + 1
		w.reset(&f.Statements[i])
		w.statement(raw.GetStmt())
	}
	return f
}

// reset readies w for another statement, keeping its maps' memory.
func (w *walker) reset(st *policy.Statement) {
	w.st = st
	w.cur = -1
	w.colRefs = 0
	w.ctes = w.ctes[:0]
	clear(w.inScope)
	clear(w.seenTable)
	clear(w.seenFunc)
}
