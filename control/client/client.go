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
	"strings"
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

// Client calls one control.
type Client struct {
	base string
	hc   *http.Client
}

// New returns a client for control at proxy (HOST:PORT, or HOST for the
// default port) over tc, which must hold the trusted host CAs (and a
// client cert for authenticated calls).
func New(proxy string, tc *tls.Config) *Client {
	tc = tc.Clone()
	if tc.MinVersion < tls.VersionTLS13 {
		tc.MinVersion = tls.VersionTLS13
	}
	if tc.ServerName == "" && !tc.InsecureSkipVerify {
		host, _, err := net.SplitHostPort(NormalizeProxy(proxy))
		if err == nil {
			tc.ServerName = host
		}
	}
	tr := &http.Transport{TLSClientConfig: tc, ForceAttemptHTTP2: true, TLSHandshakeTimeout: 10 * time.Second,
		IdleConnTimeout: 30 * time.Second}
	return &Client{base: "https://" + NormalizeProxy(proxy), hc: &http.Client{Transport: tr, Timeout: 2 * time.Minute}}
}

// NormalizeProxy adds the default port when proxy has none.
func NormalizeProxy(proxy string) string {
	if _, _, err := net.SplitHostPort(proxy); err != nil {
		return net.JoinHostPort(proxy, DefaultPort)
	}
	return proxy
}

// FromProfile returns a client presenting the profile's identity.
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
func (c *Client) Close() { c.hc.CloseIdleConnections() }

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if te := trustError(strings.TrimPrefix(c.base, "https://"), err); te != err {
			return te
		}
		return fmt.Errorf("reach control at %s: %w", c.base, err)
	}
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
