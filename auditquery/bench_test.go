package auditquery

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/embedded"
	tjs "github.com/tollgate-db/tollgate/eventlog/jetstream"
	"github.com/tollgate-db/tollgate/schemas"
)

// Large-stream benchmark settings. The store is generated once into
// $TOLLGATE_BENCH_DIR and reused by later runs.
const (
	benchEvents      = 10_000_000
	benchConcurrent  = 1000 // sessions interleaved at any time
	benchPerSession  = 100  // events per session
	benchTargetIndex = benchEvents / benchPerSession / 2
)

func benchSessionID(i int) string { return fmt.Sprintf("sess-%07d", i) }

// generate appends events until the audit stream holds benchEvents:
// sessions of benchPerSession events (start, queries and results, end),
// benchConcurrent of them interleaved, over 50 users and 10 databases.
func generate(b *testing.B, s *tjs.Stream) {
	ctx := context.Background()
	last, err := s.LastSeq(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if last >= benchEvents {
		return
	}
	b.Logf("generating %d events (have %d)", benchEvents, last)
	base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	batch := make([]eventlog.Event, 0, 2000)
	start := time.Now()
	for seq := int(last); seq < benchEvents; seq++ {
		group := seq / (benchConcurrent * benchPerSession)
		within := seq % (benchConcurrent * benchPerSession)
		sess := group*benchConcurrent + within%benchConcurrent
		k := within / benchConcurrent // event index within its session
		sid := benchSessionID(sess)
		user := fmt.Sprintf("user%02d", sess%50)
		db := fmt.Sprintf("db%d", sess%10)
		var typ string
		var data any
		switch {
		case k == 0:
			typ, data = schemas.TypeSessionStarted, schemas.SessionStarted{SessionID: sid, User: user, Database: db, DBUser: user, DBName: "app", Protocol: "postgres", ClientAddr: "10.0.0.1:5000", AgentID: "agent-1"}
		case k == benchPerSession-1:
			typ, data = schemas.TypeSessionEnded, schemas.SessionEnded{SessionID: sid, Reason: schemas.EndClient, DurationMS: 1000, Queries: uint64(benchPerSession / 2)}
		case k%2 == 1:
			typ, data = schemas.TypeQuery, schemas.Query{SessionID: sid, N: uint64(k/2 + 1), Kind: "simple", Statement: fmt.Sprintf("SELECT * FROM t WHERE id = %d", seq)}
		default:
			typ, data = schemas.TypeQueryResult, schemas.QueryResult{SessionID: sid, N: uint64(k / 2), Status: "ok", CommandTag: "SELECT 1", Rows: 1, DurationUS: 120}
		}
		raw, _ := json.Marshal(data)
		batch = append(batch, eventlog.Event{ID: fmt.Sprintf("bench-%010d", seq), Type: typ, V: 1, Time: base.Add(time.Duration(seq) * time.Millisecond),
			Source: "agent-1", Actor: user, Subject: eventlog.AuditSubject(db, user, sid, typ), Data: raw})
		if len(batch) == cap(batch) || seq == benchEvents-1 {
			if _, err := s.AppendBatch(ctx, batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
		if seq%1_000_000 == 0 && seq > int(last) {
			b.Logf("%d events, %.0f/s", seq, float64(seq-int(last))/time.Since(start).Seconds())
		}
	}
	b.Logf("generated in %s", time.Since(start))
}

// BenchmarkSession10M measures Session on a 10,000,000-event audit stream
// (DESIGN §9: ≤ 1 s). Heavy: it needs TOLLGATE_BENCH_DIR, a persistent
// directory where the store is generated once:
//
//	TOLLGATE_BENCH_DIR=/var/tmp/tollgate-bench go test ./auditquery -run '^$' -bench Session10M -benchtime 5x -timeout 2h
func BenchmarkSession10M(b *testing.B) {
	dir := os.Getenv("TOLLGATE_BENCH_DIR")
	if dir == "" {
		b.Skip("set TOLLGATE_BENCH_DIR to a persistent directory to run the 10M-event benchmark")
	}
	ctx := context.Background()
	srv, err := embedded.Start(ctx, embedded.Config{StoreDir: filepath.Join(dir, "jetstream"), Logger: zerolog.Nop()})
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = srv.Shutdown(context.Background()) }()
	nc, err := srv.Connect()
	if err != nil {
		b.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		b.Fatal(err)
	}
	if err := tjs.Provision(ctx, js, tjs.Config{AuditRetention: 100 * 365 * 24 * time.Hour}); err != nil {
		b.Fatal(err)
	}
	s, err := tjs.NewStream(ctx, js, eventlog.AuditStream)
	if err != nil {
		b.Fatal(err)
	}
	generate(b, s)
	sid := benchSessionID(benchTargetIndex)
	b.ResetTimer()
	for b.Loop() {
		tr, err := Session(ctx, s, sid)
		if err != nil {
			b.Fatal(err)
		}
		if len(tr.Queries) != benchPerSession/2-1 || tr.Ended == nil {
			b.Fatalf("session %s: %d queries, ended %v", sid, len(tr.Queries), tr.Ended != nil)
		}
	}
}
