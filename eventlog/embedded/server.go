package embedded

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/rs/zerolog"
)

// DefaultReadyTimeout bounds how long Start waits for the server.
const DefaultReadyTimeout = 30 * time.Second

// Config configures an embedded server. Only StoreDir is required.
type Config struct {
	// StoreDir is where JetStream keeps its files.
	StoreDir string
	// Listen is "" for in-process connections only (no port is opened), or
	// "host:port" for a network listener (port 0 picks a free one).
	Listen string
	// TLS for the listener: either TLSConfig, or the PEM files TLSCertFile,
	// TLSKeyFile and TLSCAFile. With TLS, clients must present a certificate
	// signed by the CA (TLSCAFile, or TLSConfig.ClientCAs).
	// TLSConfig may serve certs and client CAs per handshake
	// (GetConfigForClient); it then needs no ClientCAs of its own.
	TLSConfig   *tls.Config
	TLSCertFile string
	TLSKeyFile  string
	TLSCAFile   string
	// Authorize, when set, decides what each network client may do from
	// its verified client cert (see Client, AgentClient); without it every
	// client with a verified cert may do everything. The process's own
	// connections (Connect) are in-process and always have full access.
	Authorize AuthorizeFunc
	// ServerName names the server (default "tollgate").
	ServerName string
	// Domain is the server's JetStream domain ("": none). Across a leaf
	// node, each side's JetStream is reached by its domain
	// ($JS.<domain>.API), so a hub taking leaf agents and every leaf agent
	// each have a distinct one.
	Domain string
	// LeafListen is "host:port" (port 0 picks a free one) of a listener
	// for leaf-node connections (leaf agents), "" for none. It needs the
	// TLS settings above (the same certificate and client-cert
	// verification) and AuthorizeLeaf.
	LeafListen string
	// AuthorizeLeaf decides what each leaf node may do from its verified
	// certificate: Publish is what the leaf may send into this server,
	// Subscribe what it may receive (see LeafAgentClient).
	AuthorizeLeaf AuthorizeFunc
	// Leaf, when set, connects this server to a hub as a leaf node.
	Leaf *LeafRemote
	// MaxMemory and MaxStore bound JetStream's memory and disk use in bytes
	// (0: the server's defaults).
	MaxMemory int64
	MaxStore  int64
	// PingInterval is how often the server pings each connection (0: the
	// server's default, 2 minutes); after 3 unanswered pings it drops the
	// connection. A leaf agent pings its hub often, to notice a cut link
	// and reconnect.
	PingInterval time.Duration
	// SyncInterval is how often JetStream flushes its files to stable
	// storage (0: the server's default, 2 minutes); SyncAlways flushes
	// after every write. A leaf agent's local stream is the only copy of
	// its events until the hub takes them.
	SyncInterval time.Duration
	SyncAlways   bool
	// ReadyTimeout bounds Start's wait (default DefaultReadyTimeout).
	ReadyTimeout time.Duration
	// Logger receives the server's log lines.
	Logger zerolog.Logger
}

// Server is a running embedded NATS server.
type Server struct {
	ns        *server.Server
	inProcess bool
	token     string // in-process token when Authorize is set
	leafURL   string // of the leaf-node listener, "" without one
	log       zerolog.Logger
}

// ErrNotReady means the server did not become ready within ReadyTimeout.
var ErrNotReady = errors.New("embedded NATS server not ready")

// Start starts a server and waits until it accepts connections and
// JetStream is enabled.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.StoreDir == "" {
		return nil, errors.New("start embedded NATS: StoreDir is required")
	}
	if cfg.ServerName == "" {
		cfg.ServerName = "tollgate"
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = DefaultReadyTimeout
	}
	opts := &server.Options{
		ServerName:         cfg.ServerName,
		JetStream:          true,
		JetStreamDomain:    cfg.Domain,
		StoreDir:           cfg.StoreDir,
		JetStreamMaxMemory: cfg.MaxMemory,
		JetStreamMaxStore:  cfg.MaxStore,
		NoSigs:             true,
		DontListen:         cfg.Listen == "",
		PingInterval:       cfg.PingInterval,
		SyncInterval:       cfg.SyncInterval,
		SyncAlways:         cfg.SyncAlways,
		MaxPingsOut:        3,
	}
	if cfg.Listen != "" {
		host, port, err := hostPort(cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("start embedded NATS: listen address %q: %w", cfg.Listen, err)
		}
		opts.Host, opts.Port = host, port
	}
	tc, err := tlsConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("start embedded NATS: %w", err)
	}
	if tc != nil {
		if cfg.Listen == "" {
			return nil, errors.New("start embedded NATS: TLS needs a Listen address")
		}
		opts.TLS, opts.TLSVerify, opts.TLSConfig, opts.TLSTimeout = true, true, tc, 5
	}
	if err := configureLeaf(opts, cfg, tc); err != nil {
		return nil, fmt.Errorf("start embedded NATS: %w", err)
	}
	l := cfg.Logger.With().Str("component", "nats").Logger()
	var auth *authenticator
	if cfg.Authorize != nil || cfg.AuthorizeLeaf != nil {
		if tc == nil {
			return nil, errors.New("start embedded NATS: Authorize needs TLS with client certs")
		}
		if auth, err = newAuthenticator(cfg.Authorize, cfg.AuthorizeLeaf, l); err != nil {
			return nil, fmt.Errorf("start embedded NATS: %w", err)
		}
		opts.CustomClientAuthentication = auth
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("start embedded NATS: %w", err)
	}
	ns.SetLogger(logAdapter{l}, l.GetLevel() <= zerolog.DebugLevel, l.GetLevel() <= zerolog.TraceLevel)
	ns.Start()
	s := &Server{ns: ns, inProcess: cfg.Listen == "", log: l}
	if auth != nil {
		s.token = string(auth.token)
	}
	if err := s.waitReady(ctx, cfg.ReadyTimeout); err != nil {
		ns.Shutdown()
		ns.WaitForShutdown()
		return nil, err
	}
	if cfg.LeafListen != "" { // the listener's port is known once ready
		s.leafURL = "tls://" + net.JoinHostPort(opts.LeafNode.Host, strconv.Itoa(opts.LeafNode.Port))
	}
	return s, nil
}

