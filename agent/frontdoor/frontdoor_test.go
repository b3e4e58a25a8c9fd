package frontdoor

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgproto3/v2"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/internal/pgwire"
	"github.com/tollgate-db/tollgate/schemas"
)

type catalog map[string]Database

func (c catalog) Lookup(name string) (Database, bool) { d, ok := c[name]; return d, ok }

// gotCancel is one CancelRequest handed over: pid and key.
type gotCancel struct {
	pid uint32
	key string
}

type cancelRec struct {
	mu  sync.Mutex
	got []gotCancel
}

func (c *cancelRec) HandleCancel(_ context.Context, _ net.Addr, pid uint32, key []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.got = append(c.got, gotCancel{pid, string(key)})
}

type result struct {
	s   *Session
	err error
}

// fixture is a front door on a loopback listener. Each accepted
// connection's outcome goes to results; a Session is answered by a stub
// that sends a FATAL naming what reached the authorizer, then closed.
type fixture struct {
	userCA, hostCA *testCA
	server         tls.Certificate
	fd             *FrontDoor
	addr           string
	results        chan result
	cancels        *cancelRec
	mu             sync.Mutex
	requests       []Request
	decide         func(Request) Decision
}

func newFixture(t *testing.T, mod func(*Config)) *fixture {
	t.Helper()
	fx := &fixture{userCA: newCA(t, "user CA"), hostCA: newCA(t, "host CA"), results: make(chan result, 16), cancels: &cancelRec{}}
	fx.server = fx.hostCA.issue(t, true, "", "", time.Now().Add(time.Hour))
	fx.decide = func(Request) Decision { return Decision{Allowed: true, Roles: []string{"access"}, DecidedBy: "access"} }
	cfg := Config{
		AgentID:     "agent-1",
		Credentials: StaticCredentials{Pool: fx.userCA.pool(), Cert: &fx.server},
		Identify:    testIdentify,
		Catalog:     catalog{"roach": {Name: "roach", Protocol: schemas.ProtocolCockroachDB}},
		Authorizer: AuthorizerFunc(func(_ context.Context, r Request) (Decision, error) {
			fx.mu.Lock()
			fx.requests = append(fx.requests, r)
			d := fx.decide
			fx.mu.Unlock()
			return d(r), nil
		}),
		Cancel:           fx.cancels,
		HandshakeTimeout: 10 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	fd, err := New(cfg)
	require.NoError(t, err)
	fx.fd = fd
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	fx.addr = ln.Addr().String()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				s, err := fd.Handle(ctx, c)
				if s != nil {
					_ = pgwire.WriteFatal(s.Conn, pgwire.CodeAdminShutdown,
						fmt.Sprintf("stub relay: user=%s db=%s dbuser=%s dbname=%s", s.Identity.User, s.Database.Name, s.DBUser, s.DBName))
					_ = s.Close()
				}
				fx.results <- result{s, err}
			}()
		}
	}()
	return fx
}

func (fx *fixture) next(t *testing.T) result {
	t.Helper()
	select {
	case r := <-fx.results:
		return r
	case <-time.After(30 * time.Second):
		t.Fatal("no connection outcome within 30s")
		return result{}
	}
}

func requireRejection(t *testing.T, err error, code string) *Rejection {
	t.Helper()
	var r *Rejection
	require.ErrorAs(t, err, &r)
	require.Equal(t, code, r.Event.Code, "reason: %s", r.Event.Reason)
	require.Equal(t, "agent-1", r.Event.AgentID)
	require.NotEmpty(t, r.Event.SessionID)
	return r
}

// psql runs the real psql against the fixture.
func (fx *fixture) psql(t *testing.T, conninfo string) string {
	t.Helper()
	bin, err := exec.LookPath("psql")
	require.NoError(t, err, "psql not found: apt-get install -y postgresql-client")
	host, port, _ := net.SplitHostPort(fx.addr)
	cmd := exec.Command(bin, "-X", "-w", "-c", "select 1", fmt.Sprintf("host=%s port=%s connect_timeout=20 %s", host, port, conninfo))
	cmd.Env = []string{"PATH=/usr/bin:/bin", "HOME=" + t.TempDir(), "PGGSSENCMODE=disable"}
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "psql cannot succeed against the stub: %s", out)
	return string(out)
}

func (fx *fixture) psqlTLS(t *testing.T, cert tls.Certificate, extra string) string {
	t.Helper()
	dir := t.TempDir()
	certFile, keyFile := writePEM(t, dir, "user", cert)
	root := writeCAPEM(t, dir, fx.hostCA)
	return fx.psql(t, fmt.Sprintf("sslmode=verify-full sslrootcert=%s sslcert=%s sslkey=%s %s", root, certFile, keyFile, extra))
}

