package tunnel

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"
)

// startupFirstByte is the first byte of every PostgreSQL startup packet:
// the high byte of its length, which is at most pgwire.MaxStartup.
const startupFirstByte = 0x00

// sniffTimeout bounds how long a new connection may take to send its
// first bytes (and a PostgreSQL client its ClientHello).
const sniffTimeout = 10 * time.Second

// Front is control's public port split by what a connection sends first:
// a PostgreSQL client (an SSLRequest, GSSENCRequest, CancelRequest or
// StartupMessage before any TLS: its first byte is zero) is served by the
// hub (ServePostgres); every other connection (TLS: the API, agents'
// tunnels, toll's database connections) is returned by Accept with its
// first bytes unread.
type Front struct {
	ln    net.Listener
	serve func(net.Conn, *bufio.Reader)
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	err   error
	errMu sync.Mutex
}

var _ net.Listener = (*Front)(nil)

// Front wraps ln, control's public listener: PostgreSQL clients are
// relayed to the agent of the database their TLS SNI names, until ctx
// ends; fallback is control's own server TLS config, with which a client
// that cannot be routed is told why.
func (h *Hub) Front(ctx context.Context, ln net.Listener, fallback *tls.Config) *Front {
	f := &Front{ln: ln, conns: make(chan net.Conn), done: make(chan struct{}),
		serve: func(c net.Conn, br *bufio.Reader) { h.ServePostgres(ctx, c, br, fallback) }}
	go f.accept()
	return f
}

func (f *Front) accept() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(10 * time.Millisecond)
				continue
			}
			f.errMu.Lock()
			f.err = err
			f.errMu.Unlock()
			f.Close()
			return
		}
		go f.sniff(c)
	}
}

// sniff reads c's first byte: a zero starts a PostgreSQL client's
// startup packet (ServePostgres); anything else goes to Accept — a TLS
// handshake (0x16), or what the TLS server answers itself (plain HTTP
// gets its 400).
func (f *Front) sniff(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(sniffTimeout))
	br := bufio.NewReader(c)
	b, err := br.Peek(1)
	if err != nil {
		c.Close()
		return
	}
	if b[0] == startupFirstByte {
		f.serve(c, br)
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	select {
	case f.conns <- &peekedConn{Conn: c, r: br}:
	case <-f.done:
		c.Close()
	}
}

// Accept returns the next connection that is not a PostgreSQL client.
func (f *Front) Accept() (net.Conn, error) {
	select {
	case c := <-f.conns:
		return c, nil
	case <-f.done:
		f.errMu.Lock()
		defer f.errMu.Unlock()
		if f.err != nil {
			return nil, f.err
		}
		return nil, net.ErrClosed
	}
}

// Close stops accepting.
func (f *Front) Close() error {
	var err error
	f.once.Do(func() {
		close(f.done)
		err = f.ln.Close()
	})
	return err
}

// Addr is the listener's address.
func (f *Front) Addr() net.Addr { return f.ln.Addr() }

// peekedConn is a connection whose first bytes were read into r.
type peekedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c *peekedConn) Read(p []byte) (int, error) { return c.r.Read(p) }
