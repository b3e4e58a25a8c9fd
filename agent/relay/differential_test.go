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
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgproto3/v2"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/pgtest"
	"github.com/tollgate-db/tollgate/schemas"
)

// The differential test: message sequences run through the relay against
// a real PostgreSQL with log_statement=all, then the server's log is
// compared, statement by statement, with the `query` events. The server's
// log is the ground truth of what ran.

// diffServer is a PostgreSQL for the differential test.
type diffServer struct {
	pg *pgtest.Server
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
	s := New(Config{SessionID: "d", Database: "db", User: "u", Mode: mode,
		Builder: eventlog.NewBuilder("agent-d"), Publisher: pub}, agentClient, nil, server)
	done := make(chan Stats, 1)
	go func() { done <- s.Run(context.Background()) }()
	_ = clientSide.SetDeadline(time.Now().Add(30 * time.Second))
	fe := pgproto3.NewFrontend(pgproto3.NewChunkReader(bufio.NewReader(clientSide)), clientSide)
	pid, err := readStartup(fe)
	if err != nil {
		return nil, nil, err
	}
	// The sequence, then a marker Query: the server answers it last, so
	// its reply ends the sequence's replies however many ReadyForQuery the
	// server sent (a Query in a failed extended group gets none).
	var buf []byte
	for _, m := range msgs {
		buf, _ = m.Encode(buf)
	}
	buf, _ = (&pgproto3.Query{String: endMarker}).Encode(buf)
	if _, err := clientSide.Write(buf); err != nil {
		return nil, nil, err
	}
	for marker := false; ; {
		m, err := fe.Receive()
		if err != nil {
			return nil, nil, fmt.Errorf("read the replies: %w", err)
		}
		if d, ok := m.(*pgproto3.DataRow); ok && len(d.Values) == 1 && string(d.Values[0]) == "tollgate-diff-end" {
			marker = true
		}
		if _, ok := m.(*pgproto3.ReadyForQuery); ok && marker {
			break
		}
	}
	term, _ := (&pgproto3.Terminate{}).Encode(nil)
	_, _ = clientSide.Write(term)
	<-done
	logged = d.logged(pid)
	evs = pub.all()
	if len(logged) == 0 || logged[len(logged)-1] != endMarker {
		return nil, nil, fmt.Errorf("the server did not log the end marker last: %q", logged)
	}
	// The marker is the session's last query: drop its two events.
	last := uint64(0)
	for _, ev := range evs {
		if n, ok := queryN(ev.Data); ok && n > last {
			last = n
		}
	}
	kept := evs[:0]
	for _, ev := range evs {
		if n, ok := queryN(ev.Data); !ok || n != last {
			kept = append(kept, ev)
		}
	}
	return logged[:len(logged)-1], kept, nil
}

const endMarker = "rollback; select 'tollgate-diff-end'"

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

// logged returns the statements the backend pid logged: simple queries
// ("statement: …") and executes ("execute name: …", "execute fetch from
// name/portal: …"), in order.
func (d *diffServer) logged(pid uint32) []string {
	raw, _ := os.ReadFile(d.pg.LogFile())
	prefix := "[" + strconv.FormatUint(uint64(pid), 10) + "] LOG:  "
	var out []string
	for _, line := range strings.Split(string(raw), "\n") {
		rest, ok := strings.CutPrefix(line, prefix)
		if !ok {
			continue
		}
		if text, ok := strings.CutPrefix(rest, "statement: "); ok {
			out = append(out, text)
		} else if strings.HasPrefix(rest, "execute ") {
			if i := strings.Index(rest, ": "); i > 0 {
				out = append(out, rest[i+2:])
			}
		}
	}
	return out
}

func (p *memPub) all() []eventlog.Event {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]eventlog.Event(nil), p.evs...)
}

