package tunnel

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
	"sync"
	"time"

	"github.com/hashicorp/yamux"
	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/pgwire"
)

// ErrNoTunnel means no agent serving the database has a tunnel up.
var ErrNoTunnel = errors.New("no agent serving this database has a tunnel to control")

// Auth is what the hub asks of control.
type Auth interface {
	// AgentOfCert is the joined agent a host cert belongs to.
	AgentOfCert(cert *x509.Certificate) (string, error)
	// VerifyUserCert checks a user cert of this cluster.
	VerifyUserCert(cert *x509.Certificate) error
	// AgentsServing are the agents that serve database.
	AgentsServing(database string) []string
}

// Hub holds the agents' tunnels.
type Hub struct {
	auth Auth
	log  zerolog.Logger

	mu      sync.Mutex
	tunnels map[string][]*tunnel // by agent id
	next    uint64               // round robin over the candidates
	closed  bool
}

type tunnel struct {
	sess  *yamux.Session
	since time.Time
}

// New returns a Hub.
func New(auth Auth, log zerolog.Logger) *Hub {
	return &Hub{auth: auth, log: log.With().Str("component", "tunnel").Logger(), tunnels: map[string][]*tunnel{}}
}

// NextProtos are the ALPN protocols the hub serves on control's port.
var NextProtos = []string{wire.ALPNTunnel, wire.ALPNDatabase}

// yamuxConfig keeps tunnels alive across idle NATs and notices a dead
// link within about 30 s.
func yamuxConfig() *yamux.Config {
	c := yamux.DefaultConfig()
	c.KeepAliveInterval = 10 * time.Second
	c.ConnectionWriteTimeout = 10 * time.Second
	c.LogOutput = io.Discard
	return c
}

func peer(c *tls.Conn) (*x509.Certificate, error) {
	st := c.ConnectionState()
	if len(st.PeerCertificates) == 0 {
		return nil, errors.New("no client certificate")
	}
	return st.PeerCertificates[0], nil
}

// ServeAgent keeps c, a connection an agent opened with ALPN
// wire.ALPNTunnel, as that agent's tunnel until it closes.
func (h *Hub) ServeAgent(c *tls.Conn) {
	defer c.Close()
	cert, err := peer(c)
	var id string
	if err == nil {
		id, err = h.auth.AgentOfCert(cert)
	}
	if err != nil {
		h.log.Warn().Err(err).Str("remote", c.RemoteAddr().String()).Msg("tunnel refused")
		return
	}
	sess, err := yamux.Client(c, yamuxConfig())
	if err != nil {
		h.log.Warn().Err(err).Str("agent", id).Msg("tunnel refused")
		return
	}
	t := &tunnel{sess: sess, since: time.Now()}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		sess.Close()
		return
	}
	h.tunnels[id] = append(h.tunnels[id], t)
	h.mu.Unlock()
	h.log.Info().Str("agent", id).Str("remote", c.RemoteAddr().String()).Msg("agent tunnel up")
	<-sess.CloseChan()
	h.mu.Lock()
	ts := h.tunnels[id]
	for i := range ts {
		if ts[i] == t {
			h.tunnels[id] = append(ts[:i:i], ts[i+1:]...)
			break
		}
	}
	if len(h.tunnels[id]) == 0 {
		delete(h.tunnels, id)
	}
	h.mu.Unlock()
	h.log.Info().Str("agent", id).Msg("agent tunnel down")
}

// Connected returns since when each agent with a tunnel has had it.
func (h *Hub) Connected() map[string]time.Time {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]time.Time, len(h.tunnels))
	for id, ts := range h.tunnels {
		for _, t := range ts {
			if !t.sess.IsClosed() {
				out[id] = t.since
				break
			}
		}
	}
	return out
}

// candidates are the live tunnels of the agents serving database, in
// round-robin order (each call moves the order on by one).
func (h *Hub) candidates(database string) []*tunnel { return h.tunnelsFor(database, true) }

// tunnelsFor is candidates, rotated or not.
func (h *Hub) tunnelsFor(database string, rotate bool) []*tunnel {
	agents := h.auth.AgentsServing(database)
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*tunnel
	for _, a := range agents {
		for _, t := range h.tunnels[a] {
			if !t.sess.IsClosed() {
				out = append(out, t)
			}
		}
	}
	if len(out) > 1 && rotate {
		k := int(h.next % uint64(len(out)))
		h.next++
		out = append(out[k:], out[:k]...)
	}
	return out
}

// Open opens a stream to an agent serving database, trying the next one
// when a tunnel fails, and writes the stream's frame.
func (h *Hub) Open(database, clientAddr string) (net.Conn, error) {
	var errs []error
	for _, t := range h.candidates(database) {
		s, err := t.sess.OpenStream()
		if err == nil {
			if err = wire.WriteFrame(s, wire.TunnelStream{ClientAddr: clientAddr, Database: database}); err == nil {
				return s, nil
			}
			s.Close()
		}
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrNoTunnel, errors.Join(errs...))
	}
	return nil, ErrNoTunnel
}

