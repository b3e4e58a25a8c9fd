package relay

import (
	"strings"

	"github.com/tollgate-db/tollgate/internal/sqllex"
)

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
	last := 0
	for lx := sqllex.New(text, false); ; {
		t, ok := lx.NextOf(sqllex.String)
		if !ok {
			break
		}
		// A plain string, read with backslash escapes: \' is a quote.
		for i := t.From + 1; i < t.To-1; i++ {
			switch {
			case text[i] == '\\' && text[i+1] == '\'':
				b.WriteString(text[last:i])
				b.WriteString("''")
				i++
				last, changed = i+1, true
			case text[i] == '\\':
				i++
			}
		}
	}
	if !changed {
		return text, false
	}
	b.WriteString(text[last:])
	return b.String(), true
}
