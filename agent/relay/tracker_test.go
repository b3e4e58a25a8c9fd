package relay

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgproto3/v2"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/pgwire"
	"github.com/tollgate-db/tollgate/schemas"
)

func TestTagRows(t *testing.T) {
	t.Parallel()
	for tag, want := range map[string]int64{
		"SELECT 5": 5, "INSERT 0 7": 7, "INSERT 16384 1": 1, "UPDATE 3": 3, "DELETE 0": 0, "MERGE 4": 4,
		"FETCH 10": 10, "MOVE 2": 2, "COPY 100": 100, "CREATE TABLE": 0, "BEGIN": 0, "SELECT": 0,
		"INSERT 0": 0, "CREATE TABLE 5": 0, "SELECT x": 0, "SELECT -1": 0, "": 0,
	} {
		require.Equal(t, want, tagRows(tag), tag)
	}
}

func sendAll(t *testing.T, fe *pgproto3.Frontend, msgs ...pgproto3.FrontendMessage) {
	t.Helper()
	for _, m := range msgs {
		require.NoError(t, fe.Send(m))
	}
}

func TestFunctionCallIsAudited(t *testing.T) {
	t.Parallel()
	pub := &memPub{}
	fe, _, done := startRelay(t, Strict, pub)
	recvUntilReady(t, fe)
	sendAll(t, fe, &pgproto3.FunctionCall{Function: 1598, ResultFormatCode: 0})
	msgs := recvUntilReady(t, fe)
	require.IsType(t, &pgproto3.FunctionCallResponse{}, msgs[0])
	sendAll(t, fe, &pgproto3.Terminate{})
	<-done
	qs := pub.byType(schemas.TypeQuery)
	require.Len(t, qs, 1)
	q := decode[schemas.Query](t, qs[0])
	require.Equal(t, schemas.QueryKindFunctionCall, q.Kind)
	require.Equal(t, "function oid 1598", q.Statement)
	rs := pub.byType(schemas.TypeQueryResult)
	require.Len(t, rs, 1)
	r := decode[schemas.QueryResult](t, rs[0])
	require.Equal(t, q.N, r.N)
	require.Equal(t, schemas.ResultOK, r.Status)
}

// A refused batch continuing an extended group an earlier batch opened
// (no Sync yet) must not hang: the agent ends the group with its own Sync.
func TestRefusalOfCarriedGroupDoesNotHang(t *testing.T) {
	t.Parallel()
	for _, syncInBatch := range []bool{true, false} {
		pub := &memPub{}
		fe, conn, done := startRelay(t, Strict, pub)
		recvUntilReady(t, fe)
		sendAll(t, fe, &pgproto3.Parse{Query: "select 1"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Flush{})
		for range 3 {
			_, err := fe.Receive()
			require.NoError(t, err)
		}
		pub.mu.Lock()
		pub.fail = true
		pub.mu.Unlock()
		if syncInBatch {
			var b []byte
			for _, m := range []pgproto3.FrontendMessage{&pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{}} {
				b, _ = m.Encode(b)
			}
			_, err := conn.Write(b)
			require.NoError(t, err)
		} else {
			sendAll(t, fe, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Flush{})
			sendAll(t, fe, &pgproto3.Sync{})
		}
		msgs := recvUntilReady(t, fe)
		if len(msgs) == 3 { // the Bind may arrive alone and be forwarded before the Execute is refused
			require.IsType(t, &pgproto3.BindComplete{}, msgs[0])
			msgs = msgs[1:]
		}
		require.Len(t, msgs, 2, "%v", msgs)
		require.Equal(t, pgwire.CodeAuditUnavailable, msgs[0].(*pgproto3.ErrorResponse).Code)
		pub.mu.Lock()
		pub.fail = false
		pub.mu.Unlock()
		sendAll(t, fe, &pgproto3.Query{String: "select 1"})
		msgs = recvUntilReady(t, fe)
		require.Equal(t, "SELECT 1", string(msgs[0].(*pgproto3.CommandComplete).CommandTag))
		sendAll(t, fe, &pgproto3.Terminate{})
		<-done
		// The refused query got a "not executed" result.
		var refused int
		for _, ev := range pub.byType(schemas.TypeQueryResult) {
			r := decode[schemas.QueryResult](t, ev)
			if r.SQLState == pgwire.CodeAuditUnavailable {
				require.Equal(t, schemas.ResultError, r.Status)
				refused++
			}
		}
		require.Equal(t, 1, refused)
	}
}

func TestPortalsDroppedWhenIdle(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		tx   byte
		kept bool
	}{{pgwire.TxInTx, true}, {pgwire.TxIdle, false}} {
		tr := newTracker("s")
		var out serverReply
		now := time.Now()
		parse, _ := (&pgproto3.Parse{Query: "select 1"}).Encode(nil)
		bind, _ := (&pgproto3.Bind{DestinationPortal: "p"}).Encode(nil)
		_, err := tr.client(pgwire.ClientParse, parse[5:])
		require.NoError(t, err)
		_, err = tr.client(pgwire.ClientBind, bind[5:])
		require.NoError(t, err)
		_, err = tr.client(pgwire.ClientSync, nil)
		require.NoError(t, err)
		tr.server(pgwire.ServerParseComplete, nil, now, &out)
		tr.server(pgwire.ServerBindComplete, nil, now, &out)
		tr.server(pgwire.ServerReadyForQuery, []byte{tc.tx}, now, &out)
		_, ok := tr.portals["p"]
		require.Equal(t, tc.kept, ok, "tx %c", tc.tx)
	}
}

// A batch refused because its event cannot be stored even fitted names
// the size bound, not an outage; both say why.
func TestRefusalTextsNameTheCause(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		err       error
		code, msg string
	}{
		{fmt.Errorf("append event: %w", eventlog.ErrTooLarge), pgwire.CodeProgramLimitExceeded, "larger than the audit event size bound"},
		{errors.New("spool full"), pgwire.CodeAuditUnavailable, "audit log unavailable"},
	} {
		e := refusalFor(tc.err)
		require.Equal(t, tc.code, e.Code)
		require.Contains(t, e.Message, tc.msg)
		require.Contains(t, e.Message, tc.err.Error())
		code, text := notExecutedFor(tc.err)
		require.Equal(t, tc.code, code)
		require.Contains(t, text, "not executed")
	}
}
