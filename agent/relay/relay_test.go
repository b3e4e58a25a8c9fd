package relay

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgproto3/v2"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/pgwire"
	"github.com/tollgate-db/tollgate/schemas"
)

// fakeServer is a tiny PostgreSQL backend for unit tests: it prepares,
// binds and executes by echoing, and fails any statement containing "boom".
// mustNew is New for the tests' fixed, valid configs (it may run on a
// goroutine of its own: it panics rather than fail the test).
func mustNew(cfg Config, client net.Conn, clientBR *bufio.Reader, server net.Conn) *Session {
	s, err := New(cfg, client, clientBR, server)
	if err != nil {
		panic(err)
	}
	return s
}

// TestNewRefusesBadConfig: a Mode that is neither Strict nor Async, or a
// negative MaxMessage, is an error naming it; MaxMessage 0 is the default.
func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		cfg   Config
		field string
	}{
		{Config{Mode: Async + 1}, "Mode"},
		{Config{Mode: -1}, "Mode"},
		{Config{MaxMessage: -1}, "MaxMessage"},
	} {
		_, err := New(tc.cfg, nil, bufio.NewReader(strings.NewReader("")), nil)
		require.ErrorContains(t, err, tc.field)
	}
	_, err := New(Config{Mode: Async}, nil, bufio.NewReader(strings.NewReader("")), nil)
	require.NoError(t, err)
}

func fakeServer(t testing.TB, conn net.Conn) {
	t.Helper()
	be := pgproto3.NewBackend(pgproto3.NewChunkReader(conn), conn)
	stmts := map[string]string{}
	portals := map[string]string{}
	failed := false
	send := func(msgs ...pgproto3.BackendMessage) {
		for _, m := range msgs {
			if err := be.Send(m); err != nil {
				return
			}
		}
	}
	send(&pgproto3.AuthenticationOk{}, &pgproto3.BackendKeyData{ProcessID: 42, SecretKey: 4242},
		&pgproto3.ReadyForQuery{TxStatus: 'I'})
	for {
		msg, err := be.Receive()
		if err != nil {
			return
		}
		if failed {
			if _, ok := msg.(*pgproto3.Sync); !ok {
				continue
			}
		}
		switch m := msg.(type) {
		case *pgproto3.Query:
			if m.String == "die" {
				conn.Close()
				return
			}
			if strings.Contains(m.String, "boom") {
				send(&pgproto3.ErrorResponse{Severity: "ERROR", Code: "42601", Message: "boom"})
			} else {
				send(&pgproto3.CommandComplete{CommandTag: []byte("SELECT 1")})
			}
			send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
		case *pgproto3.Parse:
			if strings.Contains(m.Query, "boom") {
				send(&pgproto3.ErrorResponse{Severity: "ERROR", Code: "42601", Message: "boom"})
				failed = true
				continue
			}
			stmts[m.Name] = m.Query
			send(&pgproto3.ParseComplete{})
		case *pgproto3.Bind:
			portals[m.DestinationPortal] = stmts[m.PreparedStatement]
			send(&pgproto3.BindComplete{})
		case *pgproto3.Execute:
			send(&pgproto3.CommandComplete{CommandTag: []byte("SELECT 2")})
		case *pgproto3.Sync:
			failed = false
			send(&pgproto3.ReadyForQuery{TxStatus: 'I'})
		case *pgproto3.FunctionCall:
			send(&pgproto3.FunctionCallResponse{Result: []byte("42")}, &pgproto3.ReadyForQuery{TxStatus: 'I'})
		case *pgproto3.Terminate:
			conn.Close() // as PostgreSQL does: the close races the relay's own end
			return
		}
	}
}

// memPub keeps what it takes; fail fails PublishSync (the log is down),
// and the next asyncFails calls of TryPublishAsync fail with asyncErr (the
// spool refuses).
type memPub struct {
	mu         sync.Mutex
	evs        []eventlog.Event
	fail       bool
	asyncErr   error
	asyncFails int
}

func (p *memPub) PublishSync(_ context.Context, evs []eventlog.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fail {
		return errors.New("log down")
	}
	p.evs = append(p.evs, evs...)
	return nil
}

func (p *memPub) TryPublishAsync(evs []eventlog.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.asyncFails > 0 {
		p.asyncFails--
		return p.asyncErr
	}
	p.evs = append(p.evs, evs...)
	return nil
}

