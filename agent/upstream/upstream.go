package upstream

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"

	"github.com/jackc/pgproto3/v2"

	"github.com/tollgate-db/tollgate/internal/pgwire"
)

// Verification modes (agent/config.TLSVerify*).
const (
	VerifyFull = "verify-full"
	VerifyCA   = "verify-ca"
)

// maxFirstMessage bounds the server's first answer to the startup.
const maxFirstMessage = 64 << 10

// DefaultDialTimeout is Target.DialTimeout's default.
const DefaultDialTimeout = 10 * time.Second

var (
	// ErrNoTLS means the database refused the SSLRequest.
	ErrNoTLS = errors.New("the database does not accept TLS connections")
	// ErrPasswordRequired means the database asked for a password instead
	// of accepting the db_client cert.
	ErrPasswordRequired = errors.New("the database asked for a password: it must be set up for certificate authentication (hostssl … cert) trusting the Tollgate db_client CA")
)

// Target is one database as the agent reaches it.
type Target struct {
	// Addr is HOST:PORT.
	Addr string
	// Mode is VerifyFull (default) or VerifyCA.
	Mode string
	// Roots are the CAs the server cert must chain to (required).
	Roots *x509.CertPool
	// ServerName is verified in VerifyFull mode (default: Addr's host).
	ServerName string
	// Cert is the client cert presented (the session's db_client cert).
	Cert *tls.Certificate
	// DialTimeout bounds TCP connect plus TLS (0: DefaultDialTimeout;
	// negative is refused).
	DialTimeout time.Duration
}

// ServerError is an ErrorResponse the database sent in answer to the
// startup; Raw is what to forward to the client (the ErrorResponse, after
// the NegotiateProtocolVersion that came before it, if any).
type ServerError struct {
	Raw     []byte
	Code    string
	Message string
}

func (e *ServerError) Error() string {
	return fmt.Sprintf("database refused the session: %s (SQLSTATE %s)", e.Message, e.Code)
}

// TLSConfig returns the client TLS config for t.
func (t Target) TLSConfig() (*tls.Config, error) {
	if t.Roots == nil {
		return nil, errors.New("upstream: no CA to verify the database against")
	}
	name := t.ServerName
	if name == "" {
		h, _, err := net.SplitHostPort(t.Addr)
		if err != nil {
			return nil, fmt.Errorf("upstream: database address %q: %w", t.Addr, err)
		}
		name = h
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, RootCAs: t.Roots, ServerName: name}
	if t.Cert != nil {
		cert := t.Cert
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return cert, nil }
	}
	switch t.Mode {
	case "", VerifyFull:
	case VerifyCA:
		roots := t.Roots
		cfg.InsecureSkipVerify = true // the chain is verified below, the name is not
		cfg.VerifyPeerCertificate = func(raw [][]byte, _ [][]*x509.Certificate) error {
			return verifyChain(raw, roots)
		}
	default:
		return nil, fmt.Errorf("upstream: tls mode %q: use verify-full or verify-ca", t.Mode)
	}
	return cfg, nil
}

func verifyChain(raw [][]byte, roots *x509.CertPool) error {
	if len(raw) == 0 {
		return errors.New("database sent no certificate")
	}
	certs := make([]*x509.Certificate, len(raw))
	for i, r := range raw {
		c, err := x509.ParseCertificate(r)
		if err != nil {
			return fmt.Errorf("database certificate: %w", err)
		}
		certs[i] = c
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, err := certs[0].Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}})
	return err
}

