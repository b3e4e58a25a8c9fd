package devprof

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
)

// EnvDir names the directory the daemon writes its profiles to.
const EnvDir = "TOLLGATE_PROFILE_DIR"

// Start begins a CPU profile in dir/tollgate-<pid>.cpu.pprof; stop ends
// it and writes the allocations of the run (every allocation since the
// start, sampled as the runtime does) to dir/tollgate-<pid>.allocs.pprof.
func Start(dir string) (stop func() error, err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("profile dir: %w", err)
	}
	base := filepath.Join(dir, fmt.Sprintf("tollgate-%d", os.Getpid()))
	cpu, err := os.Create(base + ".cpu.pprof")
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(cpu); err != nil {
		cpu.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		errs := []error{cpu.Close()}
		runtime.GC() // the allocation profile is as of the last GC
		f, err := os.Create(base + ".allocs.pprof")
		if err != nil {
			return errors.Join(append(errs, fmt.Errorf("allocs profile: %w", err))...)
		}
		errs = append(errs, pprof.Lookup("allocs").WriteTo(f, 0), f.Close())
		return errors.Join(errs...)
	}, nil
}
