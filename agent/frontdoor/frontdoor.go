package frontdoor

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/pgwire"
	"github.com/tollgate-db/tollgate/schemas"
)

// DefaultHandshakeTimeout bounds accept → authorized session.
const DefaultHandshakeTimeout = 10 * time.Second

// PlaintextMessage is what a client without TLS is told.
const PlaintextMessage = "Tollgate requires TLS with a Tollgate client certificate: connect with `toll db connect DATABASE`, or use sslmode=verify-full with the certificates from `toll db login` (or `toll proxy db` for clients without certificates)"

// Config configures a FrontDoor.
type Config struct {
	// AgentID goes into every rejection record.
	AgentID string
	// Credentials give the user CA pool and the server cert (required).
	Credentials Credentials
	// Identify extracts user and route from a verified cert (required).
	Identify IdentityFunc
	// Catalog says which databases this agent serves (required).
	Catalog Catalog
	// Authorizer decides (required).
	Authorizer Authorizer
	// Cancel receives CancelRequests; nil drops them.
	Cancel CancelHandler
	// HandshakeTimeout bounds accept → decision (0: 10s; negative is
	// refused).
	HandshakeTimeout time.Duration
	// MaxConnections bounds concurrent connections held by Handle and by
	// open Sessions; 0 means no bound.
	MaxConnections int
	// Clock and IDs default to the system clock and ULIDs.
	Clock eventlog.Clock
	IDs   eventlog.IDSource
}

// FrontDoor handles client connections. Safe for concurrent use.
type FrontDoor struct {
	cfg    Config
	active atomic.Int64
}

// New checks cfg and fills its defaults.
func New(cfg Config) (*FrontDoor, error) {
	switch {
	case cfg.Credentials == nil:
		return nil, errors.New("frontdoor: Credentials is required")
	case cfg.Identify == nil:
		return nil, errors.New("frontdoor: Identify is required")
	case cfg.Catalog == nil:
		return nil, errors.New("frontdoor: Catalog is required")
	case cfg.Authorizer == nil:
		return nil, errors.New("frontdoor: Authorizer is required")
	case cfg.MaxConnections < 0:
		return nil, errors.New("frontdoor: MaxConnections must not be negative")
	case cfg.HandshakeTimeout < 0:
		return nil, errors.New("frontdoor: HandshakeTimeout must not be negative")
	}
	if cfg.HandshakeTimeout == 0 {
		cfg.HandshakeTimeout = DefaultHandshakeTimeout
	}
	if cfg.Clock == nil {
		cfg.Clock = eventlog.SystemClock{}
	}
	if cfg.IDs == nil {
		cfg.IDs = eventlog.NewULIDs()
	}
	return &FrontDoor{cfg: cfg}, nil
}

// Active returns the number of connections held (in handshake or in a
// Session not yet closed).
func (f *FrontDoor) Active() int { return int(f.active.Load()) }

func (f *FrontDoor) acquire() bool {
	n := f.active.Add(1)
	if f.cfg.MaxConnections > 0 && n > int64(f.cfg.MaxConnections) {
		f.active.Add(-1)
		return false
	}
	return true
}

func (f *FrontDoor) release() { f.active.Add(-1) }

// Handle takes conn through the startup: it returns a *Session (the caller
// owns it and must Close it), or an error: a *Rejection (the client was
// refused; record it), ErrCancelRequest, or another error when the client
// went away before saying anything (wrapping io.EOF). On every error conn
// is closed.
func (f *FrontDoor) Handle(ctx context.Context, conn net.Conn) (*Session, error) {
	h := &handshake{f: f, conn: conn, id: f.cfg.IDs.NewID(f.cfg.Clock.Now())}
	h.rej.SessionID = h.id
	h.rej.AgentID = f.cfg.AgentID
	if a := conn.RemoteAddr(); a != nil {
		h.rej.ClientAddr = a.String()
	}
	if !f.acquire() {
		// Read the client's first packet so the refusal is read rather than
		// lost to a reset; libpq shows an ErrorResponse sent in answer to
		// an SSLRequest.
		_ = conn.SetDeadline(time.Now().Add(f.cfg.HandshakeTimeout))
		_, _ = pgwire.ReadStartup(bufio.NewReaderSize(conn, 512))
		err := h.refuse(conn, schemas.RejectProtocol, pgwire.CodeTooManyConnections,
			fmt.Sprintf("too many connections to this Tollgate agent (max %d); try again later", f.cfg.MaxConnections), nil)
		conn.Close()
		return nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(f.cfg.HandshakeTimeout))
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	s, err := h.run(ctx)
	stop()
	if err != nil {
		conn.Close()
		f.release()
		if ctx.Err() != nil {
			var r *Rejection
			if errors.As(err, &r) && r.Err == nil {
				r.Err = ctx.Err()
			}
		}
		return nil, err
	}
	if err := conn.SetDeadline(time.Time{}); err != nil {
		conn.Close()
		f.release()
		return nil, fmt.Errorf("clear handshake deadline: %w", err)
	}
	var once atomic.Bool
	s.release = func() {
		if once.CompareAndSwap(false, true) {
			f.release()
		}
	}
	return s, nil
}