// DialTLS connects to t.Addr, asks for TLS with an SSLRequest and completes
// the handshake. The returned connection carries nothing else yet (a
// CancelRequest or a StartupMessage comes next).
func DialTLS(ctx context.Context, t Target) (*tls.Conn, error) {
	if t.DialTimeout < 0 {
		return nil, fmt.Errorf("upstream: DialTimeout %v is negative", t.DialTimeout)
	}
	cfg, err := t.TLSConfig()
	if err != nil {
		return nil, err
	}
	timeout := t.DialTimeout
	if timeout == 0 {
		timeout = DefaultDialTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", t.Addr)
	if err != nil {
		return nil, fmt.Errorf("connect to database %s: %w", t.Addr, err)
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(dl)
	}
	var req [8]byte
	binary.BigEndian.PutUint32(req[0:4], 8)
	binary.BigEndian.PutUint32(req[4:8], pgwire.CodeSSLRequest)
	if _, err := raw.Write(req[:]); err != nil {
		raw.Close()
		return nil, fmt.Errorf("send SSLRequest to %s: %w", t.Addr, err)
	}
	var ans [1]byte
	if _, err := io.ReadFull(raw, ans[:]); err != nil {
		raw.Close()
		return nil, fmt.Errorf("read SSLRequest answer from %s: %w", t.Addr, err)
	}
	if ans[0] != 'S' {
		raw.Close()
		return nil, fmt.Errorf("database %s: %w", t.Addr, ErrNoTLS)
	}
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, fmt.Errorf("TLS to database %s: %w", t.Addr, err)
	}
	_ = raw.SetDeadline(time.Time{})
	return tc, nil
}

// Connect opens a session on the database: DialTLS, the client's startup
// packet forwarded unchanged (any protocol 3.x version it asks for), and
// the server's first answer read: AuthenticationOk, or an ErrorResponse,
// either possibly after a NegotiateProtocolVersion (a server older than
// the version asked for). On success the returned connection replays
// those messages first.
func Connect(ctx context.Context, t Target, startup []byte) (net.Conn, error) {
	tc, err := DialTLS(ctx, t)
	if err != nil {
		return nil, err
	}
	dl := time.Now().Add(30 * time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(dl) {
		dl = d
	}
	_ = tc.SetDeadline(dl)
	stop := context.AfterFunc(ctx, func() { _ = tc.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	if _, err := tc.Write(startup); err != nil {
		tc.Close()
		return nil, fmt.Errorf("send startup to database %s: %w", t.Addr, err)
	}
	br := bufio.NewReaderSize(tc, 8192)
	fr := pgwire.NewServerReader(br, maxFirstMessage)
	typ, body, err := fr.Next()
	if err != nil {
		tc.Close()
		return nil, fmt.Errorf("read the database's answer to the startup: %w", err)
	}
	var first []byte
	if typ == pgwire.ServerNegotiateProtocolVersion {
		// The client asked for a newer minor version (3.2 of a server
		// that speaks 3.0) or `_pq_.` options the server lacks: the
		// server says what it speaks, then goes on. The client decides
		// whether that will do.
		first = append(first, fr.Raw()...)
		if typ, body, err = fr.Next(); err != nil {
			tc.Close()
			return nil, fmt.Errorf("read the database's answer to the startup after NegotiateProtocolVersion: %w", err)
		}
	}
	first = append(first, fr.Raw()...)
	switch typ {
	case pgwire.ServerAuthentication:
		if len(body) < 4 {
			tc.Close()
			return nil, fmt.Errorf("database %s sent a malformed authentication message", t.Addr)
		}
		if code := binary.BigEndian.Uint32(body[:4]); code != 0 {
			tc.Close()
			return nil, ErrPasswordRequired
		}
	case pgwire.ServerErrorResponse:
		tc.Close()
		var er pgproto3.ErrorResponse
		se := &ServerError{Raw: first}
		if pgwire.Decode(&er, body) == nil {
			se.Code, se.Message = er.Code, er.Message
		}
		return nil, se
	default:
		tc.Close()
		return nil, fmt.Errorf("database %s answered the startup with message %q", t.Addr, typ)
	}
	if err := tc.SetDeadline(time.Time{}); err != nil {
		tc.Close()
		return nil, err
	}
	return &replayConn{Conn: tc, br: br, prefix: first}, nil
}

// replayConn reads prefix, then what br buffered, then the connection.
type replayConn struct {
	net.Conn
	br     *bufio.Reader
	prefix []byte
}

func (c *replayConn) Read(p []byte) (int, error) {
	if len(c.prefix) > 0 {
		n := copy(p, c.prefix)
		c.prefix = c.prefix[n:]
		return n, nil
	}
	if c.br != nil {
		if c.br.Buffered() > 0 {
			return c.br.Read(p)
		}
		c.br = nil
	}
	return c.Conn.Read(p)
}