// compare matches the server's log with the query events, in order: each
// logged statement must be the next query event's text; a query event
// with no log line must have failed without running (its result is an
// error). It returns "" when they agree.
func compare(logged []string, evs []eventlog.Event) string {
	var qs []schemas.Query
	results := map[uint64]schemas.QueryResult{}
	for _, ev := range evs {
		switch ev.Type {
		case schemas.TypeQuery:
			v, err := schemas.Decode(ev)
			if err != nil {
				return "undecodable query event: " + err.Error()
			}
			qs = append(qs, *v.(*schemas.Query))
		case schemas.TypeQueryResult:
			v, err := schemas.Decode(ev)
			if err != nil {
				return "undecodable result event: " + err.Error()
			}
			r := *v.(*schemas.QueryResult)
			if _, dup := results[r.N]; dup {
				return fmt.Sprintf("query %d has two results", r.N)
			}
			results[r.N] = r
		}
	}
	sort.Slice(qs, func(i, j int) bool { return qs[i].N < qs[j].N })
	for _, q := range qs {
		if _, ok := results[q.N]; !ok {
			return fmt.Sprintf("query %d (%q) has no result", q.N, q.Statement)
		}
	}
	// Does some choice of the failed queries (each may or may not have
	// been logged before it failed) make the queries' texts the log?
	memo := map[[2]int]bool{}
	var match func(i, j int) bool
	match = func(i, j int) bool {
		if i == len(qs) {
			return j == len(logged)
		}
		key := [2]int{i, j}
		if v, ok := memo[key]; ok {
			return v
		}
		q, r := qs[i], results[qs[i].N]
		same := j < len(logged) && logged[j] == q.Statement
		var v bool
		switch {
		case r.Status == StatusError && r.Error == notExecuted:
			v = match(i+1, j) // skipped: no log line may be taken for it
		case r.Status == StatusError:
			v = match(i+1, j) || (same && match(i+1, j+1))
		default:
			v = same && match(i+1, j+1)
		}
		memo[key] = v
		return v
	}
	if match(0, 0) {
		return ""
	}
	return fmt.Sprintf("no alignment of the query events with the server's log:\n  audit:  %s\n  server: %q", auditLines(qs, results), logged)
}

func auditLines(qs []schemas.Query, results map[uint64]schemas.QueryResult) string {
	var b strings.Builder
	for _, q := range qs {
		r := results[q.N]
		fmt.Fprintf(&b, "\n    %d %q → %s %s%s", q.N, q.Statement, r.Status, r.CommandTag, r.SQLState)
	}
	return b.String()
}

// check runs msgs and returns the mismatch, or "".
func (d *diffServer) check(t testing.TB, mode Mode, msgs []pgproto3.FrontendMessage) string {
	logged, evs, err := d.run(t, mode, msgs)
	if err != nil {
		return "run: " + err.Error()
	}
	return compare(logged, evs)
}

