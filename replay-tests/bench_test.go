package replaytests

import (
	"context"
	"flag"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
)

var benchEvents = flag.Int("rebuild-events", 1_000_000, "events in BenchmarkRebuildFromJetStream")

// BenchmarkRebuildFromJetStream rebuilds the projection from a control
// stream of -rebuild-events generated events (a realistic mix, see
// generator) stored in a real embedded JetStream. Generating and storing
// the events happens once, outside the timer; each iteration reads the
// whole stream and applies every record to a new State. Target (DESIGN
// §9): 1,000,000 events in ≤ 5 s.
func BenchmarkRebuildFromJetStream(b *testing.B) {
	ctx := context.Background()
	evs := newGenerator(1).events(*benchEvents)
	st := openJetStream(b).Control
	// Chunks under the client's async publish window (4000), so that a busy
	// machine slows the setup down instead of stalling it.
	const chunk = 1000
	for i := 0; i < len(evs); i += chunk {
		_, err := st.AppendBatch(ctx, evs[i:min(i+chunk, len(evs))])
		require.NoError(b, err)
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for b.Loop() {
		s := projections.New()
		n := 0
		err := st.Read(ctx, eventlog.Query{}, func(rec eventlog.Record) error {
			n++
			return s.Apply(rec)
		})
		require.NoError(b, err)
		require.Equal(b, len(evs), n)
	}
	b.ReportMetric(float64(len(evs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
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

// BenchmarkApply measures Apply alone on the same mix, from memory.
func BenchmarkApply(b *testing.B) {
	evs := newGenerator(1).events(100_000)
	recs := make([]eventlog.Record, len(evs))
	for i := range evs {
		recs[i] = eventlog.Record{StreamSeq: uint64(i + 1), Event: evs[i]}
	}
	b.ResetTimer()
	for b.Loop() {
		s := projections.New()
		for _, r := range recs {
			if err := s.Apply(r); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(len(recs))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
