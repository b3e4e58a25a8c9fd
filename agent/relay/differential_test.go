package relay

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand"
	"net"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgproto3/v2"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/relay/difftest"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/pgtest"
	"github.com/tollgate-db/tollgate/policy"
	"github.com/tollgate-db/tollgate/policy/sqlfacts"
	"github.com/tollgate-db/tollgate/schemas"
)

// The differential test: message sequences run through the relay against
// a real PostgreSQL with log_statement=all, then the server's log is
// compared, statement by statement, with the `query` events. The server's
// log is the ground truth of what ran.

// diffServer is a PostgreSQL for the differential test.
type diffServer struct {
	pg *pgtest.Server
	// judge, when set, judges the sessions' queries (statement rules).
	judge Judge
	// errs are the errors the client got in the last run (code: message).
	errs []string
}

func startDiffServer(t testing.TB) *diffServer {
	t.Helper()
	pg := pgtest.Start(t, pgtest.Config{Settings: map[string]string{
		"log_statement": "all", "log_line_prefix": "[%p] ", "log_parameter_max_length": "0",
	}})
	return &diffServer{pg: pg}
}

// run sends msgs, pipelined in one write, through a relay session in mode
// and returns the session's query texts as the server logged them and the
// audit events.
func (d *diffServer) run(t testing.TB, mode Mode, msgs []pgproto3.FrontendMessage) (logged []string, evs []eventlog.Event, err error) {
	server, err := net.Dial("tcp", d.pg.Addr())
	if err != nil {
		return nil, nil, err
	}
	startup, _ := (&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": pgtest.Superuser, "database": "postgres"}}).Encode(nil)
	if _, err := server.Write(startup); err != nil {
		return nil, nil, err
	}
	clientSide, agentClient := tcpPair(t)
	pub := &memPub{}
	s := mustNew(Config{SessionID: "d", Database: "db", User: "u", Mode: mode,
		Builder: eventlog.NewBuilder("agent-d"), Publisher: pub, Judge: d.judge}, agentClient, nil, server)
	done := make(chan Stats, 1)
	go func() { done <- s.Run(context.Background()) }()
	_ = clientSide.SetDeadline(time.Now().Add(30 * time.Second))
	fe := pgproto3.NewFrontend(pgproto3.NewChunkReader(bufio.NewReader(clientSide)), clientSide)
	pid, err := readStartup(fe)
	if err != nil {
		return nil, nil, err
	}
	d.errs = nil
	if _, err := clientSide.Write(difftest.Encode(msgs)); err != nil {
		return nil, nil, err
	}
	for marker := false; ; {
		m, err := fe.Receive()
		if err != nil {
			return nil, nil, fmt.Errorf("read the replies: %w", err)
		}
		if d, ok := m.(*pgproto3.DataRow); ok && len(d.Values) == 1 && string(d.Values[0]) == difftest.EndValue {
			marker = true
		}
		if e, ok := m.(*pgproto3.ErrorResponse); ok {
			d.errs = append(d.errs, e.Code+": "+e.Message)
		}
		if _, ok := m.(*pgproto3.ReadyForQuery); ok && marker {
			break
		}
	}
	term, _ := (&pgproto3.Terminate{}).Encode(nil)
	_, _ = clientSide.Write(term)
	<-done
	return difftest.WithoutMarker(d.logged(pid), pub.all())
}

func readStartup(fe *pgproto3.Frontend) (uint32, error) {
	var pid uint32
	for {
		m, err := fe.Receive()
		if err != nil {
			return 0, fmt.Errorf("startup: %w", err)
		}
		switch v := m.(type) {
		case *pgproto3.BackendKeyData:
			pid = v.ProcessID
		case *pgproto3.ErrorResponse:
			return 0, fmt.Errorf("startup: %s", v.Message)
		case *pgproto3.ReadyForQuery:
			return pid, nil
		}
	}
}

// logged returns the statements the backend pid logged.
func (d *diffServer) logged(pid uint32) []string {
	raw, _ := os.ReadFile(d.pg.LogFile())
	return difftest.Logged(string(raw), "["+strconv.FormatUint(uint64(pid), 10)+"] LOG:  ")
}

func (p *memPub) all() []eventlog.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]eventlog.Event(nil), p.evs...)
}

