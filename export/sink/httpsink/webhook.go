package httpsink

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/tollgate-db/tollgate/export"
)

// Webhook posts each batch as a JSON array, signed with HMAC-SHA256 of the
// body under a shared secret: header "<SignatureHeader>: sha256=<hex>".
type Webhook struct {
	c      *client
	secret []byte
	header string
	buf    []byte
}

var _ export.Sink = (*Webhook)(nil)

// NewWebhook returns a webhook sink posting to cfg.URL.
func NewWebhook(cfg Config) (*Webhook, error) {
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	sec, err := secret(cfg.Secret, cfg.SecretFile, "secret")
	if err != nil {
		return nil, err
	}
	if sec == "" {
		return nil, errors.New("webhook sink: an HMAC secret is required")
	}
	h := cfg.SignatureHeader
	if h == "" {
		h = DefaultSignatureHeader
	}
	return &Webhook{c: c, secret: []byte(sec), header: h}, nil
}

// Sign returns the signature header value of body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Write posts the batch as one JSON array.
func (w *Webhook) Write(ctx context.Context, batch []export.Item) error {
	if len(batch) == 0 {
		return nil
	}
	b := append(w.buf[:0], '[')
	for i := range batch {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, batch[i].Doc...)
	}
	b = append(b, ']')
	w.buf = b
	if _, err := w.c.post(ctx, w.c.cfg.URL, "application/json", b, map[string]string{w.header: Sign(w.secret, b)}); err != nil {
		return fmt.Errorf("webhook: %w", err)
	}
	return nil
}

// Close releases idle connections.
func (w *Webhook) Close() error {
	w.c.http.CloseIdleConnections()
	return nil
}
