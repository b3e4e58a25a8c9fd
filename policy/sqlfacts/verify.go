//go:build cgo

package sqlfacts

import pg_query "github.com/pganalyze/pg_query_go/v6"

// verifyShape reports whether PostgreSQL's scanner finds text's numeric
// constants exactly at spans, of the same kinds (and no other): only then
// is text cached by its shape.
func verifyShape(text string, spans []span) bool {
	res, err := pg_query.Scan(text)
	if err != nil {
		return false
	}
	k := 0
	for _, tok := range res.Tokens {
		if tok.Token != pg_query.Token_ICONST && tok.Token != pg_query.Token_FCONST {
			continue
		}
		float := tok.Token == pg_query.Token_FCONST
		if k >= len(spans) || int(tok.Start) != spans[k].from || int(tok.End) != spans[k].to || float != spans[k].float {
			return false
		}
		k++
	}
	return k == len(spans)
}
