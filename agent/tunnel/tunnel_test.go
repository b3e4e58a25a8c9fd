package tunnel_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/tunnel"
	"github.com/tollgate-db/tollgate/control/pki"
	ctunnel "github.com/tollgate-db/tollgate/control/tunnel"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/schemas"
)

// auth is a fake of what the hub asks control: agents by their cert's
// common name, alice's user cert, agent-1 serving "pg".
type auth struct{}

func (auth) AgentOfCert(c *x509.Certificate) (string, error) {
	if cn := c.Subject.CommonName; cn == "agent-1" || cn == "agent-2" {
		return cn, nil
	}
	return "", errors.New("not a joined agent")
}

func (auth) VerifyUserCert(c *x509.Certificate) error {
	if c.Subject.CommonName != "alice" {
		return errors.New("not a user of this cluster")
	}
	return nil
}

func (auth) AgentsServing(db string) []string {
	switch db {
	case "pg":
		return []string{"agent-1"}
	case "shared":
		return []string{"agent-1", "agent-2"}
	}
	return nil
}

type pair struct {
	pool  *x509.CertPool
	issue func(kind, cn string, hosts ...string) tls.Certificate
}

func newCA(t *testing.T) pair {
	t.Helper()
	caPEM, caKey, err := pki.NewCA(schemas.CAHost, pki.AlgECDSAP256, "t", time.Now(), time.Hour)
	require.NoError(t, err)
	iss, err := pki.NewIssuer(caPEM, caKey)
	require.NoError(t, err)
	pool, err := pki.Pool(caPEM)
	require.NoError(t, err)
	return pair{pool: pool, issue: func(kind, cn string, hosts ...string) tls.Certificate {
		c, k, _, err := iss.Issue(context.Background(), pki.Request{Kind: kind, CommonName: cn, Hosts: hosts,
			KeyAlg: pki.AlgECDSAP256, Now: time.Now(), TTL: time.Hour})
		require.NoError(t, err)
		p, err := tls.X509KeyPair(c, k)
		require.NoError(t, err)
		return p
	}}
}

// serveHub is control's public port, as far as tunnels go, with the hub
// *h holds when a connection arrives.
func serveHub(t *testing.T, h *atomic.Pointer[ctunnel.Hub], cert tls.Certificate) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert,
		NextProtos: ctunnel.NextProtos, MinVersion: tls.VersionTLS13})
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go acceptTLS(ctx, ln, h, func(tc *tls.Conn) { tc.Close() })
	return ln.Addr().String()
}

// acceptTLS serves ln as control's API server does its TLS connections:
// the tunnel ALPNs to the hub *h holds, anything else to other.
func acceptTLS(ctx context.Context, ln net.Listener, h *atomic.Pointer[ctunnel.Hub], other func(*tls.Conn)) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			tc := c.(*tls.Conn)
			if tc.HandshakeContext(ctx) != nil {
				tc.Close()
				return
			}
			switch tc.ConnectionState().NegotiatedProtocol {
			case wire.ALPNTunnel:
				h.Load().ServeAgent(tc)
			case wire.ALPNDatabase:
				h.Load().ServeClient(ctx, tc)
			default:
				other(tc)
			}
		}()
	}
}

func dialDB(t *testing.T, addr string, cert tls.Certificate, pool *x509.CertPool, db string) net.Conn {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, ServerName: "localhost",
		NextProtos: []string{wire.ALPNDatabase}, MinVersion: tls.VersionTLS13})
	require.NoError(t, err)
	require.NoError(t, wire.WriteFrame(c, wire.DatabaseDial{Database: db}))
	return c
}

