package httpsink

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/tollgate-db/tollgate/export"
)

// Bulk sends batches to Elasticsearch's _bulk API as create actions into a
// data stream, the event id as _id.
type Bulk struct {
	c      *client
	url    string
	index  string
	header map[string]string
	buf    []byte
}

var _ export.Sink = (*Bulk)(nil)

// NewBulk returns an Elasticsearch sink; cfg.URL is the cluster's base URL.
func NewBulk(cfg Config) (*Bulk, error) {
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.DataStream == "" {
		cfg.DataStream = DefaultDataStream
	}
	hdr := map[string]string{}
	switch {
	case cfg.APIKey != "":
		hdr["Authorization"] = "ApiKey " + cfg.APIKey
	case cfg.Username != "":
		hdr["Authorization"] = "Basic " + base64.StdEncoding.EncodeToString([]byte(cfg.Username+":"+cfg.Password))
	}
	return &Bulk{c: c, url: strings.TrimRight(cfg.URL, "/") + "/_bulk", index: cfg.DataStream, header: hdr}, nil
}

type bulkAnswer struct {
	Errors bool `json:"errors"`
	Items  []map[string]struct {
		Status int `json:"status"`
		Error  *struct {
			Type   string `json:"type"`
			Reason string `json:"reason"`
		} `json:"error"`
	} `json:"items"`
}

// Write posts one _bulk request. Items answered 2xx or 409 (already
// stored) are accepted; the others come back in an *export.PartialError.
func (b *Bulk) Write(ctx context.Context, batch []export.Item) error {
	if len(batch) == 0 {
		return nil
	}
	buf := b.buf[:0]
	for i := range batch {
		buf = append(buf, `{"create":{"_index":`...)
		buf = strconv.AppendQuote(buf, b.index)
		buf = append(buf, `,"_id":`...)
		buf = strconv.AppendQuote(buf, batch[i].Event.ID)
		buf = append(buf, "}}\n"...)
		buf = append(buf, batch[i].Doc...)
		buf = append(buf, '\n')
	}
	b.buf = buf
	body, err := b.c.post(ctx, b.url, "application/x-ndjson", buf, b.header)
	if err != nil {
		return fmt.Errorf("elasticsearch bulk: %w", err)
	}
	var ans bulkAnswer
	if err := json.Unmarshal(body, &ans); err != nil {
		return fmt.Errorf("elasticsearch bulk: decode answer: %w", err)
	}
	if !ans.Errors {
		return nil
	}
	if len(ans.Items) != len(batch) {
		return fmt.Errorf("%w: elasticsearch bulk answered %d items for %d", export.ErrDestination, len(ans.Items), len(batch))
	}
	var failed []int
	first := ""
	for i, item := range ans.Items {
		for _, r := range item {
			if r.Status >= 200 && r.Status < 300 || r.Status == 409 {
				continue
			}
			failed = append(failed, i)
			if first == "" {
				first = fmt.Sprintf("item %s: status %d", batch[i].Event.ID, r.Status)
				if r.Error != nil {
					first += ": " + r.Error.Type + ": " + r.Error.Reason
				}
			}
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return &export.PartialError{Failed: failed, Err: fmt.Errorf("%w: elasticsearch bulk: %s", export.ErrDestination, first)}
}

// Close releases idle connections.
func (b *Bulk) Close() error {
	b.c.http.CloseIdleConnections()
	return nil
}
