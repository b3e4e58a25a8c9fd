package api

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/tunnel"
	"github.com/tollgate-db/tollgate/control/wire"
)

// MaxBody bounds a request body.
const MaxBody = 1 << 20

// Server serves the API of one control Service.
type Server struct {
	svc     *control.Service
	log     zerolog.Logger
	mux     *http.ServeMux
	getCert func(*tls.ClientHelloInfo) (*tls.Certificate, error)

	exportStatus atomic.Pointer[ExportStatusFunc]
	tunnels      *tunnel.Hub
}

// SetTunnelHub makes Serve take agents' reverse tunnels and clients'
// database connections on the API's port: ALPN wire.ALPNTunnel and
// wire.ALPNDatabase, and PostgreSQL clients (an SSLRequest first, then
// TLS with SNI naming the database) relayed to the agent unread.
func (s *Server) SetTunnelHub(h *tunnel.Hub) { s.tunnels = h }

// SetCertificateSource makes Serve ask get for the server cert at each
// handshake (so a renewed cert is served without a restart).
func (s *Server) SetCertificateSource(get func(*tls.ClientHelloInfo) (*tls.Certificate, error)) {
	s.getCert = get
}

// New returns a Server for svc.
func New(svc *control.Service, log zerolog.Logger) *Server {
	s := &Server{svc: svc, log: log.With().Str("component", "api").Logger(), mux: http.NewServeMux()}
	s.routes()
	return s
}

// Handler is the API's http.Handler (it expects r.TLS to be set for
// authenticated routes).
func (s *Server) Handler() http.Handler { return s.mux }

// TLSConfig is the server TLS config: TLS 1.3, cert, client certs
// requested (verified per request against the projection's trusted CAs).
func TLSConfig(cert tls.Certificate) *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{cert}, ClientAuth: tls.RequestClientCert}
}

// Serve serves HTTPS on ln with cert until ctx ends, then shuts down
// gracefully.
func (s *Server) Serve(ctx context.Context, ln net.Listener, cert tls.Certificate) error {
	hs := &http.Server{
		Handler:           s.mux,
		TLSConfig:         TLSConfig(cert),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          nil,
	}
	if s.getCert != nil {
		hs.TLSConfig.Certificates, hs.TLSConfig.GetCertificate = nil, s.getCert
	}
	if h := s.tunnels; h != nil {
		// PostgreSQL clients on the same port: relayed by their SNI.
		ln = h.Front(ctx, ln, hs.TLSConfig.Clone())
		hs.TLSConfig.NextProtos = append([]string{"http/1.1"}, tunnel.NextProtos...)
		hs.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){
			wire.ALPNTunnel:   func(_ *http.Server, c *tls.Conn, _ http.Handler) { h.ServeAgent(c) },
			wire.ALPNDatabase: func(_ *http.Server, c *tls.Conn, _ http.Handler) { h.ServeClient(ctx, c) },
		}
		// Tunnels are long-lived connections Shutdown would wait for.
		hs.RegisterOnShutdown(h.Close)
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(tls.NewListener(ln, hs.TLSConfig)) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve API: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shut down API: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// serveFunc runs one call for caller c (zero for an open call) and
// returns its answer, nil for none.
type serveFunc func(r *http.Request, c control.Caller) (any, error)

// serve wraps f: the body bounded by MaxBody, the caller identified
// unless the call is open (its client cert verified against the current
// trusted user and host CAs), an error answered as {code, message} with
// the status of its code, no answer as 204.
func (s *Server) serve(open bool, f serveFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
		out, err := s.run(open, f, r)
		if err != nil {
			e := control.AsError(err)
			code := status(e)
			if code >= 500 {
				s.log.Error().Err(err).Str("path", r.URL.Path).Msg("API request failed")
			}
			writeJSON(w, code, wire.Error{Code: e.Code, Message: e.Message})
			return
		}
		if out == nil {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeJSON(w, http.StatusOK, out)
	}
}

func (s *Server) run(open bool, f serveFunc, r *http.Request) (any, error) {
	if open {
		return f(r, control.Caller{})
	}
	if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
		return nil, &control.Error{Code: control.CodeUnauthorized,
			Message: "a client certificate is required: log in with toll login, or run tollctl on the control host (local admin identity)"}
	}
	c, err := s.svc.Identify(r.TLS.PeerCertificates[0])
	if err != nil {
		return nil, err
	}
	return f(r, c)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func decode(r *http.Request, v any) error {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &control.Error{Code: control.CodeInvalid, Message: "request body too large", Err: mbe}
		}
		return &control.Error{Code: control.CodeInvalid, Message: "bad request body: " + err.Error()}
	}
	return nil
}
