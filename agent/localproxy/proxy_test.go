package localproxy

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"io"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/jackc/pgproto3/v2"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/internal/pgwire"
)

// cert makes a cert signed by parent (self-signed when parent is nil).
func cert(t *testing.T, cn string, parent *tls.Certificate, isCA bool) tls.Certificate {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Minute), NotAfter: time.Now().Add(time.Hour), IsCA: isCA, BasicConstraintsValid: true,
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}, DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}}
	signer, signKey := tmpl, any(k)
	if parent != nil {
		signer, signKey = parent.Leaf, parent.PrivateKey
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, signer, &k.PublicKey, signKey)
	require.NoError(t, err)
	leaf, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: k, Leaf: leaf}
}

// fakeAgent is a stand-in for the agent's front door: SSLRequest → 'S' →
// TLS with a client cert → it answers the startup with the user name it
// saw, then echoes simple queries as a CommandComplete. Cancel requests
// arriving in plaintext are reported on cancels.
type fakeAgent struct {
	ln       net.Listener
	cancels  chan []byte
	users    chan string
	startups chan []byte
}

func startFakeAgent(t *testing.T, srv tls.Certificate, ca *x509.CertPool) *fakeAgent {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	a := &fakeAgent{ln: ln, cancels: make(chan []byte, 4), users: make(chan string, 4), startups: make(chan []byte, 4)}
	tc := &tls.Config{Certificates: []tls.Certificate{srv}, ClientCAs: ca, ClientAuth: tls.RequireAndVerifyClientCert}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go a.serve(c, tc)
		}
	}()
	return a
}

func (a *fakeAgent) serve(c net.Conn, tc *tls.Config) {
	defer c.Close()
	st, err := pgwire.ReadStartup(bufio.NewReader(c))
	if err != nil {
		return
	}
	if st.Kind == pgwire.KindCancelRequest {
		a.cancels <- st.Raw
		return
	}
	if st.Kind != pgwire.KindSSLRequest {
		return
	}
	if _, err := c.Write([]byte{'S'}); err != nil {
		return
	}
	s := tls.Server(c, tc)
	if s.Handshake() != nil {
		return
	}
	br := bufio.NewReader(s)
	sm, err := pgwire.ReadStartup(br)
	if err != nil || sm.Kind != pgwire.KindStartupMessage {
		return
	}
	a.users <- sm.Params["user"]
	a.startups <- sm.Raw
	be := pgproto3.NewBackend(pgproto3.NewChunkReader(br), s)
	for _, m := range []pgproto3.BackendMessage{&pgproto3.AuthenticationOk{}, &pgproto3.BackendKeyData{ProcessID: 1, SecretKey: 42},
		&pgproto3.ReadyForQuery{TxStatus: 'I'}} {
		if be.Send(m) != nil {
			return
		}
	}
	for {
		m, err := be.Receive()
		if err != nil {
			// The client is done (pgproto3/v2 reports a clean end as an
			// unexpected EOF): last words, as a server's FATAL comes while
			// the client is already going.
			_ = be.Send(&pgproto3.ErrorResponse{Severity: "FATAL", Code: "57P01", Message: "goodbye"})
			return
		}
		switch q := m.(type) {
		case *pgproto3.Query:
			if be.Send(&pgproto3.CommandComplete{CommandTag: []byte(q.String)}) != nil ||
				be.Send(&pgproto3.ReadyForQuery{TxStatus: 'I'}) != nil {
				return
			}
		case *pgproto3.Terminate:
			return
		}
	}
}

// startProxy starts a fake agent and a proxy in front of it with alice's
// cert; stop stops the proxy and checks it returned cleanly.
func startProxy(t *testing.T) (agent *fakeAgent, ln net.Listener, stop func()) {
	t.Helper()
	ca := cert(t, "ca", nil, true)
	pool := x509.NewCertPool()
	pool.AddCert(ca.Leaf)
	agent = startFakeAgent(t, cert(t, "agent", &ca, false), pool)
	user := cert(t, "alice", &ca, false)
	p, err := New(Config{Agent: agent.ln.Addr().String(), Logger: zerolog.Nop(),
		TLS: &tls.Config{Certificates: []tls.Certificate{user}, RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}})
	require.NoError(t, err)
	ln, err = net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Serve(ctx, ln) }()
	return agent, ln, func() {
		cancel()
		require.NoError(t, <-done)
	}
}