// TestTunnelRelaysClientsAndRedials: a client's connection for pg comes
// out of agent-1's tunnel listener with the client's address, both ways;
// when control drops the tunnel the agent redials and the next client
// gets through. A client without a user cert, or for a database no agent
// with a tunnel serves, is refused.
func TestTunnelRelaysClientsAndRedials(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	var cur atomic.Pointer[ctunnel.Hub]
	hub := ctunnel.New(auth{}, zerolog.Nop())
	cur.Store(hub)
	addr := serveHub(t, &cur, ca.issue(schemas.CertKindHost, "control", "localhost", "127.0.0.1"))
	agentCert := ca.issue(schemas.CertKindHost, "agent-1")
	l, err := tunnel.Listen(tunnel.Options{Addrs: []string{addr}, RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond,
		TLS: &tls.Config{Certificates: []tls.Certificate{agentCert}, RootCAs: ca.pool, ServerName: "localhost", MinVersion: tls.VersionTLS13}})
	require.NoError(t, err)
	defer l.Close()
	require.Eventually(t, l.Up, 10*time.Second, 10*time.Millisecond)
	alice := ca.issue(schemas.CertKindHost, "alice")

	roundTrip := func() {
		t.Helper()
		c := dialDB(t, addr, alice, ca.pool, "pg")
		defer c.Close()
		// A client's first message is at least 8 bytes (control looks
		// at them for a CancelRequest).
		_, err := c.Write([]byte("ping1234"))
		require.NoError(t, err)
		s, err := l.Accept()
		require.NoError(t, err)
		defer s.Close()
		require.Equal(t, c.LocalAddr().String(), s.RemoteAddr().String(), "the client's address as control saw it")
		b := make([]byte, 8)
		_, err = io.ReadFull(s, b)
		require.NoError(t, err)
		require.Equal(t, "ping1234", string(b))
		b = b[:4]
		_, err = s.Write([]byte("pong"))
		require.NoError(t, err)
		var r wire.DialResult
		require.NoError(t, wire.ReadFrame(c, &r))
		require.Empty(t, r.Error)
		_, err = io.ReadFull(c, b)
		require.NoError(t, err)
		require.Equal(t, "pong", string(b))
	}
	roundTrip()
	require.Contains(t, hub.Connected(), "agent-1")

	// Control restarts: the old hub drops its tunnels, the agent redials.
	next := ctunnel.New(auth{}, zerolog.Nop())
	cur.Store(next)
	hub.Close()
	require.Empty(t, hub.Connected())
	hub = next
	require.Eventually(t, func() bool { _, ok := hub.Connected()["agent-1"]; return ok && l.Up() }, 10*time.Second, 10*time.Millisecond)
	roundTrip()

	// Refused: no such database; a client cert of no user.
	for _, tc := range []struct {
		cert   tls.Certificate
		db     string
		answer string // what control says before it closes
	}{{alice, "other", "no agent serving this database has a tunnel"}, {ca.issue(schemas.CertKindHost, "mallory"), "pg", ""}} {
		c := dialDB(t, addr, tc.cert, ca.pool, tc.db)
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		var r wire.DialResult
		err := wire.ReadFrame(c, &r)
		if tc.answer != "" {
			require.NoError(t, err)
			require.Contains(t, r.Error, tc.answer)
		} else {
			require.Error(t, err, "closed by control without a word")
		}
		c.Close()
	}
}

func listenAs(t *testing.T, ca pair, addr, cn string) *tunnel.Listener {
	t.Helper()
	l, err := tunnel.Listen(tunnel.Options{Addrs: []string{addr}, RetryMin: 10 * time.Millisecond, RetryMax: 50 * time.Millisecond,
		TLS: &tls.Config{Certificates: []tls.Certificate{ca.issue(schemas.CertKindHost, cn)}, RootCAs: ca.pool, ServerName: "localhost",
			MinVersion: tls.VersionTLS13}})
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	require.Eventually(t, l.Up, 10*time.Second, 10*time.Millisecond)
	return l
}

// accepted returns the first 8 bytes of the next connection l accepts.
func accepted(t *testing.T, l *tunnel.Listener, got chan<- string) {
	for {
		s, err := l.Accept()
		if err != nil {
			return
		}
		b := make([]byte, 16)
		n, _ := io.ReadAtLeast(s, b, 8)
		got <- string(b[:n])
		s.Close()
	}
}

// TestTunnelSharesLoadFailsOverAndBroadcastsCancels: two agents serving
// one database take its clients in turn; a CancelRequest goes to both
// (only the key's holder acts on it); with one agent's tunnel gone every
// client goes to the other.
func TestTunnelSharesLoadFailsOverAndBroadcastsCancels(t *testing.T) {
	t.Parallel()
	ca := newCA(t)
	var cur atomic.Pointer[ctunnel.Hub]
	hub := ctunnel.New(auth{}, zerolog.Nop())
	cur.Store(hub)
	addr := serveHub(t, &cur, ca.issue(schemas.CertKindHost, "control", "localhost", "127.0.0.1"))
	l1, l2 := listenAs(t, ca, addr, "agent-1"), listenAs(t, ca, addr, "agent-2")
	require.Eventually(t, func() bool { return len(hub.Connected()) == 2 }, 10*time.Second, 10*time.Millisecond)
	got1, got2 := make(chan string, 16), make(chan string, 16)
	go accepted(t, l1, got1)
	go accepted(t, l2, got2)
	alice := ca.issue(schemas.CertKindHost, "alice")
	send := func(msg []byte) {
		c := dialDB(t, addr, alice, ca.pool, "shared")
		_, err := c.Write(msg)
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
	}
	for range 4 {
		send([]byte("startup!"))
	}
	for range 2 {
		require.Equal(t, "startup!", <-got1)
		require.Equal(t, "startup!", <-got2)
	}
	cancelReq := []byte{0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e, 0, 0, 0, 7, 0, 0, 0, 9}
	send(cancelReq)
	require.Equal(t, string(cancelReq), <-got1)
	require.Equal(t, string(cancelReq), <-got2)

	require.NoError(t, l2.Close())
	require.Eventually(t, func() bool { return len(hub.Connected()) == 1 }, 10*time.Second, 10*time.Millisecond)
	for range 3 {
		send([]byte("startup!"))
		require.Equal(t, "startup!", <-got1)
	}
}