// check runs msgs and returns the mismatch, or "".
func (d *diffServer) check(t testing.TB, mode Mode, msgs []pgproto3.FrontendMessage) string {
	logged, evs, err := d.run(t, mode, msgs)
	if err != nil {
		return "run: " + err.Error()
	}
	return difftest.Compare(logged, evs)
}

// shrink removes messages one at a time while the mismatch remains, and
// returns the smallest sequence found and its mismatch.
func (d *diffServer) shrink(t testing.TB, mode Mode, msgs []pgproto3.FrontendMessage, why string) ([]pgproto3.FrontendMessage, string) {
	for progress := true; progress; {
		progress = false
		for i := 0; i < len(msgs); i++ {
			cand := append(append([]pgproto3.FrontendMessage(nil), msgs[:i]...), msgs[i+1:]...)
			if len(cand) == 0 || !difftest.IsSync(cand[len(cand)-1]) {
				continue
			}
			if w := d.check(t, mode, cand); w != "" {
				msgs, why, progress = cand, w, true
				i--
			}
		}
	}
	return msgs, why
}

func modeName(m Mode) string {
	if m == Strict {
		return "strict"
	}
	return "async"
}

// diffCheck fails t with the minimal sequence if msgs disagree.
func (d *diffServer) diffCheck(t testing.TB, mode Mode, msgs []pgproto3.FrontendMessage) {
	t.Helper()
	why := d.check(t, mode, msgs)
	if why == "" {
		return
	}
	min, minWhy := d.shrink(t, mode, msgs, why)
	t.Fatalf("%s mode: the audit disagrees with the server: %s\nminimal sequence (%d of %d messages):\n%s",
		modeName(mode), minWhy, len(min), len(msgs), difftest.Describe(min))
}

// The sequences the issue reported: each made the audit record another
// statement than the one that ran. (agent/gateway runs them through a
// whole agent too.)
func TestAuditRecordsWhatTheServerRan(t *testing.T) {
	d := startDiffServer(t)
	for name, msgs := range difftest.Attacks() {
		for _, mode := range []Mode{Strict, Async} {
			t.Run(name+"/"+modeName(mode), func(t *testing.T) {
				logged, evs, err := d.run(t, mode, msgs)
				require.NoError(t, err)
				require.Empty(t, difftest.Compare(logged, evs), "sequence:\n%s", difftest.Describe(msgs))
				requireOtherOnRecord(t, logged, evs)
			})
		}
	}
}

// requireOtherOnRecord: when the server ran the attack's statement, the
// audit has it.
func requireOtherOnRecord(t *testing.T, logged []string, evs []eventlog.Event) {
	t.Helper()
	if !strings.Contains(strings.Join(logged, "\n"), difftest.Other) {
		return
	}
	var texts []string
	for _, ev := range evs {
		if ev.Type == schemas.TypeQuery {
			v, err := schemas.Decode(ev)
			require.NoError(t, err)
			texts = append(texts, v.(*schemas.Query).Statement)
		}
	}
	require.Contains(t, strings.Join(texts, "\n"), difftest.Other, "the text that ran is on record")
}

// diffCases is how many random sequences the bounded run tries; the
// fuzzer (FuzzAuditMatchesServer) goes on from there.
const diffCases = 300

func TestAuditMatchesServerRandomSequences(t *testing.T) {
	d := startDiffServer(t)
	for i := range diffCases {
		seed := int64(1000 + i)
		msgs := difftest.Sequence(rand.New(rand.NewSource(seed)), 24)
		mode := Mode(i % 2)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { d.diffCheck(t, mode, msgs) })
	}
}