// ServeClient relays c, a client connection with ALPN wire.ALPNDatabase,
// to an agent serving the database its first frame names.
func (h *Hub) ServeClient(ctx context.Context, c *tls.Conn) {
	defer c.Close()
	cert, err := peer(c)
	if err == nil {
		err = h.auth.VerifyUserCert(cert)
	}
	if err != nil {
		h.log.Warn().Err(err).Str("remote", c.RemoteAddr().String()).Msg("database connection refused")
		return
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var d wire.DatabaseDial
	if err := wire.ReadFrame(c, &d); err != nil {
		h.log.Warn().Err(err).Str("remote", c.RemoteAddr().String()).Msg("database connection refused")
		return
	}
	if len(h.tunnelsFor(d.Database, false)) == 0 {
		h.refuse(c, d.Database, ErrNoTunnel)
		return
	}
	br := bufio.NewReader(c)
	head, err := br.Peek(8)
	if err != nil {
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	if isCancelRequest(head) {
		if msg, err := readCancel(br); err == nil {
			h.broadcastCancel(msg, h.tunnelsFor(d.Database, false), d.Database, c.RemoteAddr().String())
		}
		return
	}
	s, err := h.Open(d.Database, c.RemoteAddr().String())
	if err != nil {
		h.refuse(c, d.Database, err)
		return
	}
	if err := wire.WriteFrame(c, wire.DialResult{}); err != nil {
		s.Close()
		return
	}
	relay(ctx, c, br, s)
}

// refuse tells the client why its database cannot be reached, and logs it.
func (h *Hub) refuse(c net.Conn, database string, err error) {
	h.log.Warn().Err(err).Str("database", database).Msg("database connection refused")
	msg := fmt.Sprintf("database %s: %v (is its agent running with db_service.tunnel, and is it joined to this control?)", database, ErrNoTunnel)
	_ = wire.WriteFrame(c, wire.DialResult{Error: msg})
}

// isCancelRequest reports whether head, a connection's first 8 bytes, is
// a CancelRequest's (its length 16, or up to 264 in protocol 3.2, and its
// code).
func isCancelRequest(head []byte) bool {
	n := binary.BigEndian.Uint32(head[:4])
	return n >= 16 && n <= 8+4+pgwire.MaxCancelKey && binary.BigEndian.Uint32(head[4:8]) == pgwire.CodeCancelRequest
}

// readCancel reads the CancelRequest whose first bytes isCancelRequest
// saw.
func readCancel(br *bufio.Reader) ([]byte, error) {
	st, err := pgwire.ReadStartup(br)
	if err != nil {
		return nil, err
	}
	return st.Raw, nil
}

// allTunnels are the live tunnels of every agent (for a CancelRequest
// that names no database).
func (h *Hub) allTunnels() []*tunnel {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []*tunnel
	for _, ts := range h.tunnels {
		for _, t := range ts {
			if !t.sess.IsClosed() {
				out = append(out, t)
			}
		}
	}
	return out
}

// broadcastCancel sends msg, a CancelRequest, on a new stream of each of
// tunnels: only the agent holding the session's key acts on it.
func (h *Hub) broadcastCancel(msg []byte, tunnels []*tunnel, database, clientAddr string) {
	var wg sync.WaitGroup
	for _, t := range tunnels {
		s, err := t.sess.OpenStream()
		if err != nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer s.Close()
			if wire.WriteFrame(s, wire.TunnelStream{ClientAddr: clientAddr, Database: database}) != nil {
				return
			}
			if _, err := s.Write(msg); err != nil {
				return
			}
			// The agent closes a cancel connection once it has acted.
			_ = s.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, _ = io.Copy(io.Discard, s)
		}()
	}
	wg.Wait()
}

// relay copies both ways until either side ends (the PostgreSQL protocol
// has no half-closed state), then closes both; ar is what a sends (a
// buffered reader of it).
func relay(ctx context.Context, a net.Conn, ar io.Reader, b net.Conn) {
	stop := context.AfterFunc(ctx, func() { a.Close(); b.Close() })
	defer stop()
	done := make(chan struct{}, 2)
	cp := func(dst io.Writer, src io.Reader) {
		_, _ = io.Copy(dst, src)
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, ar)
	<-done
	a.Close()
	b.Close()
	<-done
}

// Close drops every tunnel and takes no more (control is stopping; its
// agents redial it, or another control).
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	var all []*tunnel
	for _, ts := range h.tunnels {
		all = append(all, ts...)
	}
	h.mu.Unlock()
	for _, t := range all {
		t.sess.Close()
	}
}
