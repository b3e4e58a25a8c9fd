package httpsink

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/export"
)

func items(n int) []export.Item {
	out := make([]export.Item, n)
	for i := range out {
		id := fmt.Sprintf("ev%03d", i)
		out[i] = export.Item{Stream: eventlog.AuditStream, Event: eventlog.Event{ID: id, Type: "query", Source: "agent-1",
			Time: time.Date(2025, 1, 1, 0, 0, i, 0, time.UTC)}, Doc: []byte(`{"id":"` + id + `"}`)}
	}
	return out
}

func TestHEC(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got []string
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if r.URL.Path != "/services/collector/event" || r.Header.Get("Authorization") != "Splunk tok-123" {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = io.WriteString(w, `{"text":"Invalid token","code":4}`)
			return
		}
		if calls == 1 {
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"text":"Server is busy","code":9}`)
			return
		}
		dec := json.NewDecoder(r.Body)
		for {
			var ev struct {
				Time  float64         `json:"time"`
				Event json.RawMessage `json:"event"`
			}
			if err := dec.Decode(&ev); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			got = append(got, string(ev.Event))
		}
		_, _ = io.WriteString(w, `{"text":"Success","code":0}`)
	}))
	defer srv.Close()
	h, err := NewHEC(Config{URL: srv.URL, Token: "tok-123"})
	require.NoError(t, err)
	batch := items(5)
	err = h.Write(context.Background(), batch)
	var ra *export.RetryAfterError
	require.ErrorAs(t, err, &ra)
	require.Equal(t, 7*time.Second, ra.After)
	require.NoError(t, h.Write(context.Background(), batch))
	require.Len(t, got, 5)
	require.Equal(t, `{"id":"ev004"}`, got[4])

	bad, err := NewHEC(Config{URL: srv.URL, Token: "wrong-secret"})
	require.NoError(t, err)
	err = bad.Write(context.Background(), batch)
	require.ErrorIs(t, err, export.ErrDestination)
	require.NotContains(t, err.Error(), "wrong-secret")
}

// fakeBulk answers like Elasticsearch's _bulk: ids in fail get 429 once,
// ids already stored get 409.
type fakeBulk struct {
	mu     sync.Mutex
	stored map[string]string
	fail   map[string]bool
}

func (f *fakeBulk) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.URL.Path != "/_bulk" || r.Header.Get("Content-Type") != "application/x-ndjson" {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(nil, 4<<20)
	type res struct {
		Status int            `json:"status"`
		Error  map[string]any `json:"error,omitempty"`
	}
	var items []map[string]res
	anyErr := false
	for sc.Scan() {
		var action struct {
			Create struct {
				Index string `json:"_index"`
				ID    string `json:"_id"`
			} `json:"create"`
		}
		if err := json.Unmarshal(sc.Bytes(), &action); err != nil || action.Create.Index != "logs-tollgate.audit-test" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if !sc.Scan() {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		id := action.Create.ID
		switch {
		case f.fail[id]:
			delete(f.fail, id)
			anyErr = true
			items = append(items, map[string]res{"create": {Status: 429, Error: map[string]any{"type": "es_rejected_execution_exception", "reason": "queue full"}}})
		case f.stored[id] != "":
			anyErr = true
			items = append(items, map[string]res{"create": {Status: 409, Error: map[string]any{"type": "version_conflict_engine_exception", "reason": "exists"}}})
		default:
			f.stored[id] = sc.Text()
			items = append(items, map[string]res{"create": {Status: 201}})
		}
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"took": 1, "errors": anyErr, "items": items})
}

func TestBulkPartialFailure(t *testing.T) {
	t.Parallel()
	f := &fakeBulk{stored: map[string]string{"ev001": `{"id":"ev001"}`}, fail: map[string]bool{"ev003": true, "ev007": true}}
	srv := httptest.NewServer(f)
	defer srv.Close()
	b, err := NewBulk(Config{URL: srv.URL, DataStream: "logs-tollgate.audit-test"})
	require.NoError(t, err)
	batch := items(10)
	err = b.Write(context.Background(), batch)
	var pe *export.PartialError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, []int{3, 7}, pe.Failed)
	require.Contains(t, err.Error(), "ev003: status 429")
	retry := []export.Item{batch[3], batch[7]}
	require.NoError(t, b.Write(context.Background(), retry))
	require.Len(t, f.stored, 10)
	// Sending everything again only meets 409s: accepted as stored.
	require.NoError(t, b.Write(context.Background(), batch))
}

func TestWebhookSignature(t *testing.T) {
	t.Parallel()
	var body []byte
	var sig string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ = io.ReadAll(r.Body)
		sig = r.Header.Get("X-Tollgate-Signature")
	}))
	defer srv.Close()
	wh, err := NewWebhook(Config{URL: srv.URL + "/hook", Secret: "k"})
	require.NoError(t, err)
	require.NoError(t, wh.Write(context.Background(), items(3)))
	var arr []map[string]string
	require.NoError(t, json.Unmarshal(body, &arr))
	require.Len(t, arr, 3)
	require.Equal(t, Sign([]byte("k"), body), sig)
	require.True(t, strings.HasPrefix(sig, "sha256="))
	require.NotEqual(t, Sign([]byte("other"), body), sig)
}

func TestHugeEventOverHTTP(t *testing.T) {
	t.Parallel()
	var n int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		n = len(b)
	}))
	defer srv.Close()
	wh, err := NewWebhook(Config{URL: srv.URL, Secret: "k"})
	require.NoError(t, err)
	it := items(1)
	it[0].Doc = []byte(`{"q":"` + string(bytes.Repeat([]byte("x"), 1<<20)) + `"}`)
	require.NoError(t, wh.Write(context.Background(), it))
	require.Greater(t, n, 1<<20)
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	require.Equal(t, 3*time.Second, retryAfter("3", now))
	require.Equal(t, time.Duration(0), retryAfter("", now))
	require.Equal(t, 10*time.Second, retryAfter(now.Add(10*time.Second).Format(http.TimeFormat), now))
	require.Equal(t, "https://es:9200/_bulk", redact("https://user:pw@es:9200/_bulk?x=1"))
}