func TestPsqlPlaintextToldToUseTLS(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, nil)
	out := fx.psql(t, "sslmode=disable user=app dbname=appdb")
	require.Contains(t, out, "toll db connect")
	require.Contains(t, out, "sslmode=verify-full")
	r := requireRejection(t, fx.next(t).err, schemas.RejectPlaintext)
	require.Equal(t, pgwire.CodeInvalidAuthorization, r.Sent.Code)
	require.Equal(t, "app", r.Event.DBUser)
}

func TestPsqlVerifyFullReachesAuthorizer(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, nil)
	cert := fx.userCA.issue(t, false, "alice", "roach", time.Now().Add(time.Hour))
	out := fx.psqlTLS(t, cert, "user=app dbname=appdb application_name=tg-test")
	require.Contains(t, out, "stub relay: user=alice db=roach dbuser=app dbname=appdb")
	r := fx.next(t)
	require.NoError(t, r.err)
	s := r.s
	require.Len(t, s.ID, 26, "a ULID")
	require.Equal(t, "alice", s.Identity.User)
	require.Equal(t, cert.Leaf.NotAfter, s.CertExpiry)
	require.Equal(t, "tg-test", s.Params["application_name"])
	require.Equal(t, "appdb", s.Params["database"])
	started := s.Started("agent-1")
	require.Equal(t, "roach", started.Database)
	require.Equal(t, schemas.ProtocolCockroachDB, started.Protocol)
	require.Equal(t, "access", started.DecidedBy)
	require.Equal(t, 0, fx.fd.Active(), "the closed session freed its slot")
}

func TestPsqlDenied(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, nil)
	fx.decide = func(Request) Decision {
		return Decision{Code: schemas.RejectLocked, Reason: "user alice is locked: incident 42"}
	}
	cert := fx.userCA.issue(t, false, "alice", "roach", time.Now().Add(time.Hour))
	out := fx.psqlTLS(t, cert, "user=app dbname=appdb")
	require.Contains(t, out, "user alice is locked: incident 42")
	r := requireRejection(t, fx.next(t).err, schemas.RejectLocked)
	require.Equal(t, "alice", r.Event.User)
	require.Equal(t, "roach", r.Event.Database)
}

func TestPsqlForeignCARefused(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, nil)
	other := newCA(t, "other CA")
	out := fx.psqlTLS(t, other.issue(t, false, "alice", "roach", time.Now().Add(time.Hour)), "user=app dbname=appdb")
	require.Contains(t, out, "not issued by this Tollgate cluster")
	requireRejection(t, fx.next(t).err, schemas.RejectBadCert)
	require.Empty(t, fx.requests, "the authorizer is never asked")
}

func TestPsqlExpiredCertRefused(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, nil)
	out := fx.psqlTLS(t, fx.userCA.issue(t, false, "alice", "roach", time.Now().Add(-time.Minute)), "user=app dbname=appdb")
	require.Contains(t, out, "certificate expired")
	requireRejection(t, fx.next(t).err, schemas.RejectCertExpired)
}

// goClient speaks the startup by hand.
type goClient struct {
	t    *testing.T
	conn net.Conn
	br   *bufio.Reader
}

func dial(t *testing.T, fx *fixture) *goClient {
	t.Helper()
	c, err := net.Dial("tcp", fx.addr)
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return &goClient{t: t, conn: c, br: bufio.NewReader(c)}
}

func request(code uint32) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint32(b, 8)
	binary.BigEndian.PutUint32(b[4:], code)
	return b
}

func (c *goClient) write(b []byte) {
	_, err := c.conn.Write(b)
	require.NoError(c.t, err)
}

func (c *goClient) readByte() byte {
	b, err := c.br.ReadByte()
	require.NoError(c.t, err)
	return b
}

func (c *goClient) startTLS(fx *fixture, cert tls.Certificate) {
	c.write(request(pgwire.CodeSSLRequest))
	require.Equal(c.t, byte('S'), c.readByte())
	tc := tls.Client(c.conn, &tls.Config{ServerName: "localhost", RootCAs: fx.hostCA.pool(), Certificates: []tls.Certificate{cert}})
	require.NoError(c.t, tc.Handshake())
	c.conn, c.br = tc, bufio.NewReader(tc)
}

func (c *goClient) startup(params map[string]string) {
	b, err := (&pgproto3.StartupMessage{ProtocolVersion: pgwire.ProtocolVersion3, Parameters: params}).Encode(nil)
	require.NoError(c.t, err)
	c.write(b)
}