// TestAuditMatchesServerWithStatementRules: the random sequences again,
// with rules that refuse some of their statements (every call of
// generate_series, so plain selects, DECLAREs and PREPAREs of them; every
// DISCARD; the text the parser cannot read). A refused query never runs —
// its result is "not executed" and the server's log has no line for it —
// and everything around it still agrees with the server, pipelines and
// transactions included.
func TestAuditMatchesServerWithStatementRules(t *testing.T) {
	d := startDiffServer(t)
	set, err := policy.NewSet([]schemas.Role{{Name: "r", Spec: schemas.RoleSpec{Deny: schemas.RoleConditions{DBStatements: []schemas.StatementRule{
		{Name: "no-series", Functions: []string{"generate_series"}},
		{Name: "no-discard", Statements: []string{"discard"}},
	}}}}}, nil)
	require.NoError(t, err)
	j := &setJudge{set: set, facts: sqlfacts.NewCache(1024, 1<<20)}
	d.judge = j
	for i := range diffCases / 2 {
		seed := int64(5000 + i)
		msgs := difftest.Sequence(rand.New(rand.NewSource(seed)), 24)
		mode := Mode(i % 2)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { d.diffCheck(t, mode, msgs) })
	}
	require.Positive(t, j.denied.Load(), "the rules refused statements")
}

// setJudge is a Judge over one fixed Set.
type setJudge struct {
	set    *policy.Set
	facts  *sqlfacts.Cache
	denied atomic.Int64
}

var _ Judge = (*setJudge)(nil)

func (j *setJudge) Judging() bool                   { return true }
func (j *setJudge) Facts(text string) *policy.Facts { return j.facts.Facts(text) }
func (j *setJudge) Verdict(f *policy.Facts, r policy.Resolver) policy.Verdict {
	v := j.set.Judge(f, r)
	if v.Deny != nil {
		j.denied.Add(1)
	}
	return v
}

func FuzzAuditMatchesServer(f *testing.F) {
	d := startDiffServer(f)
	f.Add([]byte{0, 3, 5, 11})
	f.Fuzz(func(t *testing.T, in []byte) {
		c := &difftest.ByteChooser{B: in}
		mode := Mode(c.Intn(2))
		d.diffCheck(t, mode, difftest.Sequence(c, 24))
	})
}

// Texts over bigText are kept cut, with the SHA-256 of the whole: the
// record still names exactly what ran, and a session holds little.
func TestBigTextsKeptCutWithTheirHash(t *testing.T) {
	d := startDiffServer(t)
	text := "select length('" + strings.Repeat("y", 2<<20) + "') /* big */"
	sum := sha256.Sum256([]byte(text))
	for _, mode := range []Mode{Strict, Async} {
		_, evs, err := d.run(t, mode, []pgproto3.FrontendMessage{
			&pgproto3.Query{String: text},
			&pgproto3.Parse{Name: "big", Query: text}, &pgproto3.Bind{PreparedStatement: "big"}, &pgproto3.Execute{}, &pgproto3.Sync{},
		})
		require.NoError(t, err)
		var qs []*schemas.Query
		for _, ev := range evs {
			require.LessOrEqual(t, len(ev.Data), maxQueryData)
			if ev.Type == schemas.TypeQuery {
				v, err := schemas.Decode(ev)
				require.NoError(t, err)
				qs = append(qs, v.(*schemas.Query))
			} else if ev.Type == schemas.TypeQueryResult {
				v, err := schemas.Decode(ev)
				require.NoError(t, err)
				require.Equal(t, schemas.ResultOK, v.(*schemas.QueryResult).Status)
			}
		}
		require.Len(t, qs, 2)
		for _, q := range qs {
			require.True(t, q.Truncated)
			require.Equal(t, hex.EncodeToString(sum[:]), q.SHA256, "the hash of the whole text")
			require.True(t, strings.HasPrefix(text, q.Statement))
			require.LessOrEqual(t, len(q.Statement), keptCut)
		}
	}
}

