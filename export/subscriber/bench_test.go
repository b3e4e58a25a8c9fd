package subscriber

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/export"
	"github.com/tollgate-db/tollgate/export/sink/httpsink"
)

// benchExport appends b.N query events to an embedded JetStream, then
// measures the subscriber draining them into the sink, end to end (fetch,
// decode, format, write, ack).
func benchExport(b *testing.B, cfg export.SinkConfig) {
	e := startEnv(b)
	e.appendQueries(b, b.N)
	sink, err := NewSink(cfg)
	if err != nil {
		b.Fatal(err)
	}
	sub, err := New(e.js, cfg, sink, Options{Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start, cpu0 := time.Now(), processCPU(b)
	stop := run(b, sub)
	deadline := time.Now().Add(10 * time.Minute)
	for {
		st := sub.Status(context.Background())
		if st.Streams[0].Exported >= uint64(b.N) {
			break
		}
		if time.Now().After(deadline) {
			b.Fatalf("exported %d of %d", st.Streams[0].Exported, b.N)
		}
		time.Sleep(2 * time.Millisecond)
	}
	elapsed, cpu := time.Since(start), processCPU(b)-cpu0
	b.StopTimer()
	stop()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	// CPU of the whole process (embedded NATS included) per event: less
	// sensitive than events/s to other work on a shared machine.
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/event")
}

// processCPU is the user and system CPU time the process used so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkExportFile: go test ./export/subscriber -run '^$' -bench ExportFile -benchtime 200000x
func BenchmarkExportFile(b *testing.B) {
	for _, f := range []string{export.FormatNative, export.FormatOCSF} {
		b.Run(f, func(b *testing.B) {
			cfg := fileSink("bench", filepath.Join(b.TempDir(), "audit.jsonl"))
			cfg.Format = f
			cfg.Batch = export.Batch{MaxEvents: 1000, MaxWait: 100 * time.Millisecond}
			benchExport(b, cfg)
		})
	}
}

func discardServer(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"text":"Success","code":0}`)
	}))
	b.Cleanup(srv.Close)
	return srv
}

// BenchmarkExportHTTP: go test ./export/subscriber -run '^$' -bench ExportHTTP -benchtime 200000x
func BenchmarkExportHTTP(b *testing.B) {
	for _, typ := range []string{httpsink.TypeWebhook, httpsink.TypeSplunkHEC} {
		b.Run(typ, func(b *testing.B) {
			srv := discardServer(b)
			cfg := export.SinkConfig{Name: "bench", Type: typ,
				Settings: &httpsink.Config{URL: srv.URL, Secret: "k", Token: "t"},
				Batch:    export.Batch{MaxEvents: 1000, MaxWait: 100 * time.Millisecond}}
			benchExport(b, cfg)
		})
	}
}
