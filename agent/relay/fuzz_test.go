package relay

import (
	"bufio"
	"bytes"
	"testing"
	"time"

	"github.com/jackc/pgproto3/v2"

	"github.com/tollgate-db/tollgate/internal/pgwire"
)

// FuzzTracker feeds random client message sequences, answered by a naive
// server script, into the tracker: it must not panic, and every Execute or
// Query must get exactly one result by the last ReadyForQuery.
func FuzzTracker(f *testing.F) {
	var seed []byte
	for _, m := range []pgproto3.FrontendMessage{
		&pgproto3.Parse{Name: "a", Query: "select 1"}, &pgproto3.Bind{PreparedStatement: "a"},
		&pgproto3.Execute{}, &pgproto3.Sync{}, &pgproto3.Query{String: "select 2"},
		&pgproto3.Close{ObjectType: 'S', Name: "a"}, &pgproto3.Describe{ObjectType: 'P'}, &pgproto3.Sync{},
	} {
		seed, _ = m.Encode(seed)
	}
	f.Add(seed, []byte{0, 1, 2, 3, 4})
	f.Fuzz(func(t *testing.T, in []byte, replies []byte) {
		tr := newTracker("s")
		r := pgwire.NewClientReader(bufio.NewReader(bytes.NewReader(in)), 1<<16)
		queries := 0
		for {
			typ, body, err := r.Next()
			if err != nil {
				break
			}
			q, err := tr.client(typ, body)
			if err != nil {
				continue
			}
			if q != nil {
				queries++
			}
		}
		// Answer: each reply byte picks a server message.
		kinds := []pgwire.ServerMsg{pgwire.ServerParseComplete, pgwire.ServerBindComplete, pgwire.ServerCloseComplete,
			pgwire.ServerNoData, pgwire.ServerCommandComplete, pgwire.ServerErrorResponse, pgwire.ServerReadyForQuery,
			pgwire.ServerEmptyQueryResponse, pgwire.ServerPortalSuspended}
		var out serverReply
		results := 0
		for _, b := range replies {
			typ := kinds[int(b)%len(kinds)]
			var body []byte
			switch typ {
			case pgwire.ServerCommandComplete:
				body = []byte("SELECT 1\x00")
			case pgwire.ServerErrorResponse:
				body = []byte("SERROR\x00C42601\x00Mboom\x00\x00")
			case pgwire.ServerReadyForQuery:
				body = []byte{'I'}
			}
			tr.server(typ, body, time.Now(), &out)
			results += len(out.results)
			out.results = out.results[:0]
		}
		if results > queries {
			t.Fatalf("%d results for %d queries", results, queries)
		}
	})
}
