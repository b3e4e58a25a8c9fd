package difftest

import (
	"fmt"
	"math/rand"
	"strings"

	"github.com/jackc/pgproto3/v2"
)

// Chooser is the randomness a generated sequence is drawn from: a seeded
// math/rand (the bounded CI run) or the fuzzer's bytes.
type Chooser interface{ Intn(n int) int }

// ByteChooser reads choices from fuzz input (B); when it runs out every
// choice is 0.
type ByteChooser struct {
	B []byte
}

func (c *ByteChooser) Intn(n int) int {
	if len(c.B) == 0 || n <= 1 {
		return 0
	}
	v := int(c.B[0])
	c.B = c.B[1:]
	return v % n
}

var _ Chooser = (*ByteChooser)(nil)
var _ Chooser = (*rand.Rand)(nil)

// Long is a 63-byte prefix (PostgreSQL's NAMEDATALEN-1): names that differ
// only after it are one name to the server.
var Long = strings.Repeat("a", 63)

var (
	genStmtNames   = []string{"", "s1", "s2", Long + "x", Long + "z"}
	genPortalNames = []string{"", "p1", "p2"}
)

// genText returns a statement text; k makes it unique so that the
// server's log line names the message it came from.
func genText(c Chooser, k int) string {
	t := genBareText(c, k)
	if !strings.Contains(t, fmt.Sprintf("m%d", k)) {
		t += fmt.Sprintf(" /* m%d */", k)
	}
	return t
}

func genBareText(c Chooser, k int) string {
	switch c.Intn(16) {
	case 0:
		return fmt.Sprintf("select 'm%d' from generate_series(1,3)", k)
	case 1:
		return fmt.Sprintf("select 1/0 as m%d", k)
	case 2:
		return fmt.Sprintf("selec m%d", k)
	case 3:
		return fmt.Sprintf("select $1::text || 'm%d'", k)
	case 4:
		return fmt.Sprintf("PREPARE %s AS select 'm%d'", sqlIdent(genStmtNames[1+c.Intn(len(genStmtNames)-1)]), k)
	case 5:
		return "DEALLOCATE " + sqlIdent(genStmtNames[1+c.Intn(len(genStmtNames)-1)])
	case 6:
		return "DEALLOCATE ALL"
	case 7:
		return "DISCARD ALL"
	case 8:
		return fmt.Sprintf("DECLARE %s CURSOR WITH HOLD FOR select 'm%d' from generate_series(1,2)", sqlIdent(genPortalNames[1+c.Intn(2)]), k)
	case 9:
		return "CLOSE " + sqlIdent(genPortalNames[1+c.Intn(2)])
	case 10:
		return "begin"
	case 11:
		return "commit"
	case 12:
		return "rollback"
	default:
		return fmt.Sprintf("select 'm%d'", k)
	}
}

// sqlIdent quotes a name as SQL would need it (the Long names keep their
// case through quoting).
func sqlIdent(name string) string {
	return `"` + name + `"`
}

// genQuery returns a simple Query string: one statement or two.
func genQuery(c Chooser, k int) string {
	if c.Intn(4) == 0 {
		return genText(c, k) + "; " + genText(c, k+1)
	}
	return genText(c, k)
}

// Sequence draws a pipelined sequence of 1..max messages ending with
// Sync.
func Sequence(c Chooser, max int) []pgproto3.FrontendMessage {
	n := 1 + c.Intn(max)
	var msgs []pgproto3.FrontendMessage
	for k := 0; len(msgs) < n; k++ {
		msgs = append(msgs, genChunk(c, k*4)...)
	}
	if len(msgs) == 0 || !IsSync(msgs[len(msgs)-1]) {
		msgs = append(msgs, &pgproto3.Sync{})
	}
	return msgs
}