// handshake is the state of one Handle call.
type handshake struct {
	f    *FrontDoor
	conn net.Conn
	id   string
	rej  schemas.SessionRejected
	// verified: the client cert chains to the user CA.
	verified bool
}

// refuse sends a FATAL ErrorResponse on w (nil: send nothing) and returns
// the Rejection.
func (h *handshake) refuse(w io.Writer, code, sqlstate, reason string, cause error) *Rejection {
	r := &Rejection{Event: recordedRejection(h.rej), Authenticated: h.verified, Err: cause}
	r.Event.Code = code
	r.Event.Reason = reason
	if w != nil {
		r.Sent = pgwire.Fatal(sqlstate, reason)
		_ = pgwire.WriteError(w, r.Sent)
	}
	return r
}

func (h *handshake) run(ctx context.Context) (*Session, error) {
	br := bufio.NewReaderSize(h.conn, 512)
	declinedGSS := false
	for {
		st, err := pgwire.ReadStartup(br)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("client closed before the startup packet: %w", err)
			}
			return nil, h.protocolError(h.conn, "reading the startup packet", err)
		}
		switch st.Kind {
		case pgwire.KindGSSENCRequest:
			if declinedGSS {
				return nil, h.refuse(h.conn, schemas.RejectProtocol, pgwire.CodeProtocolViolation, "GSSENCRequest sent twice", nil)
			}
			declinedGSS = true
			if _, err := h.conn.Write([]byte{'N'}); err != nil {
				return nil, h.refuse(nil, schemas.RejectProtocol, "", "client went away", err)
			}
		case pgwire.KindCancelRequest:
			if h.f.cfg.Cancel != nil {
				h.f.cfg.Cancel.HandleCancel(ctx, h.conn.RemoteAddr(), st.ProcessID, st.SecretKey)
			}
			return nil, ErrCancelRequest
		case pgwire.KindStartupMessage:
			h.rej.DBUser = st.Params["user"]
			h.rej.DBName = st.Params["database"]
			h.rej.Params = st.Params
			return nil, h.refuse(h.conn, schemas.RejectPlaintext, pgwire.CodeInvalidAuthorization, PlaintextMessage, nil)
		case pgwire.KindSSLRequest:
			// Bytes sent after SSLRequest before the TLS handshake would be
			// read as if encrypted (CVE-2021-23214): refuse them.
			if br.Buffered() > 0 {
				return nil, h.refuse(h.conn, schemas.RejectProtocol, pgwire.CodeProtocolViolation, "unencrypted data after SSLRequest", nil)
			}
			return h.afterSSLRequest(ctx)
		default:
			return nil, h.refuse(h.conn, schemas.RejectProtocol, pgwire.CodeProtocolViolation, "unexpected startup packet", nil)
		}
	}
}

func (h *handshake) protocolError(w io.Writer, what string, err error) *Rejection {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return h.refuse(nil, schemas.RejectProtocol, "", "handshake timeout", err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) {
		return h.refuse(nil, schemas.RejectProtocol, "", "client went away "+what, err)
	}
	msg := "protocol violation " + what
	if errors.Is(err, pgwire.ErrUnsupportedProtocol) {
		msg = "unsupported frontend protocol or request: Tollgate speaks PostgreSQL protocol 3.x over TLS"
	} else if errors.Is(err, pgwire.ErrFrameTooLarge) {
		msg = "startup packet too large"
	}
	return h.refuse(w, schemas.RejectProtocol, pgwire.CodeProtocolViolation, msg, err)
}

