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
// With format slack it posts each event as its own request (a Slack
// incoming webhook takes one message a request), signed when a secret is
// set; a batch is written when every one of its events was accepted.
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
	if sec == "" && !cfg.perEvent {
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
	if w.c.cfg.perEvent {
		return w.eachEvent(ctx, batch)
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

// eachEvent posts every item of batch as its own request. One refused
// fails the batch's rest, which is retried (the ones before it were
// accepted and are not posted again).
func (w *Webhook) eachEvent(ctx context.Context, batch []export.Item) error {
	for i := range batch {
		var hdr map[string]string
		if len(w.secret) > 0 {
			hdr = map[string]string{w.header: Sign(w.secret, batch[i].Doc)}
		}
		if _, err := w.c.post(ctx, w.c.cfg.URL, "application/json", batch[i].Doc, hdr); err != nil {
			if i == 0 { // nothing accepted: the error as it is (a Retry-After kept)
				return fmt.Errorf("webhook: %w", err)
			}
			failed := make([]int, 0, len(batch)-i)
			for j := i; j < len(batch); j++ {
				failed = append(failed, j)
			}
			return &export.PartialError{Failed: failed, Err: fmt.Errorf("webhook: %w", err)}
		}
	}
	return nil
}

// Close releases idle connections.
func (w *Webhook) Close() error {
	w.c.http.CloseIdleConnections()
	return nil
}
