package httpsink

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/export"
	"github.com/tollgate-db/tollgate/export/sinktest"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var ids []string
	record := func(docs ...map[string]any) {
		mu.Lock()
		defer mu.Unlock()
		for _, d := range docs {
			if id, ok := d["id"].(string); ok {
				ids = append(ids, id)
			}
		}
	}
	hec := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dec := json.NewDecoder(r.Body)
		for dec.More() {
			var ev struct {
				Event map[string]any `json:"event"`
			}
			if dec.Decode(&ev) != nil {
				w.WriteHeader(http.StatusBadRequest)
				return
			}
			record(ev.Event)
		}
	}))
	defer hec.Close()
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var docs []map[string]any
		if json.Unmarshal(b, &docs) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		record(docs...)
	}))
	defer hook.Close()

	cases := map[string]sinktest.Harness{
		"hec": {New: func(t *testing.T) export.Sink {
			s, err := NewHEC(Config{URL: hec.URL, Token: "t"})
			require.NoError(t, err)
			return s
		}},
		"webhook": {New: func(t *testing.T) export.Sink {
			s, err := NewWebhook(Config{URL: hook.URL, Secret: "k"})
			require.NoError(t, err)
			return s
		}},
	}
	got := func(t *testing.T) []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), ids...)
	}
	for name, h := range cases {
		h.Received = got
		t.Run(name, func(t *testing.T) { sinktest.Run(t, h) })
	}
	fb := &fakeBulk{stored: map[string]string{}, fail: map[string]bool{}}
	bulkSrv := httptest.NewServer(fb)
	defer bulkSrv.Close()
	t.Run("bulk", func(t *testing.T) {
		sinktest.Run(t, sinktest.Harness{
			New: func(t *testing.T) export.Sink {
				s, err := NewBulk(Config{URL: bulkSrv.URL, DataStream: "logs-tollgate.audit-test"})
				require.NoError(t, err)
				return s
			},
			Received: func(t *testing.T) []string {
				fb.mu.Lock()
				defer fb.mu.Unlock()
				var out []string
				for id := range fb.stored {
					out = append(out, id)
				}
				return out
			},
		})
	})
}