// afterSSLRequest takes the connection from its SSLRequest to a Session
// or a refusal, in named steps: TLS, the startup inside it, the db user
// and name it asks for, the client cert verified, the identity and route
// it names, the decision.
func (h *handshake) afterSSLRequest(ctx context.Context) (*Session, error) {
	tc, err := h.startTLS(ctx)
	if err != nil {
		return nil, err
	}
	now := h.f.cfg.Clock.Now()
	peer := tc.ConnectionState().PeerCertificates
	st, br, err := h.readStartupInTLS(ctx, tc)
	if err != nil {
		return nil, err
	}
	if len(peer) == 0 {
		return nil, h.refuse(tc, schemas.RejectBadCert, pgwire.CodeInvalidAuthorization,
			"a client certificate from the Tollgate user CA is required: use `toll db connect` or sslcert/sslkey from `toll db config`", nil)
	}
	leaf := peer[0]
	h.rej.User = leaf.Subject.CommonName
	dbUser, dbName, params, err := h.startupNames(tc, st.Params)
	if err != nil {
		return nil, err
	}
	if err := h.verifyCert(tc, peer, now); err != nil {
		return nil, err
	}
	id, db, err := h.identify(tc, leaf)
	if err != nil {
		return nil, err
	}
	req := Request{
		SessionID: h.id, Identity: id, Database: db, DBUser: dbUser, DBName: dbName,
		Params: params, ClientAddr: h.rej.ClientAddr, Replication: wantsReplication(params["replication"]), Now: now,
	}
	dec, err := h.decide(ctx, tc, req)
	if err != nil {
		return nil, err
	}
	return &Session{
		ID: h.id, Identity: id, Database: db, DBUser: dbUser, DBName: dbName,
		Params: params, ClientAddr: h.rej.ClientAddr, CertExpiry: leaf.NotAfter,
		Decision: dec, Startup: st, Conn: tc, Reader: br,
	}, nil
}

// startTLS answers the SSLRequest with 'S' and completes the handshake.
func (h *handshake) startTLS(ctx context.Context) (*tls.Conn, error) {
	cfg := &tls.Config{
		MinVersion: tls.VersionTLS12,
		// The chain is verified by verifyCert against the current pool, so
		// that an expired or foreign cert gets a clear PostgreSQL error
		// instead of a bare TLS alert. The handshake itself proves key
		// possession. A client cert is requested, not required, so that a
		// CancelRequest sent inside TLS without one still reaches the cancel
		// handler; a StartupMessage without a cert is refused.
		ClientAuth: tls.RequestClientCert,
		GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
			return h.f.cfg.Credentials.ServerCertificate()
		},
	}
	if _, err := h.conn.Write([]byte{'S'}); err != nil {
		return nil, h.refuse(nil, schemas.RejectProtocol, "", "client went away", err)
	}
	tc := tls.Server(h.conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, h.refuse(nil, schemas.RejectBadCert, "", "TLS handshake failed (a client certificate from the Tollgate user CA is required)", err)
	}
	return tc, nil
}

// readStartupInTLS reads the StartupMessage sent inside TLS; a
// CancelRequest there goes to the cancel handler (ErrCancelRequest).
func (h *handshake) readStartupInTLS(ctx context.Context, tc *tls.Conn) (*pgwire.Startup, *bufio.Reader, error) {
	br := bufio.NewReaderSize(tc, 4096)
	st, err := pgwire.ReadStartup(br)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, nil, h.protocolError(tc, "reading the startup message", err)
	}
	if st.Kind == pgwire.KindCancelRequest {
		// libpq 17+ and pgx send the CancelRequest inside TLS (with or
		// without a client cert); the secret key is what authenticates it.
		if h.f.cfg.Cancel != nil {
			h.f.cfg.Cancel.HandleCancel(ctx, h.conn.RemoteAddr(), st.ProcessID, st.SecretKey)
		}
		return nil, nil, ErrCancelRequest
	}
	if st.Kind != pgwire.KindStartupMessage {
		return nil, nil, h.refuse(tc, schemas.RejectProtocol, pgwire.CodeProtocolViolation, "expected a StartupMessage inside TLS, got "+st.Kind.String(), nil)
	}
	return st, br, nil
}

// startupNames reads the db user (required) and db name the startup asks
// for. An empty db name becomes the db user's, in the parameters too,
// before the decision: it would otherwise reach the server's default (the
// user's name) without being checked.
func (h *handshake) startupNames(tc *tls.Conn, params map[string]string) (string, string, map[string]string, error) {
	h.rej.Params = params
	dbUser, dbName := params["user"], params["database"]
	h.rej.DBUser = dbUser
	if dbUser == "" {
		return "", "", nil, h.refuse(tc, schemas.RejectProtocol, pgwire.CodeInvalidAuthorization, "no database user in the startup message", nil)
	}
	if dbName == "" {
		dbName = dbUser
		withDB := make(map[string]string, len(params)+1)
		for k, v := range params {
			withDB[k] = v
		}
		withDB["database"] = dbName
		params = withDB
	}
	h.rej.DBName = dbName
	return dbUser, dbName, params, nil
}