func (p *memPub) byType(typ string) []eventlog.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []eventlog.Event
	for _, e := range p.evs {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func tcpPair(t testing.TB) (net.Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		ch <- c
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	b := <-ch
	require.NotNil(t, b)
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// startRelay returns the client's frontend and the publisher.
func startRelay(t *testing.T, mode Mode, pub *memPub) (*pgproto3.Frontend, net.Conn, chan Stats) {
	t.Helper()
	clientSide, agentClient := tcpPair(t)
	agentServer, serverSide := tcpPair(t)
	go fakeServer(t, serverSide)
	s := mustNew(Config{
		SessionID: "s1", Database: "db", User: "alice", Mode: mode,
		Builder: eventlog.NewBuilder("agent-1"), Publisher: pub,
		MapBackendKey: func(uint32, []byte) []byte { return []byte{0, 0, 0, 77} },
	}, agentClient, nil, agentServer)
	done := make(chan Stats, 1)
	go func() { done <- s.Run(context.Background()) }()
	fe := pgproto3.NewFrontend(pgproto3.NewChunkReader(bufio.NewReader(clientSide)), clientSide)
	return fe, clientSide, done
}

func recvUntilReady(t *testing.T, fe *pgproto3.Frontend) []pgproto3.BackendMessage {
	t.Helper()
	var out []pgproto3.BackendMessage
	for {
		m, err := fe.Receive()
		require.NoError(t, err)
		switch v := m.(type) {
		case *pgproto3.ErrorResponse:
			c := *v
			out = append(out, &c)
		case *pgproto3.BackendKeyData:
			c := *v
			out = append(out, &c)
		case *pgproto3.CommandComplete:
			out = append(out, &pgproto3.CommandComplete{CommandTag: append([]byte(nil), v.CommandTag...)})
		default:
			out = append(out, m)
		}
		if _, ok := m.(*pgproto3.ReadyForQuery); ok {
			return out
		}
	}
}

func decode[T any](t *testing.T, ev eventlog.Event) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(ev.Data, &v))
	return v
}

func TestRelayAuditsSimpleAndExtended(t *testing.T) {
	for _, mode := range []Mode{Strict, Async} {
		pub := &memPub{}
		fe, conn, done := startRelay(t, mode, pub)
		start := recvUntilReady(t, fe)
		require.Contains(t, start, &pgproto3.BackendKeyData{ProcessID: 42, SecretKey: 77}, "the server's pid, the agent's secret")

		require.NoError(t, fe.Send(&pgproto3.Query{String: "select 1; select 2"}))
		recvUntilReady(t, fe)
		// A pipelined batch: named statement reused, an unnamed one, a failure.
		for _, m := range []pgproto3.FrontendMessage{
			&pgproto3.Parse{Name: "s1", Query: "select $1"},
			&pgproto3.Bind{PreparedStatement: "s1", ParameterFormatCodes: []int16{0}, Parameters: [][]byte{[]byte("a")}},
			&pgproto3.Execute{},
			&pgproto3.Bind{DestinationPortal: "p", PreparedStatement: "s1", ParameterFormatCodes: []int16{1}, Parameters: [][]byte{{1, 2}}},
			&pgproto3.Execute{Portal: "p"},
			&pgproto3.Sync{},
			&pgproto3.Parse{Query: "select boom"},
			&pgproto3.Bind{Parameters: [][]byte{nil}},
			&pgproto3.Execute{},
			&pgproto3.Sync{},
			&pgproto3.Bind{PreparedStatement: "s1"},
			&pgproto3.Execute{},
			&pgproto3.Sync{},
		} {
			require.NoError(t, fe.Send(m))
		}
		recvUntilReady(t, fe)
		errs := recvUntilReady(t, fe)
		require.IsType(t, &pgproto3.ErrorResponse{}, errs[0])
		recvUntilReady(t, fe)
		require.NoError(t, fe.Send(&pgproto3.Terminate{}))
		st := <-done
		conn.Close()

		qs := pub.byType(schemas.TypeQuery)
		require.Len(t, qs, 5)
		q := make([]schemas.Query, len(qs))
		for i, e := range qs {
			q[i] = decode[schemas.Query](t, e)
			require.Equal(t, uint64(i+1), q[i].N)
			require.Equal(t, "tollgate.audit.db.alice.s1.query", e.Subject)
		}
		require.Equal(t, "select 1; select 2", q[0].Statement)
		require.Equal(t, schemas.Query{SessionID: "s1", N: 2, Kind: "extended", Statement: "select $1", StatementName: "s1",
			Params: []schemas.QueryParam{{Format: "text", Value: "a"}}}, q[1])
		require.Equal(t, []schemas.QueryParam{{Format: "binary", Value: "AQI="}}, q[2].Params)
		require.Equal(t, "p", q[2].Portal)
		require.Equal(t, "select boom", q[3].Statement)
		require.Equal(t, []schemas.QueryParam{{Format: "null"}}, q[3].Params)
		require.Equal(t, "select $1", q[4].Statement)

		rs := pub.byType(schemas.TypeQueryResult)
		require.Len(t, rs, 5)
		byN := map[uint64]schemas.QueryResult{}
		for _, e := range rs {
			r := decode[schemas.QueryResult](t, e)
			byN[r.N] = r
		}
		require.Equal(t, "SELECT 1", byN[1].CommandTag)
		require.Equal(t, int64(1), byN[1].Rows)
		require.Equal(t, schemas.ResultOK, byN[2].Status)
		require.Equal(t, schemas.ResultError, byN[4].Status, "%+v", byN)
		require.Equal(t, "42601", byN[4].SQLState)
		require.Equal(t, schemas.ResultOK, byN[5].Status)
		require.Equal(t, uint64(5), st.Queries)
		require.Positive(t, st.BytesIn)
		require.Positive(t, st.BytesOut)
	}
}

