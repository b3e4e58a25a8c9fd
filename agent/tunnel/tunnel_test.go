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
	if c.Subject.CommonName == "agent-1" {
		return "agent-1", nil
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
	if db == "pg" {
		return []string{"agent-1"}
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
	go func() {
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
					tc.Close()
				}
			}()
		}
	}()
	return ln.Addr().String()
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
		_, err := c.Write([]byte("ping"))
		require.NoError(t, err)
		s, err := l.Accept()
		require.NoError(t, err)
		defer s.Close()
		require.Equal(t, c.LocalAddr().String(), s.RemoteAddr().String(), "the client's address as control saw it")
		b := make([]byte, 4)
		_, err = io.ReadFull(s, b)
		require.NoError(t, err)
		require.Equal(t, "ping", string(b))
		_, err = s.Write([]byte("pong"))
		require.NoError(t, err)
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
		cert tls.Certificate
		db   string
	}{{alice, "other"}, {ca.issue(schemas.CertKindHost, "mallory"), "pg"}} {
		c := dialDB(t, addr, tc.cert, ca.pool, tc.db)
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := c.Read(make([]byte, 1))
		require.Error(t, err, "closed by control")
		c.Close()
	}
}
