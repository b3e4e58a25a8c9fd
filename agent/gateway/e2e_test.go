package gateway_test

import (
	"context"
	"github.com/tollgate-db/tollgate/internal/inprocess"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/gateway"
	"github.com/tollgate-db/tollgate/eventlog"

	"github.com/tollgate-db/tollgate/schemas"
)

// statementsInPGLog returns the statements PostgreSQL logged for dbUser
// (log_statement=all with log_line_prefix "[%u] "): simple queries and
// extended executes.
func (h *harness) statementsInPGLog(dbUser string) []string {
	var out []string
	for _, line := range strings.Split(h.pg.LogContents(), "\n") {
		p := "[" + dbUser + "] LOG:  "
		if !strings.HasPrefix(line, p) {
			continue
		}
		rest := line[len(p):]
		switch {
		case strings.HasPrefix(rest, "statement: "):
			out = append(out, strings.TrimPrefix(rest, "statement: "))
		case strings.HasPrefix(rest, "execute "):
			if i := strings.Index(rest, ": "); i > 0 {
				out = append(out, rest[i+2:])
			}
		}
	}
	return out
}

// queriesOf returns the statements of the `query` events of user's
// sessions, and checks each has exactly one query.result.
func (h *harness) queriesOf(t *testing.T, name string) []string {
	var out []string
	results := map[string]int{}
	for _, ev := range h.events(schemas.TypeQueryResult) {
		r := decode[schemas.QueryResult](t, ev)
		results[r.SessionID+"/"+itoa(r.N)]++
	}
	for _, ev := range h.events(schemas.TypeQuery) {
		if ev.Actor != name {
			continue
		}
		q := decode[schemas.Query](t, ev)
		require.Equal(t, 1, results[q.SessionID+"/"+itoa(q.N)], "query %d of %s (%q) must have exactly one query.result", q.N, q.SessionID, q.Statement)
		out = append(out, q.Statement)
	}
	return out
}

func itoa(n uint64) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b []byte
	for n > 0 {
		b = append([]byte{digits[n%10]}, b...)
		n /= 10
	}
	return string(b)
}