func TestStrictRefusesWhenLogDown(t *testing.T) {
	pub := &memPub{}
	fe, conn, done := startRelay(t, Strict, pub)
	recvUntilReady(t, fe)
	pub.mu.Lock()
	pub.fail = true
	pub.mu.Unlock()

	require.NoError(t, fe.Send(&pgproto3.Query{String: "delete from t"}))
	msgs := recvUntilReady(t, fe)
	require.Len(t, msgs, 2)
	require.Equal(t, "58000", msgs[0].(*pgproto3.ErrorResponse).Code)

	// Extended without Sync in the refused batch: discard until Sync.
	var batch []byte
	for _, m := range []pgproto3.FrontendMessage{&pgproto3.Parse{Query: "delete from t"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Flush{}} {
		var err error
		batch, err = m.Encode(batch)
		require.NoError(t, err)
	}
	_, err := conn.Write(batch)
	require.NoError(t, err)
	m, err := fe.Receive()
	require.NoError(t, err)
	require.Equal(t, "58000", m.(*pgproto3.ErrorResponse).Code)
	require.NoError(t, fe.Send(&pgproto3.Execute{}))
	require.NoError(t, fe.Send(&pgproto3.Sync{}))
	msgs = recvUntilReady(t, fe)
	require.Len(t, msgs, 1)

	// The log is back: the session is usable.
	pub.mu.Lock()
	pub.fail = false
	pub.mu.Unlock()
	require.NoError(t, fe.Send(&pgproto3.Query{String: "select 1"}))
	msgs = recvUntilReady(t, fe)
	require.Equal(t, "SELECT 1", string(msgs[0].(*pgproto3.CommandComplete).CommandTag))
	require.NoError(t, fe.Send(&pgproto3.Terminate{}))
	st := <-done
	require.Equal(t, uint64(1), st.Queries)
	require.Len(t, pub.byType(schemas.TypeQuery), 1)
	require.Equal(t, schemas.EndClient, st.Reason, "the client sent Terminate")
}

// TestAsyncRefusesWhenNotTaken: an async batch whose events the publisher
// does not take is refused with 58000 and the reason, is not forwarded, and
// is recorded with a "not executed" result once the publisher takes it.
func TestAsyncRefusesWhenNotTaken(t *testing.T) {
	pub := &memPub{}
	fe, _, done := startRelay(t, Async, pub)
	recvUntilReady(t, fe)
	pub.mu.Lock()
	// The batch, then its record: refused twice; the record of the
	// second refused batch is taken.
	pub.asyncErr, pub.asyncFails = errors.New("audit spool full"), 3
	pub.mu.Unlock()

	for _, q := range []string{"delete from t", "drop table t"} {
		require.NoError(t, fe.Send(&pgproto3.Query{String: q}))
		msgs := recvUntilReady(t, fe)
		require.Len(t, msgs, 2, "an error and ReadyForQuery, nothing from the server: %v", msgs)
		e := msgs[0].(*pgproto3.ErrorResponse)
		require.Equal(t, pgwire.CodeAuditUnavailable, e.Code)
		require.Equal(t, "audit log unavailable; query not executed: audit spool full", e.Message)
	}
	require.NoError(t, fe.Send(&pgproto3.Query{String: "select 1"}))
	msgs := recvUntilReady(t, fe)
	require.Equal(t, "SELECT 1", string(msgs[0].(*pgproto3.CommandComplete).CommandTag))
	require.NoError(t, fe.Send(&pgproto3.Terminate{}))
	st := <-done
	require.Equal(t, uint64(1), st.Queries, "refused queries are not counted")

	var stmts []string
	for _, ev := range pub.byType(schemas.TypeQuery) {
		stmts = append(stmts, decode[schemas.Query](t, ev).Statement)
	}
	require.Equal(t, []string{"drop table t", "select 1"}, stmts, "the refused query is recorded when the publisher takes it")
	var refused []schemas.QueryResult
	for _, ev := range pub.byType(schemas.TypeQueryResult) {
		if r := decode[schemas.QueryResult](t, ev); r.SQLState == pgwire.CodeAuditUnavailable {
			refused = append(refused, r)
		}
	}
	require.Len(t, refused, 1)
	require.Equal(t, uint64(2), refused[0].N)
	require.Equal(t, "not executed: audit log unavailable: audit spool full", refused[0].Error)
}

func TestEndReason(t *testing.T) {
	for i := 0; i < 20; i++ { // the server's close races the relay's end
		fe, _, done := startRelay(t, Strict, &memPub{})
		recvUntilReady(t, fe)
		require.NoError(t, fe.Send(&pgproto3.Terminate{}))
		require.Equal(t, schemas.EndClient, (<-done).Reason)
	}
	fe, _, done := startRelay(t, Strict, &memPub{})
	recvUntilReady(t, fe)
	require.NoError(t, fe.Send(&pgproto3.Query{String: "die"}))
	require.Equal(t, schemas.EndServer, (<-done).Reason)
}

func TestEncodeMatchesJSON(t *testing.T) {
	t.Parallel()
	q := schemas.Query{SessionID: "s", N: 3, Kind: "extended", Statement: "select '<\x00>&\"\\\n\t\u2028é\xff'",
		StatementName: "n", Portal: "p", Params: []schemas.QueryParam{{Format: "null"}, {Format: "text", Value: "x", SHA256: "cd"}},
		Truncated: true, SHA256: "ab", ParamsOmitted: 3, ParamsSHA256: "ef", PreparedBy: 2, AccessRequest: "01JQ9A"}
	want, err := json.Marshal(q)
	require.NoError(t, err)
	require.Equal(t, string(want), string(appendQueryJSON(nil, &q)))
	r := schemas.QueryResult{SessionID: "s", N: 1, Status: "error", SQLState: "42601", Error: "bad \x01", DurationUS: 5, Truncated: true}
	want, err = json.Marshal(r)
	require.NoError(t, err)
	require.Equal(t, string(want), string(appendResultJSON(nil, &r)))
}

// TestOversizeQueryIsFitted: a query event over the budget (a 100 KiB
// statement name, a huge statement and parameter) is fitted, flagged and
// hashed, never dropped.
func TestOversizeQueryIsFitted(t *testing.T) {
	t.Parallel()
	s := mustNew(Config{SessionID: "s", Database: "db", User: "alice", Builder: eventlog.NewBuilder("agent-1")}, nil, bufio.NewReader(strings.NewReader("")), nil)
	q := schemas.Query{SessionID: "s", N: 1, Kind: "extended", Statement: strings.Repeat("\x01é", 40000),
		StatementName: strings.Repeat("n", 100<<10), Params: []schemas.QueryParam{{Format: "text", Value: strings.Repeat("v", 100000)}}}
	ev := s.queryEvent(&q)
	require.LessOrEqual(t, len(ev.Data), maxQueryData)
	got := decode[schemas.Query](t, ev)
	require.True(t, got.Truncated)
	require.Len(t, got.SHA256, 64)
	require.True(t, strings.HasPrefix(q.Statement, got.Statement))
	require.True(t, strings.HasPrefix(q.StatementName, got.StatementName))
	require.Len(t, got.Params[0].SHA256, 64)
}
