package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync/atomic"
	"time"

	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/profile"
)

// DefaultPort is control's API port (DESIGN §6).
const DefaultPort = "7080"

// APIError is an error answer of the API.
type APIError struct {
	Status  int
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *APIError) Error() string { return e.Message }

// StatusOf returns the HTTP status of an API error, 0 otherwise.
func StatusOf(err error) int {
	var e *APIError
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// Client calls control at one or several addresses. With several it
// tries them in order, starting at the one that answered last, and moves
// on to the next only on a connection-level failure: the dial refused or
// timed out, the TLS handshake broken by the network, the connection
// reset before an answer. An HTTP answer, 4xx and 5xx included, is
// control's answer and is returned. A request other than GET or HEAD is
// never sent to another control once it may have reached one (the client
// had a connection to it): it may have been received and acted on, so its
// error is returned instead. When no address answers, the error is an
// *UnreachableError naming every address tried.
type Client struct {
	targets []target
	// last is the index of the target that answered last.
	last atomic.Int32
}

// target is one address of control and the HTTP client for it.
type target struct {
	addr string
	hc   *http.Client
}

// New returns a client for control at proxy (HOST:PORT, or HOST for the
// default port, or a comma-separated list of them to fail over between)
// over tc, which must hold the trusted host CAs (and a client cert for
// authenticated calls). Each address is verified by its own host name
// unless tc names a ServerName.
func New(proxy string, tc *tls.Config) *Client {
	return NewFor(proxy, func(host string) *tls.Config {
		c := tc.Clone()
		if c.ServerName == "" && !c.InsecureSkipVerify {
			c.ServerName = host
		}
		return c
	})
}

// NewFor is New with the TLS config of each address made by tlsFor from
// the address's host (for a config that verifies the host itself).
func NewFor(proxy string, tlsFor func(host string) *tls.Config) *Client {
	addrs := SplitProxies(proxy)
	if len(addrs) == 0 {
		addrs = []string{normalizeOne(proxy)}
	}
	c := &Client{}
	for _, a := range addrs {
		host, _, _ := net.SplitHostPort(a)
		tc := tlsFor(host)
		if tc.MinVersion < tls.VersionTLS13 {
			tc.MinVersion = tls.VersionTLS13
		}
		dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
		tr := &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true, TLSHandshakeTimeout: 10 * time.Second,
			IdleConnTimeout: 30 * time.Second, DialContext: dialer.DialContext}
		c.targets = append(c.targets, target{addr: a, hc: &http.Client{Transport: tr, Timeout: 2 * time.Minute}})
	}
	return c
}

// FromProfile returns a client presenting the profile's identity, for
// control at proxy or, when proxy is empty, at the profile's addresses.
func FromProfile(p *profile.Profile, proxy string) (*Client, error) {
	tc, err := p.TLSConfig()
	if err != nil {
		return nil, err
	}
	if proxy == "" {
		proxy = p.Proxy
	}
	return New(proxy, tc), nil
}

// Close releases idle connections.
func (c *Client) Close() {
	for _, t := range c.targets {
		t.hc.CloseIdleConnections()
	}
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body []byte
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = b
	}
	n := len(c.targets)
	start := int(c.last.Load())
	tried := &UnreachableError{}
	for k := range n {
		i := (start + k) % n
		t := c.targets[i]
		resp, sent, err := t.send(ctx, method, path, body)
		if err == nil {
			c.last.Store(int32(i))
			return answer(resp, out)
		}
		if n == 1 || !failOver(ctx, method, sent, err) {
			return t.failed(err, sent && n > 1)
		}
		tried.Addrs, tried.Errs = append(tried.Addrs, t.addr), append(tried.Errs, err)
	}
	return tried
}

// send makes one request to t; sent says whether it had a connection to
// control, so that the request may have reached it.
func (t target) send(ctx context.Context, method, path string, body []byte) (*http.Response, bool, error) {
	var sent atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{GotConn: func(httptrace.GotConnInfo) { sent.Store(true) }})
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "https://"+t.addr+path, rd)
	if err != nil {
		return nil, false, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := t.hc.Do(req)
	if err != nil {
		return nil, reached(sent.Load(), err), trustError(t.addr, err)
	}
	return resp, true, nil
}

// reached says whether a request that failed with err may have reached
// control, given that it had a connection (sent). A request that ended
// in a failed dial reached no control, even after it had a connection:
// net/http sends a request other than GET or HEAD on a new connection
// only when the one it had took none of it (a pooled connection the
// server had closed, an HTTP/2 connection going away), so the request
// went nowhere before the dial and nowhere with it.
func reached(sent bool, err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return false
	}
	return sent
}

// failed is the error of a call that ended at t with err; notRetried
// says it was not sent to another control because it may have reached t.
func (t target) failed(err error, notRetried bool) error {
	var te *TrustError
	if errors.As(err, &te) {
		return err
	}
	if notRetried {
		return fmt.Errorf("reach control at https://%s (not sent to another control: it may have been received): %w", t.addr, err)
	}
	return fmt.Errorf("reach control at https://%s: %w", t.addr, err)
}

// answer reads control's answer into out (when the call has one).
func answer(resp *http.Response, out any) error {
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("read answer of control: %w", err)
	}
	if resp.StatusCode >= 300 {
		e := &APIError{Status: resp.StatusCode}
		if json.Unmarshal(raw, e) != nil || e.Message == "" {
			e.Code, e.Message = "http", fmt.Sprintf("control answered %s", resp.Status)
		}
		return e
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode answer of control: %w", err)
	}
	return nil
}

// call makes one call of the API (control/wire's table) with req and
// returns its answer.
func call[Req, Resp any](ctx context.Context, c *Client, cl wire.Call[Req, Resp], req Req) (Resp, error) {
	var out Resp
	in, _ := cl.Body(req)
	var dst any = &out
	if cl.NoContent() {
		dst = nil
	}
	return out, c.do(ctx, cl.Method, cl.Target(req), in, dst)
}

// done is the error of a call that answers nothing.
func done(_ wire.None, err error) error { return err }

// PoolOf returns a cert pool of PEM certs (pki.Pool).
func PoolOf(pems ...[]byte) (*x509.CertPool, error) { return pki.Pool(pems...) }