// verifyCert checks who the client is: its cert unexpired and chaining to
// the current user CA pool.
func (h *handshake) verifyCert(tc *tls.Conn, peer []*x509.Certificate, now time.Time) error {
	leaf := peer[0]
	if now.After(leaf.NotAfter) {
		return h.refuse(tc, schemas.RejectCertExpired, pgwire.CodeInvalidAuthorization,
			fmt.Sprintf("your Tollgate certificate expired at %s: run `toll login` and `toll db login`", leaf.NotAfter.UTC().Format(time.RFC3339)), nil)
	}
	pool, err := h.f.cfg.Credentials.ClientCAs()
	if err != nil || pool == nil {
		return h.refuse(tc, schemas.RejectBadCert, pgwire.CodeCannotConnectNow, "the agent has no trusted user CA yet; try again shortly", err)
	}
	inter := x509.NewCertPool()
	for _, c := range peer[1:] {
		inter.AddCert(c)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{
		Roots: pool, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}); err != nil {
		return h.refuse(tc, schemas.RejectBadCert, pgwire.CodeInvalidAuthorization,
			"certificate not issued by this Tollgate cluster's user CA: run `toll login` against this cluster", err)
	}
	h.verified = true
	return nil
}

// identify reads the Tollgate user and database route the verified cert
// names, and finds the route among the databases this agent serves.
func (h *handshake) identify(tc *tls.Conn, leaf *x509.Certificate) (Identity, Database, error) {
	id, err := h.f.cfg.Identify(leaf)
	if err != nil {
		return Identity{}, Database{}, h.refuse(tc, schemas.RejectBadCert, pgwire.CodeInvalidAuthorization,
			"certificate carries no Tollgate identity: get a database certificate with `toll db login DATABASE`", err)
	}
	id.Serial = strings.ToLower(hex.EncodeToString(leaf.SerialNumber.Bytes()))
	id.NotAfter = leaf.NotAfter
	id.Cert = leaf
	h.rej.User = id.User
	h.rej.Database = id.Database
	if id.User == "" || id.Database == "" {
		return Identity{}, Database{}, h.refuse(tc, schemas.RejectBadCert, pgwire.CodeInvalidAuthorization,
			"certificate names no user or no database route: get one with `toll db login DATABASE`", nil)
	}
	db, ok := h.f.cfg.Catalog.Lookup(id.Database)
	if !ok {
		return Identity{}, Database{}, h.refuse(tc, schemas.RejectUnknownDB, pgwire.CodeInvalidCatalogName,
			fmt.Sprintf("database %q is not served by this Tollgate agent: check `toll db ls`", id.Database), nil)
	}
	return id, db, nil
}

// decide asks the Authorizer; a refusal gets its code, SQLSTATE and
// reason, defaulted, and a replication request needs its own permission.
func (h *handshake) decide(ctx context.Context, tc *tls.Conn, req Request) (Decision, error) {
	dec, err := h.f.cfg.Authorizer.Authorize(ctx, req)
	if err != nil {
		return Decision{}, h.refuse(tc, schemas.RejectDenied, pgwire.CodeCannotConnectNow, "the access decision failed; try again", err)
	}
	if !dec.Allowed {
		code, state, reason := dec.Code, dec.SQLState, dec.Reason
		if code == "" {
			code = schemas.RejectDenied
		}
		if state == "" {
			state = pgwire.CodeInvalidAuthorization
		}
		if reason == "" {
			reason = fmt.Sprintf("access to database %q as db user %q, db name %q denied", req.Identity.Database, req.DBUser, req.DBName)
		}
		return Decision{}, h.refuse(tc, code, state, reason, nil)
	}
	if req.Replication && !dec.AllowReplication {
		return Decision{}, h.refuse(tc, schemas.RejectReplication, pgwire.CodeInsufficientPrivilege,
			"replication connections are not allowed through Tollgate for your roles", nil)
	}
	return dec, nil
}

// wantsReplication reads the `replication` startup parameter: true,
// database, on, yes, 1 ask for a walsender; anything else but false/off/
// no/0 is treated as a request too (refuse when in doubt).
func wantsReplication(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "", "false", "off", "no", "0":
		return false
	}
	return true
}