// readError reads one message and requires an ErrorResponse.
func (c *goClient) readError() *pgproto3.ErrorResponse {
	typ := c.readByte()
	require.Equal(c.t, byte('E'), typ)
	var l [4]byte
	_, err := io.ReadFull(c.br, l[:])
	require.NoError(c.t, err)
	body := make([]byte, binary.BigEndian.Uint32(l[:])-4)
	_, err = io.ReadFull(c.br, body)
	require.NoError(c.t, err)
	var e pgproto3.ErrorResponse
	require.NoError(c.t, e.Decode(body))
	require.Equal(c.t, "FATAL", e.Severity)
	return &e
}

func TestGSSENCDeclinedThenTLS(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, nil)
	c := dial(t, fx)
	c.write(request(pgwire.CodeGSSENCRequest))
	require.Equal(t, byte('N'), c.readByte())
	c.startTLS(fx, fx.userCA.issue(t, false, "bob", "roach", time.Now().Add(time.Hour)))
	c.startup(map[string]string{"user": "app"})
	e := c.readError()
	require.Contains(t, e.Message, "dbuser=app dbname=app", "empty database defaults to the db user")
	r := fx.next(t)
	require.NoError(t, r.err)
	fx.mu.Lock()
	defer fx.mu.Unlock()
	require.Equal(t, "app", fx.requests[0].DBName, "defaulted before the decision")
}

func TestReplicationRefusedUnlessAllowed(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, nil)
	cert := fx.userCA.issue(t, false, "bob", "roach", time.Now().Add(time.Hour))
	c := dial(t, fx)
	c.startTLS(fx, cert)
	c.startup(map[string]string{"user": "app", "database": "d", "replication": "database", "options": "-c search_path=x"})
	e := c.readError()
	require.Equal(t, pgwire.CodeInsufficientPrivilege, e.Code)
	r := requireRejection(t, fx.next(t).err, schemas.RejectReplication)
	require.Equal(t, "-c search_path=x", r.Event.Params["options"], "every startup parameter is recorded")

	fx.mu.Lock()
	fx.decide = func(Request) Decision { return Decision{Allowed: true, AllowReplication: true} }
	fx.mu.Unlock()
	c = dial(t, fx)
	c.startTLS(fx, cert)
	c.startup(map[string]string{"user": "app", "replication": "true"})
	require.Contains(t, c.readError().Message, "stub relay")
	require.NoError(t, fx.next(t).err)
}

func TestUnknownRouteDatabase(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, nil)
	c := dial(t, fx)
	c.startTLS(fx, fx.userCA.issue(t, false, "bob", "elsewhere", time.Now().Add(time.Hour)))
	c.startup(map[string]string{"user": "app"})
	require.Equal(t, pgwire.CodeInvalidCatalogName, c.readError().Code)
	requireRejection(t, fx.next(t).err, schemas.RejectUnknownDB)
}

func TestCancelRequestHandedOver(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, nil)
	c := dial(t, fx)
	b, err := (&pgproto3.CancelRequest{ProcessID: 7, SecretKey: 99}).Encode(nil)
	require.NoError(t, err)
	c.write(b)
	require.ErrorIs(t, fx.next(t).err, ErrCancelRequest)
	fx.cancels.mu.Lock()
	defer fx.cancels.mu.Unlock()
	require.Equal(t, []gotCancel{{7, "\x00\x00\x00\x63"}}, fx.cancels.got)
}

func TestGarbageEndsCleanly(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, nil)
	for _, junk := range [][]byte{
		[]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
		{0, 0, 0, 8, 0xde, 0xad, 0xbe, 0xef},
		{0xff, 0xff, 0xff, 0xff},
		{0, 0, 0, 1},
	} {
		c := dial(t, fx)
		c.write(junk)
		requireRejection(t, fx.next(t).err, schemas.RejectProtocol)
	}
	// Plaintext bytes pipelined after SSLRequest are refused.
	c := dial(t, fx)
	c.write(append(request(pgwire.CodeSSLRequest), 0, 0, 0, 8, 0, 0, 0, 0))
	r := requireRejection(t, fx.next(t).err, schemas.RejectProtocol)
	require.Contains(t, r.Event.Reason, "unencrypted data after SSLRequest")
	require.Equal(t, 0, fx.fd.Active())
}

func TestSlowClientEnds(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, func(c *Config) { c.HandshakeTimeout = 200 * time.Millisecond })
	c := dial(t, fx)
	c.write([]byte{0, 0}) // half a length, then nothing
	r := requireRejection(t, fx.next(t).err, schemas.RejectProtocol)
	require.Contains(t, r.Event.Reason, "timeout")
	c2 := dial(t, fx)
	c2.write(request(pgwire.CodeSSLRequest))
	require.Equal(t, byte('S'), c2.readByte()) // then never starts TLS
	requireRejection(t, fx.next(t).err, schemas.RejectBadCert)
}

