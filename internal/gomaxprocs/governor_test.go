package gomaxprocs

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"
)

func TestStateNext(t *testing.T) {
	opt, err := Options{}.withDefaults()
	require.NoError(t, err)
	repeat := func(n int, v float64) []float64 {
		out := make([]float64, n)
		for i := range out {
			out[i] = v
		}
		return out
	}
	for _, tc := range []struct {
		name     string
		low      bool
		readings []float64
		wantLow  bool
		changes  int
	}{
		{"quiet, one reading short: stays on the default", false, repeat(19, 0.1), false, 0},
		{"quiet for LowerAfter readings: one P", false, repeat(20, 0.1), true, 1},
		{"a busy reading restarts the count", false, append(repeat(19, 0.1), append([]float64{0.6}, repeat(19, 0.1)...)...), false, 0},
		{"exactly LowerAt is not quiet", false, repeat(40, DefaultLowerAt), false, 0},
		{"on one P, one busy reading is not enough", true, []float64{0.9}, true, 0},
		{"on one P, two busy readings in a row: the default", true, []float64{0.9, 0.9}, false, 1},
		{"exactly RaiseAt raises", true, []float64{DefaultRaiseAt, DefaultRaiseAt}, false, 1},
		{"busy readings apart do not raise", true, []float64{0.9, 0.3, 0.9, 0.3}, true, 0},
		{"between the thresholds nothing moves", true, repeat(100, 0.6), true, 0},
		{"raised, then quiet again: back to one P", true, append([]float64{1, 1}, repeat(20, 0.2)...), true, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := state{low: tc.low}
			changes := 0
			for _, r := range tc.readings {
				if s.next(opt, r) {
					changes++
				}
			}
			require.Equal(t, tc.wantLow, s.low)
			require.Equal(t, tc.changes, changes)
		})
	}
}

func TestOptionsInvalid(t *testing.T) {
	for _, o := range []Options{
		{LowerAt: 0.8, RaiseAt: 0.7},
		{LowerAt: 0.7, RaiseAt: 0.7},
		{LowerAt: -1},
		{Interval: -time.Second},
		{RaiseAfter: -1},
	} {
		_, err := o.withDefaults()
		require.ErrorIs(t, err, ErrOptions, "%+v", o)
	}
}

func TestEnabledNotWhenTheEnvironmentSetsGOMAXPROCS(t *testing.T) {
	env := func(string) (string, bool) { return "2", true }
	require.False(t, Enabled(env))
}

// TestLoopFollowsTheProcessCPU drives the loop reading by reading (the
// CPU time and the wall clock advance by what each step says) and records
// the settings it makes: quiet for LowerAfter readings goes to one P, two
// busy ones come back, and quiet again for one reading short of
// LowerAfter stays.
func TestLoopFollowsTheProcessCPU(t *testing.T) {
	opt, err := Options{}.withDefaults()
	require.NoError(t, err)
	readings := make(chan reading)
	var set []bool
	l := loop{
		opt: opt,
		next: func(ctx context.Context) (reading, bool) {
			select {
			case <-ctx.Done():
				return reading{}, false
			case r := <-readings:
				return r, true
			}
		},
		set: func(low bool, _ float64) { set = append(set, low) },
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { l.run(ctx); close(done) }()
	r := reading{wall: time.Unix(0, 0), ok: true}
	step := func(cores float64) {
		r.wall = r.wall.Add(opt.Interval)
		r.cpu += time.Duration(cores * float64(opt.Interval))
		readings <- r
	}
	readings <- r // the baseline
	for range opt.LowerAfter - 1 {
		step(0.2)
	}
	// A failed reading is skipped: it neither counts nor breaks the run.
	readings <- reading{}
	step(0.2)
	step(1.0)
	step(1.0)
	for range opt.LowerAfter - 1 {
		step(0.3)
	}
	cancel()
	<-done
	require.Equal(t, []bool{true, false}, set)
}

// TestGovernSetsTheRuntime runs the real governor on this test process,
// which is idle: it goes to one P, and back to the runtime's default when
// it stops.
func TestGovernSetsTheRuntime(t *testing.T) {
	def := runtime.GOMAXPROCS(0)
	if def == 1 {
		require.False(t, Enabled(func(string) (string, bool) { return "", false }), "one CPU: nothing to govern")
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- Govern(ctx, zerolog.Nop(), Options{Interval: time.Millisecond, LowerAfter: 3, LowerAt: 0.6})
	}()
	require.Eventually(t, func() bool { return runtime.GOMAXPROCS(0) == 1 }, time.Minute, time.Millisecond)
	// A second governor in the same process leaves the setting to the first.
	require.NoError(t, Govern(ctx, zerolog.Nop(), Options{}))
	require.Equal(t, 1, runtime.GOMAXPROCS(0))
	cancel()
	require.NoError(t, <-done)
	require.Equal(t, def, runtime.GOMAXPROCS(0))
}

func TestGovernRefusesInvalidOptions(t *testing.T) {
	require.ErrorIs(t, Govern(context.Background(), zerolog.Nop(), Options{LowerAt: 0.9}), ErrOptions)
}
