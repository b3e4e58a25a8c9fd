package tunnel_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgproto3/v2"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/tunnel"
	ctunnel "github.com/tollgate-db/tollgate/control/tunnel"
	"github.com/tollgate-db/tollgate/internal/pgwire"
	"github.com/tollgate-db/tollgate/schemas"
)

// serveFront is control's public port as api.Server serves it: hub.Front
// takes PostgreSQL clients, the rest is TLS with the tunnel ALPNs.
func serveFront(t *testing.T, hub *ctunnel.Hub, cert tls.Certificate) string {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert, MinVersion: tls.VersionTLS13}
	front := hub.Front(ctx, raw, cfg.Clone())
	t.Cleanup(func() { front.Close() })
	cfg.NextProtos = append([]string{"http/1.1"}, ctunnel.NextProtos...)
	ln := tls.NewListener(front, cfg)
	var cur atomic.Pointer[ctunnel.Hub]
	cur.Store(hub)
	go acceptTLS(ctx, ln, &cur, func(tc *tls.Conn) { // the API: say which connection this was
		_, _ = tc.Write([]byte("api"))
		tc.Close()
	})
	return raw.Addr().String()
}

// fakeAgentFrontDoor answers what comes out of l as the agent's front
// door does: SSLRequest → 'S' → TLS with cert → reads the StartupMessage
// and answers with the database it asked for in an ErrorResponse's
// message. A CancelRequest is reported on cancels.
func fakeAgentFrontDoor(t *testing.T, l *tunnel.Listener, cert tls.Certificate, cancels chan<- []byte) {
	for {
		s, err := l.Accept()
		if err != nil {
			return
		}
		go func() {
			defer s.Close()
			br := bufio.NewReader(s)
			st, err := pgwire.ReadStartup(br)
			if err != nil {
				return
			}
			if st.Kind == pgwire.KindCancelRequest {
				cancels <- st.Raw
				return
			}
			if st.Kind != pgwire.KindSSLRequest {
				return
			}
			if _, err := s.Write([]byte{'S'}); err != nil {
				return
			}
			tc := tls.Server(&bufConn{Conn: s, r: br}, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13})
			st, err = pgwire.ReadStartup(bufio.NewReader(tc))
			if err != nil {
				return
			}
			_ = pgwire.WriteFatal(tc, "00000", "agent serves "+st.Params["database"])
		}()
	}
}

type bufConn struct {
	net.Conn
	r io.Reader
}

func (c *bufConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// pgConnect is libpq's way in: an optional GSSENCRequest, an SSLRequest,
// TLS with sni (verified against ca as host), a StartupMessage; it returns
// the first ErrorResponse.
func pgConnect(t *testing.T, addr, sni string, ca pair, gss bool) *pgproto3.ErrorResponse {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(10 * time.Second))
	b := make([]byte, 1)
	if gss {
		_, err = c.Write(startupCode(pgwire.CodeGSSENCRequest))
		require.NoError(t, err)
		_, err = io.ReadFull(c, b)
		require.NoError(t, err)
		require.Equal(t, byte('N'), b[0], "GSSENC is declined, as PostgreSQL without GSS does")
	}
	_, err = c.Write(startupCode(pgwire.CodeSSLRequest))
	require.NoError(t, err)
	_, err = io.ReadFull(c, b)
	require.NoError(t, err)
	require.Equal(t, byte('S'), b[0])
	tc := tls.Client(c, &tls.Config{ServerName: sni, MinVersion: tls.VersionTLS13,
		InsecureSkipVerify: true, VerifyConnection: verifyChain(ca)})
	fe := pgproto3.NewFrontend(pgproto3.NewChunkReader(tc), tc)
	require.NoError(t, fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": "alice", "database": "appdb"}}))
	m, err := fe.Receive()
	require.NoError(t, err)
	e, ok := m.(*pgproto3.ErrorResponse)
	require.True(t, ok, "got %T", m)
	return e
}

// verifyChain checks the peer's cert against ca without a name (what
// sslmode=verify-ca does).
func verifyChain(ca pair) func(tls.ConnectionState) error {
	return func(cs tls.ConnectionState) error {
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{Roots: ca.pool})
		return err
	}
}