func TestTooManyConnections(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, func(c *Config) { c.MaxConnections = 1 })
	held := dial(t, fx)
	held.write([]byte{0}) // occupies the only slot
	require.Eventually(t, func() bool { return fx.fd.Active() == 1 }, 10*time.Second, 10*time.Millisecond)
	c := dial(t, fx)
	c.write(request(pgwire.CodeSSLRequest))
	e := c.readError()
	require.Equal(t, pgwire.CodeTooManyConnections, e.Code)
	requireRejection(t, fx.next(t).err, schemas.RejectProtocol)
	held.conn.Close()
	fx.next(t)
	require.Eventually(t, func() bool { return fx.fd.Active() == 0 }, 10*time.Second, 10*time.Millisecond)
}

// TestNewRequires: a missing part or a negative number is an error naming
// the field; zero numbers take their defaults.
func TestNewRequires(t *testing.T) {
	t.Parallel()
	valid := func(edit func(*Config)) Config {
		cfg := Config{Credentials: StaticCredentials{}, Identify: testIdentify, Catalog: catalog{},
			Authorizer: AuthorizerFunc(func(context.Context, Request) (Decision, error) { return Decision{}, nil })}
		edit(&cfg)
		return cfg
	}
	for _, tc := range []struct {
		field string
		cfg   Config
	}{
		{"Credentials", Config{}},
		{"Identify", valid(func(c *Config) { c.Identify = nil })},
		{"Catalog", valid(func(c *Config) { c.Catalog = nil })},
		{"Authorizer", valid(func(c *Config) { c.Authorizer = nil })},
		{"MaxConnections", valid(func(c *Config) { c.MaxConnections = -1 })},
		{"HandshakeTimeout", valid(func(c *Config) { c.HandshakeTimeout = -time.Second })},
	} {
		_, err := New(tc.cfg)
		require.ErrorContains(t, err, tc.field)
	}
	fd, err := New(valid(func(*Config) {}))
	require.NoError(t, err)
	require.Equal(t, DefaultHandshakeTimeout, fd.cfg.HandshakeTimeout)
	require.True(t, wantsReplication("database"))
	require.True(t, wantsReplication("weird"))
	require.False(t, wantsReplication("off"))
	require.False(t, strings.Contains(PlaintextMessage, "\n"))
}

// libpq 17+ and pgx send the CancelRequest inside TLS, with or without the
// user's cert; both must reach the cancel handler.
func TestCancelRequestInsideTLS(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, nil)
	for i, cert := range []*tls.Certificate{nil, ptr(fx.userCA.issue(t, false, "bob", "roach", time.Now().Add(time.Hour)))} {
		c := dial(t, fx)
		c.write(request(pgwire.CodeSSLRequest))
		require.Equal(t, byte('S'), c.readByte())
		cfg := &tls.Config{ServerName: "localhost", RootCAs: fx.hostCA.pool()}
		if cert != nil {
			cfg.Certificates = []tls.Certificate{*cert}
		}
		tc := tls.Client(c.conn, cfg)
		require.NoError(t, tc.Handshake())
		b, err := (&pgproto3.CancelRequest{ProcessID: uint32(10 + i), SecretKey: 42}).Encode(nil)
		require.NoError(t, err)
		_, err = tc.Write(b)
		require.NoError(t, err)
		require.ErrorIs(t, fx.next(t).err, ErrCancelRequest)
	}
	fx.cancels.mu.Lock()
	defer fx.cancels.mu.Unlock()
	require.Equal(t, []gotCancel{{10, "\x00\x00\x00\x2a"}, {11, "\x00\x00\x00\x2a"}}, fx.cancels.got)
}

// A StartupMessage inside TLS without a client cert is refused.
func TestStartupWithoutClientCertRefused(t *testing.T) {
	t.Parallel()
	fx := newFixture(t, nil)
	c := dial(t, fx)
	c.write(request(pgwire.CodeSSLRequest))
	require.Equal(t, byte('S'), c.readByte())
	tc := tls.Client(c.conn, &tls.Config{ServerName: "localhost", RootCAs: fx.hostCA.pool()})
	require.NoError(t, tc.Handshake())
	c.conn, c.br = tc, bufio.NewReader(tc)
	c.startup(map[string]string{"user": "app"})
	require.Equal(t, pgwire.CodeInvalidAuthorization, c.readError().Code)
	requireRejection(t, fx.next(t).err, schemas.RejectBadCert)
}

func ptr[T any](v T) *T { return &v }
