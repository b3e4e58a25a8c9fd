package subscriber

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/embedded"
	tjs "github.com/tollgate-db/tollgate/eventlog/jetstream"
	"github.com/tollgate-db/tollgate/export"
	"github.com/tollgate-db/tollgate/export/sink/file"
	"github.com/tollgate-db/tollgate/export/sink/httpsink"
	"github.com/tollgate-db/tollgate/export/sink/sqlsink"
	"github.com/tollgate-db/tollgate/internal/pgtest"
	"github.com/tollgate-db/tollgate/schemas"
)

type env struct {
	srv   *embedded.Server
	audit *tjs.Stream
	js    jetstream.JetStream
}

func startEnv(t testing.TB) *env {
	ctx := context.Background()
	srv, err := embedded.Start(ctx, embedded.Config{StoreDir: t.TempDir(), Logger: zerolog.Nop()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	js := connect(t, srv)
	require.NoError(t, tjs.Provision(ctx, js, tjs.Config{}))
	audit, err := tjs.NewStream(ctx, js, eventlog.AuditStream)
	require.NoError(t, err)
	return &env{srv: srv, audit: audit, js: js}
}

func connect(t testing.TB, srv *embedded.Server) jetstream.JetStream {
	nc, err := srv.Connect()
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	return js
}

var idCounter atomic.Uint64

// appendQueries appends n query events of session s1 and returns their ids.
func (e *env) appendQueries(t testing.TB, n int) []string {
	evs := make([]eventlog.Event, n)
	ids := make([]string, n)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range evs {
		k := idCounter.Add(1)
		typ := schemas.TypeQuery
		if k%2 == 0 {
			typ = schemas.TypeQueryResult
		}
		data, _ := json.Marshal(schemas.Query{SessionID: "s1", N: k, Kind: "simple", Statement: fmt.Sprintf("SELECT %d", k)})
		ids[i] = fmt.Sprintf("ev%08d", k)
		evs[i] = eventlog.Event{ID: ids[i], Type: typ, V: 1, Time: base.Add(time.Duration(k) * time.Millisecond), Source: "agent-1",
			Actor: "alice", Subject: eventlog.AuditSubject("roach", "alice", "s1", typ), Data: data}
	}
	for i := 0; i < n; i += 1000 {
		_, err := e.audit.AppendBatch(context.Background(), evs[i:min(i+1000, n)])
		require.NoError(t, err)
	}
	return ids
}

func run(t testing.TB, sub *Subscriber) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sub.Run(ctx) }()
	return func() {
		cancel()
		require.NoError(t, <-done)
	}
}

// lines reads the JSON lines of path written so far: a last line without
// its newline is a write still in progress, and is left for later.
func lines(t testing.TB, path string) []map[string]any {
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	require.NoError(t, err)
	parts := bytes.Split(b, []byte("\n"))
	var out []map[string]any
	for _, l := range parts[:len(parts)-1] {
		var m map[string]any
		require.NoError(t, json.Unmarshal(l, &m))
		out = append(out, m)
	}
	return out
}

func fileSink(name, path string) export.SinkConfig {
	return export.SinkConfig{Name: name, Type: file.Type, Settings: &file.Config{Path: path},
		Batch: export.Batch{MaxEvents: 100, MaxWait: 50 * time.Millisecond},
		Retry: export.Retry{Initial: 20 * time.Millisecond, Max: 200 * time.Millisecond}}
}

func TestFileExportAndResume(t *testing.T) {
	t.Parallel()
	e := startEnv(t)
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	cfg := fileSink("file1", path)
	ids := e.appendQueries(t, 250)

	start := func() func() {
		sink, err := NewSink(cfg)
		require.NoError(t, err)
		sub, err := New(e.js, cfg, sink, Options{Logger: zerolog.Nop()})
		require.NoError(t, err)
		return run(t, sub)
	}
	stop := start()
	require.Eventually(t, func() bool { return len(lines(t, path)) >= 250 }, 20*time.Second, 20*time.Millisecond)
	stop()
	ids = append(ids, e.appendQueries(t, 100)...)
	stop = start()
	require.Eventually(t, func() bool { return len(lines(t, path)) >= 350 }, 20*time.Second, 20*time.Millisecond)
	stop()
	got := lines(t, path)
	require.Len(t, got, 350)
	for i, m := range got {
		require.Equal(t, ids[i], m["id"])
	}
}

func TestTypeAndSubjectFilter(t *testing.T) {
	t.Parallel()
	e := startEnv(t)
	path := filepath.Join(t.TempDir(), "q.jsonl")
	cfg := fileSink("onlyq", path)
	cfg.Filter = export.Filter{Types: []string{schemas.TypeQuery}, Subjects: []string{eventlog.AuditFilter("roach", "", "", "")}}
	cfg.Format = export.FormatOCSF
	e.appendQueries(t, 40)
	sink, err := NewSink(cfg)
	require.NoError(t, err)
	sub, err := New(e.js, cfg, sink, Options{Logger: zerolog.Nop()})
	require.NoError(t, err)
	stop := run(t, sub)
	require.Eventually(t, func() bool { return sub.Status(context.Background()).Streams[0].Lag == 0 && len(lines(t, path)) == 20 },
		20*time.Second, 20*time.Millisecond)
	stop()
	for _, m := range lines(t, path) {
		require.EqualValues(t, 600504, m["type_uid"])
	}
}

