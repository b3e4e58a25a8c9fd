package tunnel

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/tollgate-db/tollgate/internal/pgwire"
)

// MaxClientHello bounds what control reads of a PostgreSQL client's TLS
// ClientHello to find its SNI (one a post-quantum key share makes about
// 1.8 KB).
const MaxClientHello = 64 << 10

// ErrNoSNI means a PostgreSQL client's ClientHello named no server.
var ErrNoSNI = errors.New("the TLS ClientHello names no database")

// ServePostgres serves c, a PostgreSQL client on control's public port
// whose first bytes are in br. A CancelRequest goes to every agent's
// tunnel (only the one holding the key acts). An SSLRequest is answered
// 'S'; the client's ClientHello is read, not answered, for its SNI, whose
// first label names the database (roach.control.example.com is roach);
// a stream is opened to an agent serving it, the SSLRequest and the
// ClientHello are sent on it as they came, the agent's 'S' is swallowed
// and from then on control relays bytes it cannot read: the TLS is the
// client's with the agent, which decides, audits and answers. A client
// control cannot route gets a TLS handshake with fallback (control's
// cert) and a FATAL saying why.
func (h *Hub) ServePostgres(ctx context.Context, c net.Conn, br *bufio.Reader, fallback *tls.Config) {
	defer c.Close()
	remote := c.RemoteAddr().String()
	_ = c.SetReadDeadline(time.Now().Add(sniffTimeout))
	ssl, err := h.sslRequest(c, br)
	if err != nil || ssl == nil {
		if err != nil {
			h.log.Debug().Err(err).Str("remote", remote).Msg("PostgreSQL client refused")
		}
		return
	}
	if _, err := c.Write([]byte{'S'}); err != nil {
		return
	}
	sni, hello, err := readClientHello(br)
	if err != nil {
		h.log.Debug().Err(err).Str("remote", remote).Msg("PostgreSQL client refused")
		return
	}
	database, err := databaseOfSNI(sni)
	if err == nil && len(h.tunnelsFor(database, false)) == 0 {
		err = fmt.Errorf("database %s: %w (is its agent running with db_service.tunnel, and is it joined to this control?)", database, ErrNoTunnel)
	}
	var s net.Conn
	if err == nil {
		s, err = h.Open(database, remote)
	}
	if err != nil {
		h.log.Warn().Err(err).Str("remote", remote).Str("sni", sni).Msg("PostgreSQL client refused")
		refuseInTLS(c, hello, br, fallback, err)
		return
	}
	defer s.Close()
	if err := startAgent(s, ssl, hello); err != nil {
		h.log.Warn().Err(err).Str("database", database).Msg("PostgreSQL client refused")
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	relay(ctx, c, br, s)
}

// sslRequest reads the client's startup packets up to its SSLRequest and
// returns it; GSSENCRequest is declined ('N', as PostgreSQL without GSS
// does), a CancelRequest is broadcast and a plaintext StartupMessage is
// refused (both with nil, nil).
func (h *Hub) sslRequest(c net.Conn, br *bufio.Reader) ([]byte, error) {
	for range 2 {
		st, err := pgwire.ReadStartup(br)
		if err != nil {
			return nil, err
		}
		switch st.Kind {
		case pgwire.KindSSLRequest:
			return st.Raw, nil
		case pgwire.KindGSSENCRequest:
			if _, err := c.Write([]byte{'N'}); err != nil {
				return nil, err
			}
		case pgwire.KindCancelRequest:
			h.broadcastCancel(st.Raw, h.allTunnels(), "", c.RemoteAddr().String())
			return nil, nil
		default:
			_ = pgwire.WriteFatal(c, pgwire.CodeInvalidAuthorization,
				"Tollgate takes PostgreSQL clients over TLS only, with your database certificate: "+
					"use sslmode=verify-ca and the settings `toll db env NAME` prints")
			return nil, nil
		}
	}
	return nil, errors.New("a second GSSENCRequest")
}

// startAgent begins the agent's side of a stream: the client's SSLRequest,
// the agent's 'S' (swallowed: control answered it), the ClientHello.
func startAgent(s net.Conn, ssl, hello []byte) error {
	_ = s.SetDeadline(time.Now().Add(sniffTimeout))
	if _, err := s.Write(ssl); err != nil {
		return fmt.Errorf("send SSLRequest to agent: %w", err)
	}
	var b [1]byte
	if _, err := io.ReadFull(s, b[:]); err != nil {
		return fmt.Errorf("agent's answer to SSLRequest: %w", err)
	}
	if b[0] != 'S' {
		return fmt.Errorf("agent answered the SSLRequest %q, not 'S'", b[0])
	}
	if _, err := s.Write(hello); err != nil {
		return fmt.Errorf("send ClientHello to agent: %w", err)
	}
	_ = s.SetDeadline(time.Time{})
	return nil
}

// databaseOfSNI is the database an SNI names: its first label.
func databaseOfSNI(sni string) (string, error) {
	if sni == "" {
		return "", fmt.Errorf("%w: connect with the database's name as the first label of the host "+
			"(host=NAME.CONTROL-HOST, or hostaddr=CONTROL-IP with host=NAME.tollgate); `toll db env NAME` prints it", ErrNoSNI)
	}
	label, _, _ := strings.Cut(sni, ".")
	return strings.ToLower(label), nil
}

// errHelloRead stops the handshake readClientHello runs once the
// ClientHello is parsed.
var errHelloRead = errors.New("client hello read")

// readClientHello reads a TLS ClientHello from br without answering it:
// the server name it asks for and every byte read (to send on as it came).
// crypto/tls parses it; the handshake is stopped at the hello.
func readClientHello(br *bufio.Reader) (string, []byte, error) {
	rec := &recorder{r: br}
	var sni string
	var got bool
	srv := tls.Server(rec, &tls.Config{GetConfigForClient: func(chi *tls.ClientHelloInfo) (*tls.Config, error) {
		sni, got = chi.ServerName, true
		return nil, errHelloRead
	}})
	err := srv.Handshake()
	if !got {
		return "", nil, fmt.Errorf("read TLS ClientHello: %w", err)
	}
	return sni, rec.buf.Bytes(), nil
}

// recorder is the net.Conn readClientHello handshakes on: reads come from
// r and are kept (at most MaxClientHello bytes), writes (an alert) are
// dropped.
type recorder struct {
	net.Conn
	r   io.Reader
	buf bytes.Buffer
}

func (r *recorder) Read(p []byte) (int, error) {
	if r.buf.Len() >= MaxClientHello {
		return 0, fmt.Errorf("ClientHello over %d bytes", MaxClientHello)
	}
	if room := MaxClientHello - r.buf.Len(); len(p) > room {
		p = p[:room]
	}
	n, err := r.r.Read(p)
	r.buf.Write(p[:n])
	return n, err
}

func (r *recorder) Write(p []byte) (int, error)      { return len(p), nil }
func (r *recorder) Close() error                     { return nil }
func (r *recorder) SetDeadline(time.Time) error      { return nil }
func (r *recorder) SetReadDeadline(time.Time) error  { return nil }
func (r *recorder) SetWriteDeadline(time.Time) error { return nil }

// refuseInTLS completes the client's TLS handshake with control's own
// cert (a host cert of the cluster, which sslmode=verify-ca accepts),
// reads its StartupMessage and answers FATAL with why: libpq shows that,
// where a closed connection would say nothing.
func refuseInTLS(c net.Conn, hello []byte, br *bufio.Reader, fallback *tls.Config, why error) {
	if fallback == nil {
		return
	}
	cfg := fallback.Clone()
	cfg.NextProtos = nil
	tc := tls.Server(&peekedConn{Conn: c, r: bufio.NewReader(io.MultiReader(bytes.NewReader(hello), br))}, cfg)
	if err := tc.Handshake(); err != nil {
		return
	}
	_, _ = pgwire.ReadStartup(bufio.NewReader(tc))
	code := pgwire.CodeConnectionFailure
	if errors.Is(why, ErrNoSNI) {
		code = pgwire.CodeInvalidCatalogName
	}
	_ = pgwire.WriteFatal(tc, code, why.Error())
	_ = tc.Close()
}
