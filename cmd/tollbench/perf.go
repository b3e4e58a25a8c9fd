package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// profiler runs perf on the daemons during each row (--profile DIR): a
// CPU profile (perf record, call graphs) of the agent, control and
// nats-server in the agent rows, and in every row a count of each
// daemon's system calls (perf stat, raw_syscalls:sys_enter). The daemons
// serve no pprof endpoint, so there are no allocation profiles (see
// BENCHMARKS.md).
type profiler struct {
	dir  string
	perf string
}

// newProfiler is nil when dir is empty, or when perf is not installed
// (said on out: the rows run without profiles).
func newProfiler(dir string, out io.Writer) (*profiler, error) {
	if dir == "" {
		return nil, nil
	}
	perf, err := exec.LookPath("perf")
	if err != nil {
		fmt.Fprintln(out, "perf not found (apt-get install -y linux-perf): no profiles, no system call counts")
		return nil, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	return &profiler{dir: dir, perf: perf}, nil
}

// perfRun is perf attached to a row's daemons for one pgbench run.
type perfRun struct {
	p       *profiler
	stats   map[string]*exec.Cmd // role → perf stat
	records map[string]*exec.Cmd // role → perf record
	base    string               // file name prefix of the row
}

// recorded are the roles profiled with perf record (the agent rows'
// daemons); counted, the roles whose system calls are counted.
var (
	recorded = map[string]bool{roleAgent: true, roleControl: true, roleNATS: true}
	counted  = map[string]bool{roleAgent: true, roleControl: true, roleNATS: true, rolePgbouncer: true, roleRelay: true}
)

// start attaches perf to t's daemons (nil profiler: nothing).
func (p *profiler) start(ctx context.Context, t target, clients int) (*perfRun, error) {
	if p == nil {
		return nil, nil
	}
	r := &perfRun{p: p, stats: map[string]*exec.Cmd{}, records: map[string]*exec.Cmd{},
		base: fmt.Sprintf("%s-c%d", strings.NewReplacer(" ", "-", "(", "", ")", "", ",", "").Replace(t.name), clients)}
	agentRow := false
	for _, pr := range t.probes {
		agentRow = agentRow || pr.role == roleAgent
	}
	for _, pr := range t.probes {
		pid := strconv.Itoa(pr.pid)
		if counted[pr.role] {
			if err := r.spawn(ctx, r.stats, pr.role, "stat", "-x,", "-e", "raw_syscalls:sys_enter", "-p", pid, "-o", r.file(pr.role, "syscalls.csv")); err != nil {
				return r, err
			}
		}
		if agentRow && recorded[pr.role] {
			if err := r.spawn(ctx, r.records, pr.role, "record", "-F", "499", "-g", "-p", pid, "-o", r.file(pr.role, "perf.data")); err != nil {
				return r, err
			}
		}
	}
	// perf opens its events after it starts; give it a moment so the
	// run's first queries are counted.
	time.Sleep(300 * time.Millisecond)
	return r, nil
}

func (r *perfRun) file(role, ext string) string {
	return filepath.Join(r.p.dir, r.base+"-"+strings.ReplaceAll(role, " ", "-")+"."+ext)
}

func (r *perfRun) spawn(ctx context.Context, into map[string]*exec.Cmd, role string, args ...string) error {
	cmd := exec.CommandContext(ctx, r.p.perf, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("perf %s: %w", args[0], err)
	}
	into[role] = cmd
	return nil
}

// stop ends every perf (SIGINT: they write their output), writes a flat
// text report of each CPU profile next to it and returns the system
// calls counted per role.
func (r *perfRun) stop(ctx context.Context) (map[string]uint64, error) {
	if r == nil {
		return nil, nil
	}
	for _, m := range []map[string]*exec.Cmd{r.stats, r.records} {
		for _, cmd := range m {
			_ = cmd.Process.Signal(syscall.SIGINT)
		}
		for _, cmd := range m {
			_ = cmd.Wait()
		}
	}
	calls := map[string]uint64{}
	for role := range r.stats {
		n, err := readSyscalls(r.file(role, "syscalls.csv"))
		if err != nil {
			return nil, err
		}
		calls[role] = n
	}
	for role := range r.records {
		if err := r.report(ctx, role); err != nil {
			return nil, err
		}
	}
	return calls, nil
}

// report writes `perf report` by symbol, self time, no call graph.
func (r *perfRun) report(ctx context.Context, role string) error {
	cmd := exec.CommandContext(ctx, r.p.perf, "report", "-i", r.file(role, "perf.data"), "--stdio", "--no-children",
		"-g", "none", "--sort", "dso,symbol", "--percent-limit", "0.5")
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("perf report %s: %w", r.file(role, "perf.data"), err)
	}
	return os.WriteFile(r.file(role, "txt"), out, 0o644)
}

// readSyscalls reads the count from perf stat's CSV output (-x,).
func readSyscalls(path string) (uint64, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ",")
		if len(f) > 2 && f[2] == "raw_syscalls:sys_enter" {
			n, err := strconv.ParseUint(f[0], 10, 64)
			if err != nil {
				return 0, fmt.Errorf("%s: %q not counted", path, f[0])
			}
			return n, nil
		}
	}
	return 0, fmt.Errorf("%s: no raw_syscalls:sys_enter count", path)
}