func TestProxyRelaysAndForwardsCancel(t *testing.T) {
	t.Parallel()
	agent, ln, stop := startProxy(t)

	// Two clients at once, each asking for SSL first (answered 'N').
	for i, name := range []string{"alice", "bob"} {
		c, err := net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		defer c.Close()
		_, err = c.Write([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f})
		require.NoError(t, err)
		var b [1]byte
		_, err = io.ReadFull(c, b[:])
		require.NoError(t, err)
		require.Equal(t, byte('N'), b[0])
		fe := pgproto3.NewFrontend(pgproto3.NewChunkReader(c), c)
		require.NoError(t, fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": name}}))
		require.Equal(t, name, <-agent.users, "client %d", i)
		<-agent.startups
		for {
			m, err := fe.Receive()
			require.NoError(t, err)
			if _, ok := m.(*pgproto3.ReadyForQuery); ok {
				break
			}
		}
		require.NoError(t, fe.Send(&pgproto3.Query{String: "select " + name}))
		m, err := fe.Receive()
		require.NoError(t, err)
		require.Equal(t, "select "+name, string(m.(*pgproto3.CommandComplete).CommandTag))
	}

	// A cancel request goes to the agent unchanged.
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	raw, err := (&pgproto3.CancelRequest{ProcessID: 1, SecretKey: 42}).Encode(nil)
	require.NoError(t, err)
	_, err = c.Write(raw)
	require.NoError(t, err)
	select {
	case k := <-agent.cancels:
		require.Equal(t, raw, k)
	case <-time.After(20 * time.Second):
		t.Fatal("cancel request not forwarded")
	}
	c.Close()

	stop()
}

func TestProxyAgentUnreachable(t *testing.T) {
	t.Parallel()
	ca := cert(t, "ca", nil, true)
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := dead.Addr().String()
	dead.Close()
	p, err := New(Config{Agent: addr, TLS: &tls.Config{Certificates: []tls.Certificate{ca}}, DialTimeout: 5 * time.Second})
	require.NoError(t, err)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = p.Serve(ctx, ln) }()
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	fe := pgproto3.NewFrontend(pgproto3.NewChunkReader(c), c)
	require.NoError(t, fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "alice"}}))
	m, err := fe.Receive()
	require.NoError(t, err)
	e := m.(*pgproto3.ErrorResponse)
	require.Equal(t, "08006", e.Code)
	require.Contains(t, e.Message, addr)
}

// TestProxyForwards32: a protocol 3.2 startup (pgx's and libpq 18's
// max_protocol_version) and a CancelRequest with 3.2's longest key (256
// bytes) reach the agent byte for byte.
func TestProxyForwards32(t *testing.T) {
	t.Parallel()
	agent, ln, stop := startProxy(t)

	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	startup := binary.BigEndian.AppendUint32([]byte{0, 0, 0, 0}, pgwire.ProtocolVersion32)
	startup = append(startup, "user\x00alice\x00_pq_.test\x00on\x00\x00"...)
	binary.BigEndian.PutUint32(startup, uint32(len(startup)))
	_, err = c.Write(startup)
	require.NoError(t, err)
	require.Equal(t, "alice", <-agent.users)
	require.Equal(t, startup, <-agent.startups)

	cc, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer cc.Close()
	raw := pgwire.AppendCancelRequest(nil, 77, bytes.Repeat([]byte{0x5a}, pgwire.MaxCancelKey))
	_, err = cc.Write(raw)
	require.NoError(t, err)
	require.Equal(t, raw, <-agent.cancels)
	stop()
}

// TestProxyForwardsAgentsLastWords: when the client's side ends first,
// what the agent still sends before it closes (a server's FATAL) reaches
// the client before the proxy closes its connection.
func TestProxyForwardsAgentsLastWords(t *testing.T) {
	t.Parallel()
	agent, ln, stop := startProxy(t)

	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	fe := pgproto3.NewFrontend(pgproto3.NewChunkReader(c), c)
	require.NoError(t, fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber, Parameters: map[string]string{"user": "alice"}}))
	<-agent.users
	<-agent.startups
	for {
		m, err := fe.Receive()
		require.NoError(t, err)
		if _, ok := m.(*pgproto3.ReadyForQuery); ok {
			break
		}
	}
	require.NoError(t, c.(*net.TCPConn).CloseWrite())
	m, err := fe.Receive()
	require.NoError(t, err)
	e, ok := m.(*pgproto3.ErrorResponse)
	require.True(t, ok, "%T", m)
	require.Equal(t, "goodbye", e.Message)
	_, err = fe.Receive()
	require.Error(t, err, "then the connection closes")
	stop()
}

// TestNewRefusesBadConfig: a missing agent or route cert, or a negative
// timeout, is an error naming it; a zero timeout takes the default.
func TestNewRefusesBadConfig(t *testing.T) {
	t.Parallel()
	withCert := &tls.Config{Certificates: []tls.Certificate{{}}}
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{TLS: withCert}, "agent address"},
		{Config{Agent: "a:1"}, "route cert"},
		{Config{Agent: "a:1", TLS: &tls.Config{}}, "route cert"},
		{Config{Agent: "a:1", TLS: withCert, DialTimeout: -time.Second}, "DialTimeout"},
	} {
		_, err := New(tc.cfg)
		require.ErrorContains(t, err, tc.want)
	}
	p, err := New(Config{Agent: "a:1", TLS: withCert})
	require.NoError(t, err)
	require.Equal(t, DefaultDialTimeout, p.cfg.DialTimeout)
}
