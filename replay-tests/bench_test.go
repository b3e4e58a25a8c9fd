package replaytests

import (
	"context"
	"flag"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
	"github.com/tollgate-db/tollgate/internal/catchupgc"
	"github.com/tollgate-db/tollgate/projections"
)

var (
	benchEvents  = flag.Int("rebuild-events", 1_000_000, "events in BenchmarkRebuildFromJetStream")
	benchProfile = flag.String("rebuild-cpuprofile", "", "write a CPU profile of BenchmarkRebuildFromJetStream's timed part to this file")
	benchGOGC    = flag.Int("rebuild-gogc", 0, "run BenchmarkRebuildFromJetStream's timed part at this GC target instead of the catch-up GC a start sets (to compare)")
)

// BenchmarkRebuildFromJetStream rebuilds the projection from a control
// stream of -rebuild-events generated events (a realistic mix, see
// generator) stored in a real embedded JetStream. Generating and storing
// the events happens once, outside the timer; each iteration reads the
// whole stream and applies every record to a new State. Target (DESIGN
// §9): 1,000,000 events in ≤ 5 s.
//
// Besides events/s it reports the CPU time of the timed part (all
// goroutines: JetStream server, NATS client, decode, Apply, GC), the GC's
// share of it, the bytes it allocated and its GC cycles (steadier than
// time on a shared machine),
// the process's peak RSS (setup included) and the live heap once the last
// State is built (the State, the server's caches, the test's own).
func BenchmarkRebuildFromJetStream(b *testing.B) {
	ctx := context.Background()
	// A control that rebuilds at start reads events written over weeks:
	// the server remembers the ids of the last duplicate window's only.
	// The events here are all written in the setup's seconds, so the
	// window is a second and the setup waits it out (the server's
	// purge of ids runs once a window).
	const window = time.Second
	st := openJetStreamWith(b, jetstream.Config{DuplicateWindow: window}).Control
	want := storeEvents(ctx, b, st, *benchEvents)
	time.Sleep(3 * window)
	runtime.GC() // the generated events are garbage now: not the timed part's
	// The GC as a start sets it while control catches up (GOGC in the
	// environment overrides it, as for the daemon), and the peak RSS of the
	// timed part only.
	var restoreGC func()
	if *benchGOGC != 0 {
		prev := debug.SetGCPercent(*benchGOGC)
		restoreGC = func() { debug.SetGCPercent(prev) }
	} else {
		restoreGC = catchupgc.Raise(os.LookupEnv, catchupgc.Memory())
	}
	resetPeakRSS()
	stop := startProfile(b, *benchProfile)
	var ms0 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	gc0 := gcCPU()
	b.ResetTimer()
	cpu0 := cpuTime()
	var s *projections.State
	for b.Loop() {
		s = projections.New()
		n := 0
		err := st.Read(ctx, eventlog.Query{}, func(rec eventlog.Record) error {
			n++
			return s.Apply(rec)
		})
		require.NoError(b, err)
		require.Equal(b, want, n)
	}
	cpu := cpuTime() - cpu0
	b.StopTimer()
	peak := maxRSS()
	restoreGC()
	stop()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.TotalAlloc-ms0.TotalAlloc)/float64(b.N)/(1<<20), "alloc-MiB/op")
	b.ReportMetric(float64(ms.NumGC-ms0.NumGC)/float64(b.N), "gcs/op")
	b.ReportMetric((gcCPU()-gc0)/float64(b.N), "gc-cpu-s/op")
	b.ReportMetric(float64(want)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/op")
	b.ReportMetric(float64(peak)/(1<<20), "peak-rss-MiB")
	runtime.GC()
	runtime.ReadMemStats(&ms)
	runtime.KeepAlive(s)
	b.ReportMetric(float64(ms.HeapAlloc)/(1<<20), "live-heap-MiB")
}

// storeEvents appends n generated events to st and returns n. The events
// are not kept: the timed part must not find them in the heap.
func storeEvents(ctx context.Context, b *testing.B, st eventlog.Appender, n int) int {
	evs := newGenerator(1).events(n)
	// Chunks under the client's async publish window (4000), so that a busy
	// machine slows the setup down instead of stalling it.
	const chunk = 1000
	for i := 0; i < len(evs); i += chunk {
		_, err := st.AppendBatch(ctx, evs[i:min(i+chunk, len(evs))])
		require.NoError(b, err)
	}
	return len(evs)
}

// startProfile starts a CPU profile into path (none when path is empty)
// and returns what stops it.
func startProfile(b *testing.B, path string) (stop func()) {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path)
	require.NoError(b, err)
	require.NoError(b, pprof.StartCPUProfile(f))
	return func() {
		pprof.StopCPUProfile()
		require.NoError(b, f.Close())
	}
}

// cpuTime is the user plus system CPU time of this process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// gcCPU is the CPU time the runtime estimates it spent in the GC so far,
// in seconds.
func gcCPU() float64 {
	m := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(m)
	return m[0].Value.Float64()
}

// maxRSS is the peak resident set size of this process so far, in bytes.
// maxRSS is the process's peak resident set since resetPeakRSS (VmHWM),
// or since it started where /proc does not say.
func maxRSS() int64 {
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for line := range strings.Lines(string(b)) {
			if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
				if err == nil {
					return kb << 10
				}
			}
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss * 1024
}

// resetPeakRSS starts maxRSS's peak again from the resident set now
// (Linux: 5 in /proc/self/clear_refs); a no-op where that is refused.
func resetPeakRSS() { _ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

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