// TestDestinationDown: a webhook answering 503 for a while loses nothing;
// lag rises and returns to zero.
func TestDestinationDown(t *testing.T) {
	t.Parallel()
	e := startEnv(t)
	var down atomic.Bool
	down.Store(true)
	var mu sync.Mutex
	seen := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		b, _ := io.ReadAll(r.Body)
		var docs []map[string]any
		if json.Unmarshal(b, &docs) != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		for _, d := range docs {
			seen[d["id"].(string)]++
		}
		mu.Unlock()
	}))
	defer srv.Close()
	cfg := export.SinkConfig{Name: "hook", Type: httpsink.TypeWebhook, Settings: &httpsink.Config{URL: srv.URL, Secret: "k"},
		Batch: export.Batch{MaxEvents: 50, MaxWait: 20 * time.Millisecond},
		Retry: export.Retry{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond}}
	reg := prometheus.NewRegistry()
	sink, err := NewSink(cfg)
	require.NoError(t, err)
	sub, err := New(e.js, cfg, sink, Options{Logger: zerolog.Nop(), Registerer: reg, AckWait: 2 * time.Second})
	require.NoError(t, err)
	stop := run(t, sub)
	defer stop()
	ids := e.appendQueries(t, 300)
	lag := func() float64 {
		mfs, err := reg.Gather()
		require.NoError(t, err)
		for _, mf := range mfs {
			if mf.GetName() == "tollgate_export_lag_events" {
				for _, m := range mf.GetMetric() {
					return m.GetGauge().GetValue()
				}
			}
		}
		return -1
	}
	require.Eventually(t, func() bool { return lag() >= 300 }, 20*time.Second, 20*time.Millisecond, "lag should rise while down")
	// The lag can rise before the first write has failed: wait for it.
	require.Eventually(t, func() bool {
		st := sub.Status(context.Background())
		return st.Streams[0].Retrying && strings.Contains(st.Streams[0].LastError, "503")
	}, 20*time.Second, 20*time.Millisecond, "the status shows the sink retrying after 503")
	ids = append(ids, e.appendQueries(t, 100)...)
	require.Eventually(t, func() bool { return lag() >= 400 }, 20*time.Second, 20*time.Millisecond)
	down.Store(false)
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(seen) == 400 && lag() == 0
	}, 30*time.Second, 20*time.Millisecond, "every event delivered and lag back to zero")
	for _, id := range ids {
		require.GreaterOrEqual(t, seen[id], 1, id)
	}
	require.Equal(t, 0, int(sub.Status(context.Background()).Streams[0].Lag))
}

// crashSink inserts into SQL, then "crashes" once before the ack: it closes
// the subscriber's NATS connection so the acks never arrive.
type crashSink struct {
	inner   export.Sink
	nc      *nats.Conn
	crashed atomic.Bool
	done    chan struct{}
}

func (c *crashSink) Write(ctx context.Context, b []export.Item) error {
	if err := c.inner.Write(ctx, b); err != nil {
		return err
	}
	if c.crashed.CompareAndSwap(false, true) {
		c.nc.Close()
		close(c.done)
	}
	return nil
}

func (c *crashSink) Close() error { return c.inner.Close() }

func TestSQLCrashBetweenInsertAndAck(t *testing.T) {
	t.Parallel()
	pg := pgtest.Start(t, pgtest.Config{})
	e := startEnv(t)
	ids := e.appendQueries(t, 500)
	warehouse := &sqlsink.Config{DSN: pg.SuperuserConnString()}
	cfg := export.SinkConfig{Name: "warehouse", Type: sqlsink.Type, Settings: warehouse,
		Batch: export.Batch{MaxEvents: 200, MaxWait: 20 * time.Millisecond},
		Retry: export.Retry{Initial: 10 * time.Millisecond, Max: 100 * time.Millisecond}}

	nc, err := e.srv.Connect()
	require.NoError(t, err)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	inner, err := NewSink(cfg)
	require.NoError(t, err)
	cs := &crashSink{inner: inner, nc: nc, done: make(chan struct{})}
	sub, err := New(js, cfg, cs, Options{Logger: zerolog.Nop(), AckWait: time.Second})
	require.NoError(t, err)
	stop := run(t, sub)
	<-cs.done
	stop()

	// Restart on a fresh connection: the unacked batch is redelivered.
	inner2, err := sqlsink.New(*warehouse)
	require.NoError(t, err)
	sub2, err := New(connect(t, e.srv), cfg, inner2, Options{Logger: zerolog.Nop(), AckWait: time.Second})
	require.NoError(t, err)
	stop = run(t, sub2)
	defer stop()
	ids = append(ids, e.appendQueries(t, 100)...)
	ctx := context.Background()
	c, err := pg.Connect(ctx)
	require.NoError(t, err)
	defer c.Close(ctx)
	count := func() (n, distinct int) {
		_ = c.QueryRow(ctx, `SELECT count(*), count(DISTINCT id) FROM tollgate_events`).Scan(&n, &distinct)
		return
	}
	require.Eventually(t, func() bool {
		n, _ := count()
		return n == len(ids) && sub2.Status(ctx).Streams[0].Lag == 0
	}, 30*time.Second, 50*time.Millisecond)
	n, distinct := count()
	require.Equal(t, len(ids), n)
	require.Equal(t, n, distinct)
	for _, id := range []string{ids[0], ids[199], ids[200], ids[len(ids)-1]} {
		var got string
		require.NoError(t, c.QueryRow(ctx, `SELECT id FROM tollgate_events WHERE id = $1`, id).Scan(&got))
	}
}
