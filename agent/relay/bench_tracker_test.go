package relay

import (
	"testing"
	"time"

	"github.com/jackc/pgproto3/v2"

	"github.com/tollgate-db/tollgate/internal/pgwire"
)

// BenchmarkTrackerExtended: the tracker's cost for one extended round
// trip (Parse, Bind, Execute, Sync and their answers), without I/O.
func BenchmarkTrackerExtended(b *testing.B) {
	enc := func(m pgproto3.FrontendMessage) []byte {
		p, err := m.Encode(nil)
		if err != nil {
			b.Fatal(err)
		}
		return p[pgwire.HeaderLen:]
	}
	parse := enc(&pgproto3.Parse{Query: "select abalance from pgbench_accounts where aid = $1"})
	bind := enc(&pgproto3.Bind{Parameters: [][]byte{[]byte("42")}})
	execute := enc(&pgproto3.Execute{})
	tag := []byte("SELECT 1\x00")
	tr := newTracker("s")
	var out serverReply
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		for _, m := range []struct {
			typ  pgwire.ClientMsg
			body []byte
		}{{pgwire.ClientParse, parse}, {pgwire.ClientBind, bind}, {pgwire.ClientExecute, execute}, {pgwire.ClientSync, nil}} {
			if _, err := tr.client(m.typ, m.body); err != nil {
				b.Fatal(err)
			}
		}
		tr.server(pgwire.ServerParseComplete, nil, now, &out)
		tr.server(pgwire.ServerBindComplete, nil, now, &out)
		tr.server(pgwire.ServerCommandComplete, tag, now, &out)
		tr.server(pgwire.ServerReadyForQuery, []byte{pgwire.TxIdle}, now, &out)
		if len(out.results) != 1 {
			b.Fatalf("%d results", len(out.results))
		}
		out.results = out.results[:0]
	}
}