// genChunk returns one message, or a few that clients send together
// (prepare and run, re-bind and run), so that sequences reach the states
// where names are re-used across groups.
func genChunk(c Chooser, k int) []pgproto3.FrontendMessage {
	stmt, portal := "s1", genPortalNames[c.Intn(len(genPortalNames))]
	if c.Intn(3) == 0 {
		stmt = genStmtNames[c.Intn(len(genStmtNames))]
	}
	sync := func(msgs ...pgproto3.FrontendMessage) []pgproto3.FrontendMessage {
		if c.Intn(3) > 0 {
			msgs = append(msgs, &pgproto3.Sync{})
		}
		return msgs
	}
	switch c.Intn(10) {
	case 0, 1:
		return sync(&pgproto3.Parse{Name: stmt, Query: genText(c, k)},
			&pgproto3.Bind{DestinationPortal: portal, PreparedStatement: stmt}, &pgproto3.Execute{Portal: portal})
	case 2, 3:
		return sync(&pgproto3.Bind{DestinationPortal: portal, PreparedStatement: stmt}, &pgproto3.Execute{Portal: portal})
	case 4:
		return sync(&pgproto3.Parse{Name: stmt, Query: genText(c, k)})
	default:
		return []pgproto3.FrontendMessage{genMessage(c, k)}
	}
}

func genMessage(c Chooser, k int) pgproto3.FrontendMessage {
	// Few names, so that messages meet on them.
	stmt := genStmtNames[min(c.Intn(len(genStmtNames)+2), len(genStmtNames)-1)%len(genStmtNames)]
	if c.Intn(2) == 0 {
		stmt = "s1"
	}
	portal := genPortalNames[c.Intn(len(genPortalNames))]
	switch c.Intn(20) {
	case 0, 1, 2, 3, 4:
		return &pgproto3.Parse{Name: stmt, Query: genText(c, k)}
	case 5, 6, 7:
		b := &pgproto3.Bind{DestinationPortal: portal, PreparedStatement: stmt}
		if c.Intn(3) == 0 {
			b.Parameters = [][]byte{[]byte(fmt.Sprintf("v%d", k))}
		}
		return b
	case 8, 9, 10:
		return &pgproto3.Execute{Portal: portal, MaxRows: uint32(c.Intn(2))}
	case 11:
		if c.Intn(2) == 0 {
			return &pgproto3.Close{ObjectType: 'S', Name: stmt}
		}
		return &pgproto3.Close{ObjectType: 'P', Name: portal}
	case 12:
		if c.Intn(2) == 0 {
			return &pgproto3.Describe{ObjectType: 'S', Name: stmt}
		}
		return &pgproto3.Describe{ObjectType: 'P', Name: portal}
	case 13, 14, 15:
		return &pgproto3.Query{String: genQuery(c, k)}
	case 16:
		return &pgproto3.Flush{}
	default:
		return &pgproto3.Sync{}
	}
}

func IsSync(m pgproto3.FrontendMessage) bool {
	_, ok := m.(*pgproto3.Sync)
	return ok
}

// Describe prints a sequence as the Go literal that reproduces it.
func Describe(msgs []pgproto3.FrontendMessage) string {
	var b strings.Builder
	for _, m := range msgs {
		switch v := m.(type) {
		case *pgproto3.Parse:
			fmt.Fprintf(&b, "  Parse{Name: %q, Query: %q}\n", v.Name, v.Query)
		case *pgproto3.Bind:
			fmt.Fprintf(&b, "  Bind{DestinationPortal: %q, PreparedStatement: %q, params: %d}\n", v.DestinationPortal, v.PreparedStatement, len(v.Parameters))
		case *pgproto3.Execute:
			fmt.Fprintf(&b, "  Execute{Portal: %q, MaxRows: %d}\n", v.Portal, v.MaxRows)
		case *pgproto3.Close:
			fmt.Fprintf(&b, "  Close{ObjectType: '%c', Name: %q}\n", v.ObjectType, v.Name)
		case *pgproto3.Describe:
			fmt.Fprintf(&b, "  Describe{ObjectType: '%c', Name: %q}\n", v.ObjectType, v.Name)
		case *pgproto3.Query:
			fmt.Fprintf(&b, "  Query{String: %q}\n", v.String)
		case *pgproto3.Flush:
			b.WriteString("  Flush{}\n")
		case *pgproto3.Sync:
			b.WriteString("  Sync{}\n")
		default:
			fmt.Fprintf(&b, "  %T\n", m)
		}
	}
	return b.String()
}
