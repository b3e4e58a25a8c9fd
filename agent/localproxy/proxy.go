package localproxy

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/internal/pgwire"
)

// DefaultDialTimeout bounds reaching the agent.
const DefaultDialTimeout = 10 * time.Second

// Config says where to relay and with which identity.
type Config struct {
	// Agent is the agent's PostgreSQL-wire address HOST:PORT.
	Agent string
	// Dial, when set, reaches the agent instead of dialing Agent (e.g.
	// through control's public port to an agent's tunnel); Agent then
	// only names it.
	Dial func(ctx context.Context) (net.Conn, error)
	// TLS presents the route cert and verifies the agent (ServerName and
	// RootCAs set).
	TLS *tls.Config
	// DialTimeout bounds reaching the agent (0: 10s; negative is refused).
	DialTimeout time.Duration
	Logger      zerolog.Logger
}

// Proxy relays plaintext PostgreSQL clients to an agent over TLS.
type Proxy struct {
	cfg Config
	wg  sync.WaitGroup
}

// New checks cfg and returns a Proxy.
func New(cfg Config) (*Proxy, error) {
	if cfg.Agent == "" && cfg.Dial == nil {
		return nil, errors.New("localproxy: agent address is required")
	}
	if cfg.TLS == nil || len(cfg.TLS.Certificates) == 0 {
		return nil, errors.New("localproxy: a TLS config with the route cert is required")
	}
	if cfg.DialTimeout < 0 {
		return nil, errors.New("localproxy: DialTimeout must not be negative")
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = DefaultDialTimeout
	}
	return &Proxy{cfg: cfg}, nil
}

// Serve accepts clients on ln until ctx ends, then closes ln, ends the
// live connections and waits for them.
func (p *Proxy) Serve(ctx context.Context, ln net.Listener) error {
	var (
		mu    sync.Mutex
		conns = map[net.Conn]struct{}{}
	)
	stop := context.AfterFunc(ctx, func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	defer stop()
	defer p.wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return fmt.Errorf("accept: %w", err)
		}
		mu.Lock()
		conns[c] = struct{}{}
		mu.Unlock()
		p.wg.Add(1)
		go func() {
			defer p.wg.Done()
			defer func() {
				mu.Lock()
				delete(conns, c)
				mu.Unlock()
				c.Close()
			}()
			if err := p.handle(ctx, c); err != nil {
				p.cfg.Logger.Debug().Err(err).Str("client", c.RemoteAddr().String()).Msg("connection ended")
			}
		}()
	}
}

// handle takes one client connection.
func (p *Proxy) handle(ctx context.Context, c net.Conn) error {
	br := bufio.NewReader(c)
	for {
		_ = c.SetReadDeadline(time.Now().Add(p.cfg.DialTimeout + 20*time.Second))
		st, err := pgwire.ReadStartup(br)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				_ = pgwire.WriteFatal(c, pgwire.CodeProtocolViolation, "tollgate local proxy: "+err.Error())
			}
			return err
		}
		_ = c.SetReadDeadline(time.Time{})
		switch st.Kind {
		case pgwire.KindSSLRequest, pgwire.KindGSSENCRequest:
			// Plaintext on loopback; TLS is towards the agent.
			if _, err := c.Write([]byte{'N'}); err != nil {
				return err
			}
		case pgwire.KindCancelRequest:
			return p.cancel(ctx, st.Raw)
		default:
			return p.session(ctx, c, br, st.Raw)
		}
	}
}

func (p *Proxy) dial(ctx context.Context) (net.Conn, error) {
	if p.cfg.Dial != nil {
		ctx, cancel := context.WithTimeout(ctx, p.cfg.DialTimeout)
		defer cancel()
		return p.cfg.Dial(ctx)
	}
	d := net.Dialer{Timeout: p.cfg.DialTimeout}
	conn, err := d.DialContext(ctx, "tcp", p.cfg.Agent)
	if err != nil {
		return nil, fmt.Errorf("reach the agent at %s: %w", p.cfg.Agent, err)
	}
	return conn, nil
}

// cancel forwards a CancelRequest as it came: the agent matches its key.
func (p *Proxy) cancel(ctx context.Context, raw []byte) error {
	conn, err := p.dial(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.Write(raw); err != nil {
		return fmt.Errorf("forward cancel request: %w", err)
	}
	// The server closes the connection after a cancel; wait for that so
	// the request is not cut short.
	_ = conn.SetReadDeadline(time.Now().Add(p.cfg.DialTimeout))
	_, _ = io.Copy(io.Discard, conn)
	return nil
}

// session opens TLS to the agent, forwards the startup and relays.
func (p *Proxy) session(ctx context.Context, c net.Conn, br *bufio.Reader, startup []byte) error {
	up, err := p.upstream(ctx)
	if err != nil {
		_ = pgwire.WriteFatal(c, pgwire.CodeConnectionFailure, "tollgate local proxy: "+err.Error())
		return err
	}
	defer up.Close()
	if _, err := up.Write(startup); err != nil {
		return fmt.Errorf("forward startup: %w", err)
	}
	upc, downc := make(chan error, 1), make(chan error, 1)
	go func() {
		_, err := br.WriteTo(up)
		_ = up.CloseWrite()
		upc <- err
	}()
	go func() {
		_, err := io.Copy(c, up)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
		downc <- err
	}()
	select {
	case err = <-downc:
		// The agent ended the session, after whatever it had to say (the
		// server's FATAL, the agent's own): end the client's the same way.
		_ = c.Close()
		_ = up.Close()
		<-upc
	case err = <-upc:
		// The client is done (EOF after Terminate), or the agent can no
		// longer be written to because it ended the session: what the agent
		// sent before it closed — the FATAL that says why — still goes to
		// the client before its connection closes, as it would directly.
		_ = up.SetReadDeadline(time.Now().Add(p.cfg.DialTimeout))
		<-downc
	}
	_ = c.Close()
	_ = up.Close()
	return err
}

// upstream dials the agent and upgrades with SSLRequest → TLS.
func (p *Proxy) upstream(ctx context.Context) (*tls.Conn, error) {
	conn, err := p.dial(ctx)
	if err != nil {
		return nil, err
	}
	_ = conn.SetDeadline(time.Now().Add(p.cfg.DialTimeout))
	if _, err := conn.Write([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}); err != nil {
		conn.Close()
		return nil, fmt.Errorf("ssl request to the agent at %s: %w", p.cfg.Agent, err)
	}
	var b [1]byte
	if _, err := io.ReadFull(conn, b[:]); err != nil {
		conn.Close()
		return nil, fmt.Errorf("ssl request to the agent at %s: %w", p.cfg.Agent, err)
	}
	if b[0] != 'S' {
		conn.Close()
		return nil, fmt.Errorf("the agent at %s refused TLS", p.cfg.Agent)
	}
	tc := tls.Client(conn, p.cfg.TLS)
	if err := tc.HandshakeContext(ctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("TLS to the agent at %s: %w", p.cfg.Agent, err)
	}
	_ = conn.SetDeadline(time.Time{})
	return tc, nil
}
