package tunnel

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/yamux"
	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/control/wire"
)

// Options say where the tunnel goes.
type Options struct {
	// Addrs are control's addresses (HOST:PORT), tried in turn.
	Addrs []string
	// TLS verifies control and presents the agent's host cert; it is
	// used for every (re)dial (GetClientCertificate may re-read files).
	TLS *tls.Config
	// RetryMin and RetryMax bound the wait between dials (default 100 ms
	// and 10 s).
	RetryMin, RetryMax time.Duration
	Logger             zerolog.Logger
}

// Listener accepts the client connections control relays through the
// tunnel. It is a net.Listener.
type Listener struct {
	opt   Options
	conns chan net.Conn
	stop  chan struct{}
	once  sync.Once
	done  chan struct{}

	mu       sync.Mutex
	sessions map[string]*yamux.Session // by control address, while up
}

var _ net.Listener = (*Listener)(nil)

// ErrNoAddrs means Options.Addrs is empty.
var ErrNoAddrs = errors.New("tunnel: control's address is required")

// Listen starts keeping the tunnel up.
func Listen(opt Options) (*Listener, error) {
	if len(opt.Addrs) == 0 {
		return nil, ErrNoAddrs
	}
	if opt.TLS == nil {
		return nil, errors.New("tunnel: a TLS config is required")
	}
	if opt.RetryMin <= 0 {
		opt.RetryMin = 100 * time.Millisecond
	}
	if opt.RetryMax <= 0 {
		opt.RetryMax = 10 * time.Second
	}
	tc := opt.TLS.Clone()
	tc.NextProtos = []string{wire.ALPNTunnel}
	opt.TLS = tc
	l := &Listener{opt: opt, conns: make(chan net.Conn), stop: make(chan struct{}), done: make(chan struct{}),
		sessions: map[string]*yamux.Session{}}
	var wg sync.WaitGroup
	for _, addr := range opt.Addrs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.run(addr)
		}()
	}
	go func() { wg.Wait(); close(l.done) }()
	return l, nil
}

// Up reports whether a tunnel (to any control) is connected now.
func (l *Listener) Up() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.sessions) > 0
}

// run keeps a tunnel to the control at addr: an agent keeps one to each
// control, so that any of them can relay its clients.
func (l *Listener) run(addr string) {
	wait := l.opt.RetryMin
	for {
		began := time.Now()
		err := l.session(addr)
		select {
		case <-l.stop:
			return
		default:
		}
		switch {
		case err != nil:
			l.opt.Logger.Debug().Err(err).Str("control", addr).Msg("tunnel dial")
		case time.Since(began) >= l.opt.RetryMax:
			// It was up a while: redial soon. One dropped at once (a
			// control refusing this agent's cert) backs off instead of
			// redialing ten times a second.
			wait = l.opt.RetryMin
		}
		select {
		case <-l.stop:
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, l.opt.RetryMax)
	}
}

// session dials addr and serves its streams until the tunnel drops.
func (l *Listener) session(addr string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	d := tls.Dialer{NetDialer: &net.Dialer{KeepAlive: 15 * time.Second}, Config: l.opt.TLS}
	c, err := d.DialContext(ctx, "tcp", addr)
	cancel()
	if err != nil {
		return err
	}
	if p := c.(*tls.Conn).ConnectionState().NegotiatedProtocol; p != wire.ALPNTunnel {
		c.Close()
		return errors.New("control at " + addr + " does not take tunnels (an older control?)")
	}
	sess, err := yamux.Server(c, yamuxConfig())
	if err != nil {
		c.Close()
		return err
	}
	ended := make(chan struct{})
	defer close(ended)
	go func() { // Close ends the session however far it got
		select {
		case <-l.stop:
			sess.Close()
		case <-ended:
		}
	}()
	l.setUp(addr, sess)
	l.opt.Logger.Info().Str("control", addr).Msg("tunnel to control up")
	defer func() {
		l.setUp(addr, nil)
		l.opt.Logger.Warn().Str("control", addr).Msg("tunnel to control down; redialing")
	}()
	for {
		s, err := sess.AcceptStream()
		if err != nil {
			sess.Close()
			return nil
		}
		go l.handoff(s)
	}
}

func (l *Listener) setUp(addr string, sess *yamux.Session) {
	l.mu.Lock()
	if sess == nil {
		delete(l.sessions, addr)
	} else {
		l.sessions[addr] = sess
	}
	l.mu.Unlock()
}

// handoff reads a stream's frame and hands it to Accept.
func (l *Listener) handoff(s *yamux.Stream) {
	_ = s.SetReadDeadline(time.Now().Add(10 * time.Second))
	var f wire.TunnelStream
	if err := wire.ReadFrame(s, &f); err != nil {
		l.opt.Logger.Warn().Err(err).Msg("tunnel stream without its frame")
		s.Close()
		return
	}
	_ = s.SetReadDeadline(time.Time{})
	c := &streamConn{Stream: s, remote: clientAddr(f.ClientAddr)}
	select {
	case l.conns <- c:
	case <-l.stop:
		s.Close()
	}
}

// yamuxConfig keeps the tunnel alive across idle NATs and notices a dead
// link within about 30 s (control's side does the same).
func yamuxConfig() *yamux.Config {
	c := yamux.DefaultConfig()
	c.KeepAliveInterval = 10 * time.Second
	c.ConnectionWriteTimeout = 10 * time.Second
	c.LogOutput = io.Discard
	return c
}

// Accept returns the next client connection through the tunnel.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.stop:
		return nil, net.ErrClosed
	}
}

// Close stops the tunnel.
func (l *Listener) Close() error {
	l.once.Do(func() {
		close(l.stop)
	})
	<-l.done
	return nil
}

// Addr names the tunnel.
func (l *Listener) Addr() net.Addr { return tunnelAddr{} }

type tunnelAddr struct{}

func (tunnelAddr) Network() string { return "tunnel" }
func (tunnelAddr) String() string  { return wire.TunnelAddr }

// streamConn is a stream with the client's address.
type streamConn struct {
	*yamux.Stream
	remote net.Addr
}

func (c *streamConn) RemoteAddr() net.Addr { return c.remote }

type clientAddr string

func (a clientAddr) Network() string { return "tcp" }
func (a clientAddr) String() string  { return string(a) }
