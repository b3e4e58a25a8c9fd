package httpsink

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tollgate-db/tollgate/export"
)

// maxErrorBody bounds how much of an error answer is read and reported.
const maxErrorBody = 512

// client is what the three sinks share.
type client struct {
	http *http.Client
	cfg  Config
}

// newClient checks what every HTTP sink needs: a URL, and a timeout that
// is not negative (zero: DefaultTimeout).
func newClient(cfg Config) (*client, error) {
	if cfg.URL == "" {
		return nil, errors.New("http sink: url is required")
	}
	if err := checkTimeout("http", cfg.Timeout); err != nil {
		return nil, err
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultTimeout
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 4
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("http sink: read ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("http sink: ca_file %s holds no PEM certificate", cfg.CAFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &client{http: &http.Client{Transport: tr, Timeout: cfg.Timeout}, cfg: cfg}, nil
}

// secret returns an inline value or the trimmed content of file.
func secret(inline, file, what string) (string, error) {
	if inline != "" {
		return inline, nil
	}
	if file == "" {
		return "", nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("http sink: read %s file: %w", what, err)
	}
	return strings.TrimSpace(string(b)), nil
}

// post sends body and returns the answer body of a 2xx; other answers
// become errors (429/503 a RetryAfterError).
func (c *client) post(ctx context.Context, url, contentType string, body []byte, hdr map[string]string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("http sink: build request: %w", err)
	}
	req.Header.Set("Content-Type", contentType)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("http sink: post %s: %w", redact(url), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		if err != nil {
			return nil, fmt.Errorf("http sink: read answer: %w", err)
		}
		return b, nil
	}
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	herr := fmt.Errorf("%w: %s answered %d: %s", export.ErrDestination, redact(url), resp.StatusCode, strings.TrimSpace(string(snippet)))
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		return nil, &export.RetryAfterError{After: retryAfter(resp.Header.Get("Retry-After"), time.Now()), Err: herr}
	}
	return nil, herr
}

// retryAfter parses a Retry-After value: seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// redact drops userinfo and the query from a URL for messages.
func redact(u string) string {
	if i := strings.Index(u, "@"); i > 0 {
		if j := strings.Index(u, "://"); j > 0 && j < i {
			u = u[:j+3] + u[i+1:]
		}
	}
	if i := strings.IndexByte(u, '?'); i >= 0 {
		u = u[:i]
	}
	return u
}
