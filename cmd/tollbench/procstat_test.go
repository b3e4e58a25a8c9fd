package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseStat(t *testing.T) {
	t.Parallel()
	// The command name may hold spaces and parentheses.
	line := "4242 (tollgate (x) y) S 17 4242 4242 0 -1 4194560 1 0 0 0 250 75 12 3 20 0 9 0 100 0 0\n"
	s, err := parseStat([]byte(line))
	require.NoError(t, err)
	require.Equal(t, statLine{ppid: 17, utime: 250, stime: 75, cutime: 12, cstime: 3}, s)
	for _, bad := range []string{"", "4242 (x S 1 2", "1 (x) S 1 2 3", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 a 1 1 1"} {
		_, err := parseStat([]byte(bad))
		require.ErrorIs(t, err, errStat, "%q", bad)
	}
}

func TestParseSwitches(t *testing.T) {
	t.Parallel()
	vol, invol := parseSwitches([]byte("Name:\tpostgres\nThreads:\t1\nvoluntary_ctxt_switches:\t1234\nnonvoluntary_ctxt_switches:\t56\n"))
	require.Equal(t, uint64(1234), vol)
	require.Equal(t, uint64(56), invol)
}

// fakeProc writes a /proc with the given stat lines (by pid), one task
// per process with switches, and a /proc/stat.
func fakeProc(t *testing.T, procs map[int]string, cpuLine string) procReader {
	root := t.TempDir()
	for pid, stat := range procs {
		dir := filepath.Join(root, fmt.Sprint(pid))
		task := filepath.Join(dir, "task", fmt.Sprint(pid))
		require.NoError(t, os.MkdirAll(task, 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "stat"), []byte(stat), 0o600))
		require.NoError(t, os.WriteFile(filepath.Join(task, "status"), []byte("voluntary_ctxt_switches:\t7\nnonvoluntary_ctxt_switches:\t2\n"), 0o600))
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "stat"), []byte(cpuLine+"\ncpu0 1 2 3\n"), 0o600))
	return procReader{root: root, tick: 10 * time.Millisecond}
}

func stat(pid, ppid int, u, s, cu, cs uint64) string {
	return fmt.Sprintf("%d (p %d) S %d 1 1 0 -1 0 0 0 0 0 %d %d %d %d 20 0 1 0 1 0 0\n", pid, pid, ppid, u, s, cu, cs)
}

func TestTreeCountsDescendantsAndReapedChildren(t *testing.T) {
	t.Parallel()
	r := fakeProc(t, map[int]string{
		10: stat(10, 1, 1, 2, 30, 40), // the postmaster; 70 ticks of reaped backends
		11: stat(11, 10, 100, 50, 0, 0),
		12: stat(12, 11, 5, 5, 1, 1),    // a grandchild
		13: stat(13, 1, 999, 999, 0, 0), // not in the tree
	}, "cpu 1 2 3 4 5 6 7 8 9 10")
	got, err := r.tree(10)
	require.NoError(t, err)
	require.Equal(t, time.Duration(1+2+30+40+100+50+5+5+1+1)*10*time.Millisecond, got.cpu)
	require.False(t, got.switches)
}

func TestProcessSumsThreads(t *testing.T) {
	t.Parallel()
	r := fakeProc(t, map[int]string{20: stat(20, 1, 3, 4, 50, 50)}, "cpu 1 2 3 4 5 6 7 8 9 10")
	task := filepath.Join(r.root, "20", "task", "21")
	require.NoError(t, os.MkdirAll(task, 0o700))
	require.NoError(t, os.WriteFile(filepath.Join(task, "status"), []byte("voluntary_ctxt_switches:\t100\nnonvoluntary_ctxt_switches:\t10\n"), 0o600))
	got, err := r.process(20)
	require.NoError(t, err)
	// Its own time only: a daemon's reaped children are not its work.
	require.Equal(t, procTimes{cpu: 70 * time.Millisecond, vol: 107, invol: 12, switches: true}, got)
}

func TestMachineBusy(t *testing.T) {
	t.Parallel()
	// user nice system idle iowait irq softirq steal guest guest_nice
	r := fakeProc(t, nil, "cpu  100 2 30 9000 70 4 5 6 50 0")
	got, err := r.machineBusy()
	require.NoError(t, err)
	require.Equal(t, time.Duration(100+2+30+4+5+6)*10*time.Millisecond, got)
}

// spinSink keeps the spin loop from being optimized away.
var spinSink int

// TestRealProc reads this process: the parser agrees with the kernel's
// format, and spinning shows up as CPU time (polled: ticks are coarse and
// the machine may be busy).
func TestRealProc(t *testing.T) {
	r := newProcReader(t.Context())
	before, err := r.process(os.Getpid())
	require.NoError(t, err)
	require.True(t, before.switches)
	after := before
	for deadline := time.Now().Add(30 * time.Second); after.cpu <= before.cpu && time.Now().Before(deadline); {
		for n := 0; n < 1e6; n++ {
			spinSink += n
		}
		after, err = r.process(os.Getpid())
		require.NoError(t, err)
	}
	require.Greater(t, after.cpu, before.cpu)
}
