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
}

// SetCertificateSource makes Serve ask get for the server cert at each
// handshake (so a renewed cert is served without a restart).
func (s *Server) SetCertificateSource(get func(*tls.ClientHelloInfo) (*tls.Certificate, error)) {
	s.getCert = get
}

// New returns a Server for svc.
func New(svc *control.Service, log zerolog.Logger) *Server {
	s := &Server{svc: svc, log: log.With().Str("component", "api").Logger(), mux: http.NewServeMux()}
	s.routes()
	s.auditRoutes()
	s.exportRoutes()
	s.rotationRoutes()
	s.agentRoutes()
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

type authed func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error)

type open func(w http.ResponseWriter, r *http.Request) (any, error)

// auth wraps an authenticated handler: the client cert is verified against
// the current trusted user and host CAs.
func (s *Server) auth(h authed) http.HandlerFunc {
	return s.open(func(w http.ResponseWriter, r *http.Request) (any, error) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			return nil, &control.Error{Code: control.CodeUnauthorized,
				Message: "a client certificate is required: log in with toll login, or run tollctl on the control host (local admin identity)"}
		}
		c, err := s.svc.Identify(r.TLS.PeerCertificates[0])
		if err != nil {
			return nil, err
		}
		return h(w, r, c)
	})
}

func (s *Server) open(h open) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
		out, err := h(w, r)
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
