package gateway_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/schemas"
)

// syncBuf is a bytes.Buffer safe for a process writing and a test reading.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func (h *harness) ended(t *testing.T, reason string) int {
	n := 0
	for _, ev := range h.events(schemas.TypeSessionEnded) {
		if decode[schemas.SessionEnded](t, ev).Reason == reason {
			n++
		}
	}
	return n
}

func (h *harness) sawQuery(t *testing.T, text string) bool {
	for _, ev := range h.events(schemas.TypeQuery) {
		if strings.Contains(decode[schemas.Query](t, ev).Statement, text) {
			return true
		}
	}
	return false
}

func TestLiveSessions(t *testing.T) {
	h := newHarness(t)
	h.addUser("alice", []string{"access"}, []string{"alice"})
	h.addUser("dave", []string{"access"}, []string{"alice"})
	alice := h.dbCert("alice", "roach", time.Hour)
	dave := h.dbCert("dave", "roach", time.Hour)

	t.Run("a lock ends a live psql session", func(t *testing.T) {
		cmd := exec.Command("psql", "-X", h.connString(dave, "alice", "postgres"))
		stdin, err := cmd.StdinPipe()
		require.NoError(t, err)
		var out syncBuf
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Start())
		_, err = io.WriteString(stdin, "select 'dave-ready';\n")
		require.NoError(t, err)
		require.Eventually(t, func() bool { return strings.Contains(out.String(), "dave-ready") }, 20*time.Second, 20*time.Millisecond)
		before := h.ended(t, schemas.EndLock)
		_, err = h.svc.Locks().Add(h.ctx, h.admin, wire.Lock{LockCreated: schemas.LockCreated{Target: schemas.LockTarget{User: "dave"}, Message: "incident 7"}})
		require.NoError(t, err)
		require.Eventually(t, func() bool { return h.ended(t, schemas.EndLock) > before }, 10*time.Second, 20*time.Millisecond)
		_, _ = io.WriteString(stdin, "select 'after lock';\n")
		stdin.Close()
		_ = cmd.Wait()
		require.Contains(t, out.String(), "incident 7")
		require.NotContains(t, h.pg.LogContents(), "after lock")
	})

	t.Run("a lock ending a session mid-query records the query's result", func(t *testing.T) {
		h.addUser("erin", []string{"access"}, []string{"alice"})
		erin := h.dbCert("erin", "roach", time.Hour)
		cmd := exec.Command("psql", "-X", h.connString(erin, "alice", "postgres"), "-c", "select pg_sleep(31)")
		var out syncBuf
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Start())
		require.Eventually(t, func() bool { return strings.Contains(h.pg.LogContents(), "pg_sleep(31)") }, 20*time.Second, 20*time.Millisecond)
		_, err := h.svc.Locks().Add(h.ctx, h.admin, wire.Lock{LockCreated: schemas.LockCreated{Target: schemas.LockTarget{User: "erin"}, Message: "incident 8"}})
		require.NoError(t, err)
		_ = cmd.Wait()
		require.Contains(t, out.String(), "incident 8")
		var q schemas.Query
		for _, ev := range h.events(schemas.TypeQuery) {
			if ev.Actor == "erin" {
				q = decode[schemas.Query](t, ev)
			}
		}
		require.Equal(t, "select pg_sleep(31)", q.Statement)
		require.Eventually(t, func() bool {
			for _, ev := range h.events(schemas.TypeQueryResult) {
				r := decode[schemas.QueryResult](t, ev)
				if r.SessionID == q.SessionID && r.N == q.N {
					return r.Status == schemas.ResultError && strings.Contains(r.Error, "the session ended while it ran") &&
						strings.Contains(r.Error, "incident 8")
				}
			}
			return false
		}, 20*time.Second, 20*time.Millisecond, "the query that ran has a result saying the session ended")
	})

	t.Run("Ctrl-C in psql cancels the query without a local proxy", func(t *testing.T) {
		cmd := exec.Command("psql", "-X", h.connString(alice, "alice", "postgres"), "-c", "select pg_sleep(30)")
		var out syncBuf
		cmd.Stdout, cmd.Stderr = &out, &out
		require.NoError(t, cmd.Start())
		require.Eventually(t, func() bool { return h.sawQuery(t, "pg_sleep(30)") }, 20*time.Second, 20*time.Millisecond)
		require.Eventually(t, func() bool { return strings.Contains(h.pg.LogContents(), "pg_sleep(30)") }, 20*time.Second, 20*time.Millisecond)
		require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		_ = cmd.Wait()
		require.Contains(t, out.String(), "canceling statement due to user request")
		var matched bool
		require.Eventually(t, func() bool {
			for _, ev := range h.events(schemas.TypeSessionCancel) {
				c := decode[schemas.SessionCancel](t, ev)
				matched = matched || (c.Matched && c.Forwarded)
			}
			return matched
		}, 10*time.Second, 20*time.Millisecond)
	})

	t.Run("garbage, a 2 GiB frame and a slow client end cleanly", func(t *testing.T) {
		addr := h.gw.Addr().String()
		// Garbage before any startup.
		c1, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		_, _ = c1.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		_ = c1.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, err = io.ReadAll(c1)
		require.NoError(t, err) // the agent closed it
		c1.Close()
		// A startup packet claiming 2 GiB.
		c2, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		_, _ = c2.Write([]byte{0x7f, 0xff, 0xff, 0xff, 0, 3, 0, 0})
		_ = c2.SetReadDeadline(time.Now().Add(20 * time.Second))
		b, err := io.ReadAll(c2)
		require.NoError(t, err)
		require.Contains(t, string(b), "08P01")
		c2.Close()
		// A slow client that never finishes its handshake.
		slow, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer slow.Close()
		_, _ = slow.Write([]byte{0, 0})
		// A message claiming 2 GiB inside an authorized session.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		pc, err := pgconn.Connect(ctx, h.connString(alice, "alice", "postgres"))
		require.NoError(t, err)
		_, err = pc.Conn().Write([]byte{'Q', 0x7f, 0xff, 0xff, 0xff})
		require.NoError(t, err)
		_ = pc.Conn().SetReadDeadline(time.Now().Add(20 * time.Second))
		resp, _ := io.ReadAll(pc.Conn())
		require.Contains(t, string(resp), "54000")
		pc.Conn().Close()
		// Meanwhile other sessions work.
		out, err := execPsql(h.connString(alice, "alice", "postgres"), "-c", "select 'still serving'")
		require.NoError(t, err, out)
		require.Contains(t, out, "still serving")
		_ = slow.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, err = io.ReadAll(slow)
		require.NoError(t, err) // closed by the handshake timeout
	})

	t.Run("NATS down: strict refuses with 58000, then the session works again", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		c, err := pgx.Connect(ctx, h.connString(alice, "alice", "postgres"))
		require.NoError(t, err)
		defer c.Close(ctx)
		_, err = c.Exec(ctx, "select 'before outage'")
		require.NoError(t, err)
		h.stopNATS()
		_, err = c.Exec(ctx, "select 'during outage'")
		var pgErr *pgconn.PgError
		require.ErrorAs(t, err, &pgErr)
		require.Equal(t, "58000", pgErr.Code)
		out, err := execPsql(h.connString(alice, "alice", "postgres"), "-c", "select 'new session during outage'")
		require.Error(t, err, out)
		require.Contains(t, out, "audit log is unavailable")
		h.startNATS(h.natsAddr)
		require.Eventually(t, func() bool {
			_, err := c.Exec(ctx, "select 'after outage'")
			return err == nil
		}, 60*time.Second, 100*time.Millisecond)
		logs := h.pg.LogContents()
		require.NotContains(t, logs, "during outage")
		require.Contains(t, logs, "after outage")
	})
}
