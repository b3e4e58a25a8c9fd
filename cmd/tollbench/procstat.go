package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// procReader reads CPU time and context switches from /proc (root, so a
// test can point it at a fake tree). CPU times there are in clock ticks.
type procReader struct {
	root string
	tick time.Duration
}

// newProcReader reads the real /proc, in ticks of `getconf CLK_TCK`
// (100 when getconf cannot say: Linux's USER_HZ everywhere).
func newProcReader(ctx context.Context) procReader {
	hz := 100
	if out, err := exec.CommandContext(ctx, "getconf", "CLK_TCK").Output(); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil && n > 0 {
			hz = n
		}
	}
	return procReader{root: "/proc", tick: time.Second / time.Duration(hz)}
}

// statLine is what tollbench uses of /proc/PID/stat.
type statLine struct {
	ppid                         int
	utime, stime, cutime, cstime uint64 // clock ticks
}

var errStat = errors.New("malformed /proc stat line")

// parseStat parses /proc/PID/stat. The command name (field 2) may hold
// spaces and parentheses, so fields are counted after its last ')'.
func parseStat(b []byte) (statLine, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return statLine{}, errStat
	}
	// f[0] is field 3 (state): field n is f[n-3].
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return statLine{}, errStat
	}
	var s statLine
	var err error
	num := func(n int) uint64 {
		v, e := strconv.ParseUint(f[n-3], 10, 64)
		if e != nil {
			err = errStat
		}
		return v
	}
	s.ppid = int(num(4))
	s.utime, s.stime, s.cutime, s.cstime = num(14), num(15), num(16), num(17)
	return s, err
}

func (r procReader) stat(pid int) (statLine, error) {
	b, err := os.ReadFile(filepath.Join(r.root, strconv.Itoa(pid), "stat"))
	if err != nil {
		return statLine{}, err
	}
	return parseStat(b)
}

// parseSwitches reads voluntary_ctxt_switches and
// nonvoluntary_ctxt_switches from a /proc status file.
func parseSwitches(b []byte) (vol, invol uint64) {
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		n, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		switch k {
		case "voluntary_ctxt_switches":
			vol = n
		case "nonvoluntary_ctxt_switches":
			invol = n
		}
	}
	return vol, invol
}

// procTimes is one probe's counters at one moment.
type procTimes struct {
	cpu        time.Duration
	vol, invol uint64
	switches   bool // vol and invol were read
}

// process reads pid's utime+stime (all its threads: /proc/PID/stat is
// the thread group's) and its context switches, summed over its threads
// (/proc/PID/status counts the main thread only).
func (r procReader) process(pid int) (procTimes, error) {
	s, err := r.stat(pid)
	if err != nil {
		return procTimes{}, err
	}
	t := procTimes{cpu: time.Duration(s.utime+s.stime) * r.tick, switches: true}
	tasks, err := os.ReadDir(filepath.Join(r.root, strconv.Itoa(pid), "task"))
	if err != nil {
		return procTimes{}, err
	}
	for _, task := range tasks {
		b, err := os.ReadFile(filepath.Join(r.root, strconv.Itoa(pid), "task", task.Name(), "status"))
		if err != nil {
			continue // the thread ended
		}
		v, i := parseSwitches(b)
		t.vol, t.invol = t.vol+v, t.invol+i
	}
	return t, nil
}

// tree reads the CPU time of root and every process whose parent chain
// reaches it, with the children they reaped (cutime+cstime): so a
// PostgreSQL backend that ended during a run still counts, in the
// postmaster's cutime. A child reaped while the tree is walked would be
// counted twice or not at all, so the walk is redone until root's cutime
// holds still across it.
func (r procReader) tree(root int) (procTimes, error) {
	for range 10 {
		before, err := r.stat(root)
		if err != nil {
			return procTimes{}, err
		}
		ticks, err := r.descendants(root)
		if err != nil {
			return procTimes{}, err
		}
		after, err := r.stat(root)
		if err != nil {
			return procTimes{}, err
		}
		if before.cutime+before.cstime == after.cutime+after.cstime {
			ticks += after.utime + after.stime + after.cutime + after.cstime
			return procTimes{cpu: time.Duration(ticks) * r.tick}, nil
		}
	}
	return procTimes{}, fmt.Errorf("process tree of %d: children kept ending while it was read", root)
}

// descendants sums utime+stime+cutime+cstime of root's descendants (not
// root itself).
func (r procReader) descendants(root int) (uint64, error) {
	entries, err := os.ReadDir(r.root)
	if err != nil {
		return 0, err
	}
	stats := map[int]statLine{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if s, err := r.stat(pid); err == nil {
			stats[pid] = s
		}
	}
	var ticks uint64
	for pid, s := range stats {
		if pid != root && reaches(stats, pid, root) {
			ticks += s.utime + s.stime + s.cutime + s.cstime
		}
	}
	return ticks, nil
}

// reaches reports whether pid's parent chain in stats reaches root.
func reaches(stats map[int]statLine, pid, root int) bool {
	for range len(stats) {
		s, ok := stats[pid]
		if !ok || s.ppid == 0 {
			return false
		}
		if s.ppid == root {
			return true
		}
		pid = s.ppid
	}
	return false
}

// machineBusy is the CPU time all CPUs spent not idle (the first line of
// /proc/stat: user, nice, system, irq, softirq, steal; guest time is
// inside user).
func (r procReader) machineBusy() (time.Duration, error) {
	b, err := os.ReadFile(filepath.Join(r.root, "stat"))
	if err != nil {
		return 0, err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 9 || f[0] != "cpu" {
		return 0, fmt.Errorf("%s/stat: unexpected first line %q", r.root, line)
	}
	var ticks uint64
	for _, i := range []int{1, 2, 3, 6, 7, 8} { // user nice system (idle iowait) irq softirq steal
		n, err := strconv.ParseUint(f[i], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s/stat: %w", r.root, err)
		}
		ticks += n
	}
	return time.Duration(ticks) * r.tick, nil
}
