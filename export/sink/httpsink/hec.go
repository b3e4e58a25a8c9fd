package httpsink

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/tollgate-db/tollgate/export"
)

// HEC sends batches to a Splunk HTTP Event Collector.
type HEC struct {
	c      *client
	url    string
	header map[string]string
	buf    []byte
}

var _ export.Sink = (*HEC)(nil)

// NewHEC returns a Splunk HEC sink; cfg.URL is the collector's base URL.
func NewHEC(cfg Config) (*HEC, error) {
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	tok, err := secret(cfg.Token, cfg.TokenFile, "token")
	if err != nil {
		return nil, err
	}
	if tok == "" {
		return nil, errors.New("splunk hec sink: a token is required")
	}
	if cfg.SourceType == "" {
		cfg.SourceType = "tollgate"
	}
	c.cfg = cfg
	return &HEC{c: c, url: strings.TrimRight(cfg.URL, "/") + "/services/collector/event",
		header: map[string]string{"Authorization": "Splunk " + tok}}, nil
}

// Write posts every item as one HEC event object in a single body.
func (h *HEC) Write(ctx context.Context, batch []export.Item) error {
	if len(batch) == 0 {
		return nil
	}
	b := h.buf[:0]
	for i := range batch {
		it := &batch[i]
		b = append(b, `{"time":`...)
		t := it.Event.Time
		b = strconv.AppendFloat(b, float64(t.UnixMicro())/1e6, 'f', 6, 64)
		b = append(b, `,"host":`...)
		b = strconv.AppendQuote(b, it.Event.Source)
		b = append(b, `,"source":"tollgate","sourcetype":`...)
		b = strconv.AppendQuote(b, h.c.cfg.SourceType)
		if h.c.cfg.Index != "" {
			b = append(b, `,"index":`...)
			b = strconv.AppendQuote(b, h.c.cfg.Index)
		}
		b = append(b, `,"event":`...)
		b = append(b, it.Doc...)
		b = append(b, "}\n"...)
	}
	h.buf = b
	if _, err := h.c.post(ctx, h.url, "application/json", b, h.header); err != nil {
		return fmt.Errorf("splunk hec: %w", err)
	}
	return nil
}

// Close releases idle connections.
func (h *HEC) Close() error {
	h.c.http.CloseIdleConnections()
	return nil
}