// A statement the server made on its own (inside a DO block: no tag, no
// text the agent saw) is refused at Bind: the poison Bind fails in its
// place, the client is told why, and nothing of it runs.
func TestHiddenStatementIsRefused(t *testing.T) {
	d := startDiffServer(t)
	hidden := "DO $$ BEGIN EXECUTE 'PREPARE hid AS SELECT ''HIDDEN''::text'; END $$"
	for _, mode := range []Mode{Strict, Async} {
		msgs := []pgproto3.FrontendMessage{
			&pgproto3.Query{String: hidden},
			&pgproto3.Bind{PreparedStatement: "hid"}, &pgproto3.Execute{}, &pgproto3.Sync{},
			&pgproto3.Query{String: "DEALLOCATE hid"},
		}
		logged, evs, err := d.run(t, mode, msgs)
		require.NoError(t, err)
		require.Empty(t, difftest.Compare(logged, evs), "sequence:\n%s", difftest.Describe(msgs))
		// Run, it would be logged as "execute hid: <its text>".
		require.NotContains(t, logged, "PREPARE hid AS SELECT 'HIDDEN'::text", "the hidden statement never ran")
		require.Len(t, logged, 2, "the DO block and the DEALLOCATE: %q", logged)
		var refused int
		for _, ev := range evs {
			if ev.Type == schemas.TypeQuery {
				v, err := schemas.Decode(ev)
				require.NoError(t, err)
				require.NotEqual(t, "hid", v.(*schemas.Query).StatementName, "no Execute of it is recorded as run")
			}
			if ev.Type == schemas.TypeQueryResult {
				v, err := schemas.Decode(ev)
				require.NoError(t, err)
				if v.(*schemas.QueryResult).Status == schemas.ResultError {
					refused++
				}
			}
		}
		require.Zero(t, refused, "the refused Bind records no query: nothing ran")
		require.Equal(t, []string{`26000: tollgate: prepared statement "hid" is not known to the audit`}, d.errs,
			"the client is told why (the server's own error for the poison is replaced)")
	}
}

// TestFunctionCallWithNullArgument: a fast-path call with a NULL argument
// runs as it does directly, is recorded with the NULL, and the session
// goes on. (quote_nullable is not strict: a NULL in, the text NULL out.)
func TestFunctionCallWithNullArgument(t *testing.T) {
	d := startDiffServer(t)
	ctx := context.Background()
	conn, err := d.pg.Connect(ctx)
	require.NoError(t, err)
	var oid uint32
	require.NoError(t, conn.QueryRow(ctx, "SELECT 'quote_nullable(text)'::regprocedure::oid").Scan(&oid))
	require.NoError(t, conn.Close(ctx))
	for _, mode := range []Mode{Strict, Async} {
		msgs := []pgproto3.FrontendMessage{
			&pgproto3.FunctionCall{Function: oid, Arguments: [][]byte{nil}},
			&pgproto3.FunctionCall{Function: oid, Arguments: [][]byte{[]byte("four")}},
			&pgproto3.Query{String: "SELECT 'after'"},
		}
		logged, evs, err := d.run(t, mode, msgs)
		require.NoError(t, err)
		require.Empty(t, d.errs, "no error: the calls ran")
		require.Contains(t, logged, "SELECT 'after'", "the session went on after the calls")
		var params [][]schemas.QueryParam
		for _, ev := range evs {
			if ev.Type != schemas.TypeQuery {
				continue
			}
			v, err := schemas.Decode(ev)
			require.NoError(t, err)
			if q := v.(*schemas.Query); q.Kind == schemas.QueryKindFunctionCall {
				params = append(params, q.Params)
			}
		}
		require.Equal(t, [][]schemas.QueryParam{
			{{Format: "null"}},
			{{Format: "text", Value: "four"}},
		}, params, modeName(mode))
	}
}