func startupCode(code uint32) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint32(b, 8)
	binary.BigEndian.PutUint32(b[4:], code)
	return b
}

// TestPostgresClientsOnThePublicPortGoToTheAgentTheirSNINames: a libpq
// client dials control's public port (SSLRequest first, as any PostgreSQL
// client does) and gets TLS with the agent serving the database its SNI's
// first label names, end to end through the tunnel, GSSENC declined on
// the way; API TLS on the same port still reaches the API. A plaintext
// CancelRequest reaches every agent's tunnel. A client naming no
// database, one no tunnel serves, or one without TLS is told why in a
// FATAL with its SQLSTATE.
func TestPostgresClientsOnThePublicPortGoToTheAgentTheirSNINames(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	hub := ctunnel.New(auth{}, zerolog.Nop())
	addr := serveFront(t, hub, ca.issue(schemas.CertKindHost, "control", "localhost", "127.0.0.1"))
	cancels := make(chan []byte, 4)
	go fakeAgentFrontDoor(t, listenAs(t, ca, addr, "agent-1"), ca.issue(schemas.CertKindHost, "agent-1", "agent-1.internal"), cancels)
	go fakeAgentFrontDoor(t, listenAs(t, ca, addr, "agent-2"), ca.issue(schemas.CertKindHost, "agent-2"), cancels)
	require.Eventually(t, func() bool { return len(hub.Connected()) == 2 }, 10*time.Second, 10*time.Millisecond)

	e := pgConnect(t, addr, "pg.control.example.com", ca, false)
	require.Equal(t, "agent serves appdb", e.Message, "the agent answered, inside the client's TLS")
	e = pgConnect(t, addr, "PG.tollgate", ca, true)
	require.Equal(t, "agent serves appdb", e.Message)

	for _, tc := range []struct {
		name, sni, code, says string
	}{
		{"no SNI", "", pgwire.CodeInvalidCatalogName, "names no database"},
		{"no tunnel serves it", "other.tollgate", pgwire.CodeConnectionFailure, "database other: no agent serving this database has a tunnel"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := pgConnect(t, addr, tc.sni, ca, false)
			require.Equal(t, "FATAL", e.Severity)
			require.Equal(t, tc.code, e.Code)
			require.Contains(t, e.Message, tc.says)
		})
	}

	t.Run("plaintext startup", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		defer c.Close()
		fe := pgproto3.NewFrontend(pgproto3.NewChunkReader(c), c)
		require.NoError(t, fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
			Parameters: map[string]string{"user": "alice"}}))
		m, err := fe.Receive()
		require.NoError(t, err)
		e := m.(*pgproto3.ErrorResponse)
		require.Equal(t, pgwire.CodeInvalidAuthorization, e.Code)
		require.Contains(t, e.Message, "over TLS only")
	})

	t.Run("cancel", func(t *testing.T) {
		c, err := net.Dial("tcp", addr)
		require.NoError(t, err)
		msg := []byte{0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e, 0, 0, 0, 7, 0, 0, 0, 9}
		_, err = c.Write(msg)
		require.NoError(t, err)
		defer c.Close()
		require.Equal(t, msg, <-cancels)
		require.Equal(t, msg, <-cancels, "both agents' tunnels get it: only the key's holder acts")
	})

	t.Run("the API on the same port", func(t *testing.T) {
		c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: ca.pool, ServerName: "localhost", MinVersion: tls.VersionTLS13,
			NextProtos: []string{"http/1.1"}})
		require.NoError(t, err)
		defer c.Close()
		b, err := io.ReadAll(c)
		require.NoError(t, err)
		require.Equal(t, "api", string(b))
	})
}