// shrink removes messages one at a time while the mismatch remains, and
// returns the smallest sequence found and its mismatch.
func (d *diffServer) shrink(t testing.TB, mode Mode, msgs []pgproto3.FrontendMessage, why string) ([]pgproto3.FrontendMessage, string) {
	for progress := true; progress; {
		progress = false
		for i := 0; i < len(msgs); i++ {
			cand := append(append([]pgproto3.FrontendMessage(nil), msgs[:i]...), msgs[i+1:]...)
			if len(cand) == 0 || !isSync(cand[len(cand)-1]) {
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
		modeName(mode), minWhy, len(min), len(msgs), describe(min))
}

// The sequences the issue reported: each made the audit record another
// statement than the one that ran.
func TestAuditRecordsWhatTheServerRan(t *testing.T) {
	d := startDiffServer(t)
	other := "select 'OTHER' as evil"
	cases := map[string][]pgproto3.FrontendMessage{
		"re-parse after SQL DEALLOCATE": {
			&pgproto3.Parse{Name: "s1", Query: "select 'INNOCENT'"}, &pgproto3.Sync{},
			&pgproto3.Query{String: "DEALLOCATE s1"},
			&pgproto3.Parse{Name: "s1", Query: other}, &pgproto3.Bind{PreparedStatement: "s1"}, &pgproto3.Execute{}, &pgproto3.Sync{},
		},
		"re-parse after DISCARD ALL": {
			&pgproto3.Parse{Name: "s1", Query: "select 'INNOCENT'"}, &pgproto3.Sync{},
			&pgproto3.Query{String: "DISCARD ALL"},
			&pgproto3.Parse{Name: "s1", Query: other}, &pgproto3.Bind{PreparedStatement: "s1"}, &pgproto3.Execute{}, &pgproto3.Sync{},
		},
		"names past 63 bytes are one name": {
			&pgproto3.Parse{Name: long + "x", Query: "select 'INNOCENT'"}, &pgproto3.Sync{},
			&pgproto3.Close{ObjectType: 'S', Name: long + "z"}, &pgproto3.Sync{},
			&pgproto3.Parse{Name: long + "w", Query: other}, &pgproto3.Sync{},
			&pgproto3.Bind{PreparedStatement: long + "x"}, &pgproto3.Execute{}, &pgproto3.Sync{},
		},
		"portal re-bound after SQL CLOSE in a transaction": {
			&pgproto3.Query{String: "begin"},
			&pgproto3.Parse{Name: "a", Query: "select 'INNOCENT'"}, &pgproto3.Parse{Name: "b", Query: other}, &pgproto3.Sync{},
			&pgproto3.Bind{DestinationPortal: "p", PreparedStatement: "a"}, &pgproto3.Sync{},
			&pgproto3.Query{String: "CLOSE p"},
			&pgproto3.Bind{DestinationPortal: "p", PreparedStatement: "b"}, &pgproto3.Execute{Portal: "p"}, &pgproto3.Sync{},
			&pgproto3.Query{String: "commit"},
		},
		"statement made by SQL PREPARE": {
			&pgproto3.Query{String: "PREPARE s2 AS " + other},
			&pgproto3.Bind{PreparedStatement: "s2"}, &pgproto3.Execute{}, &pgproto3.Sync{},
		},
		"cursor made by SQL DECLARE": {
			&pgproto3.Query{String: "begin; DECLARE c CURSOR FOR " + other},
			&pgproto3.Execute{Portal: "c"}, &pgproto3.Sync{},
			&pgproto3.Query{String: "commit"},
		},
		"pipelined without waiting": {
			&pgproto3.Parse{Name: "s1", Query: "select 'INNOCENT'"}, &pgproto3.Sync{},
			&pgproto3.Query{String: "DEALLOCATE s1"},
			&pgproto3.Parse{Name: "s1", Query: other}, &pgproto3.Sync{},
			&pgproto3.Bind{PreparedStatement: "s1"}, &pgproto3.Execute{}, &pgproto3.Sync{},
		},
	}
	for name, msgs := range cases {
		for _, mode := range []Mode{Strict, Async} {
			t.Run(name+"/"+modeName(mode), func(t *testing.T) {
				logged, evs, err := d.run(t, mode, msgs)
				require.NoError(t, err)
				require.Empty(t, compare(logged, evs), "sequence:\n%s", describe(msgs))
				if strings.Contains(strings.Join(logged, "\n"), other) {
					var texts []string
					for _, ev := range evs {
						if ev.Type == schemas.TypeQuery {
							v, err := schemas.Decode(ev)
							require.NoError(t, err)
							texts = append(texts, v.(*schemas.Query).Statement)
						}
					}
					require.Contains(t, strings.Join(texts, "\n"), other, "the text that ran is on record")
				}
			})
		}
	}
}

// diffCases is how many random sequences the bounded run tries; the
// fuzzer (FuzzAuditMatchesServer) goes on from there.
const diffCases = 300

func TestAuditMatchesServerRandomSequences(t *testing.T) {
	d := startDiffServer(t)
	for i := range diffCases {
		seed := int64(1000 + i)
		msgs := genSequence(rand.New(rand.NewSource(seed)), 24)
		mode := Mode(i % 2)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { d.diffCheck(t, mode, msgs) })
	}
}

func FuzzAuditMatchesServer(f *testing.F) {
	d := startDiffServer(f)
	f.Add([]byte{0, 3, 5, 11})
	f.Fuzz(func(t *testing.T, in []byte) {
		c := &byteChooser{b: in}
		mode := Mode(c.Intn(2))
		d.diffCheck(t, mode, genSequence(c, 24))
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
				require.Equal(t, StatusOK, v.(*schemas.QueryResult).Status)
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
