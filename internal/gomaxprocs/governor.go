package gomaxprocs

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// Defaults of Options.
const (
	DefaultInterval   = 250 * time.Millisecond
	DefaultRaiseAt    = 0.7 // cores used on one P that raise
	DefaultRaiseAfter = 2   // samples in a row (0.5 s)
	DefaultLowerAt    = 0.5 // cores used on the default that lower
	DefaultLowerAfter = 20  // samples in a row (5 s)
)

// ErrOptions: Options out of range.
var ErrOptions = errors.New("gomaxprocs: invalid options")

// Options tune the governor; zero values take the defaults.
type Options struct {
	// Interval between two readings of the process's CPU time.
	Interval time.Duration
	// RaiseAt: on one P, RaiseAfter readings in a row at or over this many
	// cores (CPU time / wall time) restore the default.
	RaiseAt    float64
	RaiseAfter int
	// LowerAt: on the default, LowerAfter readings in a row under this
	// many cores go to one P. LowerAt must be under RaiseAt: the same load
	// costs less CPU on one P, and the gap keeps the two from alternating.
	LowerAt    float64
	LowerAfter int
}

func (o Options) withDefaults() (Options, error) {
	if o.Interval == 0 {
		o.Interval = DefaultInterval
	}
	if o.RaiseAt == 0 {
		o.RaiseAt = DefaultRaiseAt
	}
	if o.RaiseAfter == 0 {
		o.RaiseAfter = DefaultRaiseAfter
	}
	if o.LowerAt == 0 {
		o.LowerAt = DefaultLowerAt
	}
	if o.LowerAfter == 0 {
		o.LowerAfter = DefaultLowerAfter
	}
	if o.Interval < 0 || o.RaiseAfter < 0 || o.LowerAfter < 0 || o.LowerAt <= 0 || o.LowerAt >= o.RaiseAt {
		return o, ErrOptions
	}
	return o, nil
}

// Enabled reports whether the governor may run: not when the environment
// sets GOMAXPROCS (the operator's choice stands), nor where the runtime's
// default is already one P.
func Enabled(lookupEnv func(string) (string, bool)) bool {
	if _, set := lookupEnv("GOMAXPROCS"); set {
		return false
	}
	return runtime.GOMAXPROCS(0) > 1
}

// Start runs Govern with the defaults in the background when
// Enabled(os.LookupEnv); stop ends it and returns once the runtime's
// default is back. It is what `tollgate start` calls.
func Start(ctx context.Context, log zerolog.Logger) (stop func()) {
	if !Enabled(os.LookupEnv) {
		return func() {}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := Govern(ctx, log, Options{}); err != nil {
			log.Error().Err(err).Msg("GOMAXPROCS governor")
		}
	}()
	return func() { cancel(); <-done }
}

// governing is set while a Govern runs: GOMAXPROCS is the process's, so
// one governor sets it (tests run several daemons in one process).
var governing atomic.Bool

// Govern runs the governor until ctx ends, then restores the runtime's
// default. The process starts on the default (a start's catch-up uses
// both cores) and goes to one P after LowerAfter quiet readings. Call it
// only when Enabled; while another Govern of the process runs, it returns
// at once.
func Govern(ctx context.Context, log zerolog.Logger, opt Options) error {
	opt, err := opt.withDefaults()
	if err != nil {
		return err
	}
	if !governing.CompareAndSwap(false, true) {
		return nil
	}
	defer governing.Store(false)
	t := time.NewTicker(opt.Interval)
	defer t.Stop()
	defer runtime.SetDefaultGOMAXPROCS()
	l := loop{
		opt: opt,
		next: func(ctx context.Context) (reading, bool) {
			select {
			case <-ctx.Done():
				return reading{}, false
			case now := <-t.C:
				cpu, err := processCPU()
				return reading{cpu: cpu, wall: now, ok: err == nil}, true
			}
		},
		set: func(low bool, cores float64) {
			why := "busy: the runtime's default"
			if low {
				runtime.GOMAXPROCS(1)
				why = "quiet: one P"
			} else {
				runtime.SetDefaultGOMAXPROCS()
			}
			log.Info().Int("gomaxprocs", runtime.GOMAXPROCS(0)).Float64("cores", math.Round(cores*100)/100).Msg("GOMAXPROCS " + why)
		},
	}
	l.run(ctx)
	return nil
}

// processCPU is the process's user and system CPU time so far.
func processCPU() (time.Duration, error) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0, fmt.Errorf("read the process's CPU time: %w", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), nil
}

// reading is the process's CPU time at a wall time; a failed one (not ok)
// is skipped.
type reading struct {
	cpu  time.Duration
	wall time.Time
	ok   bool
}

// loop is Govern with its readings and setting given, so that a test
// drives it reading by reading.
type loop struct {
	opt  Options
	next func(ctx context.Context) (reading, bool) // false: stop
	set  func(low bool, cores float64)             // one P (low) or the runtime's default, after a reading of cores
}

func (l *loop) run(ctx context.Context) {
	var s state
	var last reading
	for {
		r, more := l.next(ctx)
		if !more {
			return
		}
		if !r.ok {
			continue
		}
		if dt := r.wall.Sub(last.wall); last.ok && dt > 0 {
			if cores := float64(r.cpu-last.cpu) / float64(dt); s.next(l.opt, cores) {
				l.set(s.low, cores)
			}
		}
		last = r
	}
}

// state is the governor's decision: on one P or not, and how many
// readings in a row have pointed the other way.
type state struct {
	low    bool
	streak int
}

// next takes one reading (cores used since the last) and reports whether
// the setting changes.
func (s *state) next(opt Options, cores float64) bool {
	var toward bool
	var after int
	if s.low {
		toward, after = cores >= opt.RaiseAt, opt.RaiseAfter
	} else {
		toward, after = cores < opt.LowerAt, opt.LowerAfter
	}
	if !toward {
		s.streak = 0
		return false
	}
	s.streak++
	if s.streak < after {
		return false
	}
	s.low, s.streak = !s.low, 0
	return true
}