func (s *Server) waitReady(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if s.ns.ReadyForConnections(10*time.Millisecond) && s.ns.JetStreamEnabled() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w after %s (check the store dir, listen address and logs)", ErrNotReady, timeout)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("start embedded NATS: %w", ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

func tlsConfig(cfg Config) (*tls.Config, error) {
	if cfg.TLSConfig != nil {
		tc := cfg.TLSConfig.Clone()
		if tc.ClientCAs == nil && tc.GetConfigForClient == nil {
			return nil, errors.New("TLS config has no ClientCAs to verify client certificates")
		}
		tc.ClientAuth = tls.RequireAndVerifyClientCert
		if get := tc.GetConfigForClient; get != nil {
			tc.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
				c, err := get(h)
				if err != nil || c == nil {
					return c, err
				}
				if c.ClientCAs == nil {
					return nil, errors.New("no client CAs to verify the client certificate")
				}
				c = c.Clone()
				c.ClientAuth = tls.RequireAndVerifyClientCert
				return c, nil
			}
		}
		return tc, nil
	}
	if cfg.TLSCertFile == "" && cfg.TLSKeyFile == "" && cfg.TLSCAFile == "" {
		return nil, nil
	}
	if cfg.TLSCertFile == "" || cfg.TLSKeyFile == "" || cfg.TLSCAFile == "" {
		return nil, errors.New("TLS needs all of cert, key and CA files")
	}
	tc, err := server.GenTLSConfig(&server.TLSConfigOpts{
		CertFile: cfg.TLSCertFile, KeyFile: cfg.TLSKeyFile, CaFile: cfg.TLSCAFile, Verify: true,
	})
	if err != nil {
		return nil, fmt.Errorf("load TLS files: %w", err)
	}
	return tc, nil
}

// NATS returns the underlying server.
func (s *Server) NATS() *server.Server { return s.ns }

// ClientURL returns the URL network clients connect to, or "" when the
// server accepts in-process connections only.
func (s *Server) ClientURL() string {
	if s.inProcess {
		return ""
	}
	return s.ns.ClientURL()
}

// Connect opens an in-process client connection with full access, also
// when the server has a network listener (network clients use ClientURL).
func (s *Server) Connect(opts ...nats.Option) (*nats.Conn, error) {
	opts = append(opts, nats.InProcessServer(s.ns))
	if s.token != "" {
		opts = append(opts, nats.Token(s.token))
	}
	nc, err := nats.Connect("", opts...)
	if err != nil {
		return nil, fmt.Errorf("connect to embedded NATS: %w", err)
	}
	return nc, nil
}

// Shutdown stops the server, flushing JetStream's files, and waits until it
// has stopped or ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		s.ns.Shutdown()
		s.ns.WaitForShutdown()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("shut down embedded NATS: %w", ctx.Err())
	}
}

// logAdapter sends the server's log lines to zerolog.
type logAdapter struct{ l zerolog.Logger }

func (a logAdapter) Noticef(format string, v ...any) { a.l.Info().Msgf(format, v...) }
func (a logAdapter) Warnf(format string, v ...any)   { a.l.Warn().Msgf(format, v...) }
func (a logAdapter) Fatalf(format string, v ...any)  { a.l.Error().Msgf(format, v...) }
func (a logAdapter) Errorf(format string, v ...any)  { a.l.Error().Msgf(format, v...) }
func (a logAdapter) Debugf(format string, v ...any)  { a.l.Debug().Msgf(format, v...) }
func (a logAdapter) Tracef(format string, v ...any)  { a.l.Trace().Msgf(format, v...) }

var _ server.Logger = logAdapter{}