func TestGateway(t *testing.T) {
	h := newHarness(t)
	h.addUser("alice", []string{"access"}, []string{"alice"})
	alice := h.dbCert("alice", "roach", time.Hour)

	t.Run("psql simple queries, transaction, error, copy", func(t *testing.T) {
		cmd := h.psql(alice, "alice", "postgres",
			"-c", "create table t1(a int, b text)",
			"-c", "insert into t1 values (1, 'one'), (2, 'two')",
			"-c", "begin; insert into t1 values (3, 'three'); commit;",
			"-c", "select * from no_such_table",
			"-c", `\copy t1 from stdin`,
			"-c", `\copy t1 to stdout`,
			"-c", "select count(*) as n from t1")
		cmd.Stdin = strings.NewReader("4\tfour\n5\tfive\n\\.\n")
		out, err := cmd.CombinedOutput()
		require.NoError(t, err, string(out))
		s := string(out)
		require.Contains(t, s, `relation "no_such_table" does not exist`)
		require.Contains(t, s, "5\tfive")
		require.Contains(t, s, " 5\n", "count after copy in: %s", s)
	})

	t.Run("pgx extended queries, prepared statement reuse, 100 MB result, LISTEN/NOTIFY", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, h.connString(alice, "alice", "postgres"))
		require.NoError(t, err)
		defer c.Close(ctx)
		var n int
		require.NoError(t, c.QueryRow(ctx, "select $1::int + 1", 41).Scan(&n))
		require.Equal(t, 42, n)
		_, err = c.Prepare(ctx, "ins", "insert into t1 values ($1, $2)")
		require.NoError(t, err)
		for i := 10; i < 13; i++ {
			_, err = c.Exec(ctx, "ins", i, "prepared")
			require.NoError(t, err)
		}
		_, err = c.Exec(ctx, "select 1/0")
		var pgErr *pgconn.PgError
		require.ErrorAs(t, err, &pgErr)
		require.Equal(t, "22012", pgErr.Code)
		tx, err := c.Begin(ctx)
		require.NoError(t, err)
		_, err = tx.Exec(ctx, "insert into t1 values (99, 'rolled back')")
		require.NoError(t, err)
		require.NoError(t, tx.Rollback(ctx))
		require.NoError(t, c.QueryRow(ctx, "select count(*) from t1 where b = $1", "prepared").Scan(&n))
		require.Equal(t, 3, n)

		// 100 MB through the relay.
		rows, err := c.Query(ctx, "select repeat('x', 1000) from generate_series(1, 100000)")
		require.NoError(t, err)
		total := 0
		for rows.Next() {
			total += len(rows.RawValues()[0])
		}
		require.NoError(t, rows.Err())
		require.Equal(t, 100_000_000, total)

		// LISTEN/NOTIFY between two sessions through the agent.
		c2, err := pgx.Connect(ctx, h.connString(alice, "alice", "postgres"))
		require.NoError(t, err)
		defer c2.Close(ctx)
		_, err = c.Exec(ctx, "listen chan1")
		require.NoError(t, err)
		_, err = c2.Exec(ctx, "select pg_notify('chan1', 'hello')")
		require.NoError(t, err)
		note, err := c.WaitForNotification(ctx)
		require.NoError(t, err)
		require.Equal(t, "hello", note.Payload)
	})

	t.Run("each query has one audit event, as PostgreSQL logged it", func(t *testing.T) {
		var logged, audited []string
		// Wait until every query is stored with its result, then check.
		require.Eventually(t, func() bool {
			logged = h.statementsInPGLog("alice")
			return len(logged) == len(h.events(schemas.TypeQuery)) &&
				len(h.events(schemas.TypeQuery)) == len(h.events(schemas.TypeQueryResult))
		}, 20*time.Second, 50*time.Millisecond)
		audited = h.queriesOf(t, "alice")
		require.ElementsMatch(t, logged, audited)
		require.NotEmpty(t, audited)
	})

	t.Run("session.started and session.ended", func(t *testing.T) {
		var started []schemas.SessionStarted
		for _, ev := range h.events(schemas.TypeSessionStarted) {
			started = append(started, decode[schemas.SessionStarted](t, ev))
		}
		require.NotEmpty(t, started)
		require.Equal(t, "alice", started[0].User)
		require.Equal(t, "roach", started[0].Database)
		require.Equal(t, h.gw.AgentID(), started[0].AgentID)
		require.Eventually(t, func() bool { return len(h.events(schemas.TypeSessionEnded)) >= len(started) }, 20*time.Second, 50*time.Millisecond)
		e := decode[schemas.SessionEnded](t, h.events(schemas.TypeSessionEnded)[0])
		require.Equal(t, schemas.EndClient, e.Reason)
		require.Positive(t, e.Queries)
		require.Positive(t, e.BytesIn)
		_ = context.Background()
	})

	t.Run("drain on stop, restart reuses the identity without a token", func(t *testing.T) {
		id := h.gw.AgentID()
		h.stopAgent()
		require.Eventually(t, func() bool {
			return h.ended(t, schemas.EndShutdown)+h.ended(t, schemas.EndClient) >= len(h.events(schemas.TypeSessionStarted))
		}, 20*time.Second, 50*time.Millisecond)
		o := h.agentOptions()
		o.JoinToken, o.Grace = nil, 0
		gw, err := gateway.New(h.ctx, gateway.Deps{Control: &inprocess.Control{Service: h.svc}, ControlStream: h.control,
			AuditStream: h.audit, Logger: zerolog.Nop()}, o)
		require.NoError(t, err)
		require.Equal(t, id, gw.AgentID())
		ctx, cancel := context.WithCancel(h.ctx)
		done := make(chan error, 1)
		go func() { done <- gw.Run(ctx) }()
		h.gw = gw
		out, err := execPsql(h.connString(alice, "alice", "postgres"), "-c", "select 'after restart'")
		require.NoError(t, err, out)
		require.Contains(t, out, "after restart")
		cancel()
		require.NoError(t, <-done)
		// The restarted agent continued its hash chain.
		rep, err := eventlog.Verify(h.ctx, h.audit, eventlog.Query{})
		require.NoError(t, err)
		require.True(t, rep.OK(), "%+v", rep.Problems)
	})
}
