package jetstream_test

import (
	"context"
	"encoding/json"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
)

// BenchmarkRead1M reads 1,000,000 control events (DESIGN §9: projections
// rebuilt from 1,000,000 events in ≤ 5 s). One op is one full Read.
func BenchmarkRead1M(b *testing.B) {
	const total = 1_000_000
	ctx := context.Background()
	l, err := jetstream.Open(ctx, jetstream.Config{DataDir: b.TempDir()})
	require.NoError(b, err)
	defer l.Close(ctx)
	ids := eventlog.NewULIDs()
	batch := make([]eventlog.Event, 0, 1000)
	for i := 0; i < total; i++ {
		now := time.Now().UTC()
		batch = append(batch, eventlog.Event{
			ID: ids.NewID(now), Type: "user.updated", V: 1, Time: now, Source: "control", Actor: "admin",
			Subject: eventlog.ControlSubject(eventlog.KindUser, fmt.Sprintf("user%d", i%5000)),
			Data:    json.RawMessage(fmt.Sprintf(`{"name":"user%d","roles":["dev","ops"],"n":%d}`, i%5000, i)),
		})
		if len(batch) == cap(batch) {
			_, err := l.Control.AppendBatch(ctx, batch)
			require.NoError(b, err)
			batch = batch[:0]
		}
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		n := 0
		require.NoError(b, l.Control.Read(ctx, eventlog.Query{}, func(eventlog.Record) error {
			n++
			return nil
		}))
		require.Equal(b, total, n)
	}
	b.ReportMetric(float64(total)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric((cpuTime()-cpu0).Seconds()/float64(b.N), "cpu-s/op")
}

// cpuTime is the user plus system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
