package catchupgc

import (
	"errors"
	"math"
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

func memoryLimit() int64 { return debug.SetMemoryLimit(-1) }

// TestRaise is not parallel: it changes the process's GC
// settings.
func TestRaise(t *testing.T) {
	beforeGC, beforeLimit := gcPercent(), memoryLimit()
	unset := func(string) (string, bool) { return "", false }
	const gib = 1 << 30

	// A machine with room: the GC is off, the budget a quarter of it.
	restore1 := Raise(unset, 24*gib)
	require.Equal(t, -1, gcPercent())
	require.Equal(t, int64(6*gib), memoryLimit())
	restore2 := Raise(unset, 24*gib)
	restore1()
	restore1() // twice is once
	require.Equal(t, -1, gcPercent(), "a catch-up still runs")
	restore2()
	require.Equal(t, beforeGC, gcPercent())
	require.Equal(t, beforeLimit, memoryLimit())

	// A small container: the raised target, the limit untouched.
	restore := Raise(unset, 4*gib)
	require.Equal(t, catchUpGCPercent, gcPercent())
	require.Equal(t, beforeLimit, memoryLimit())
	restore()
	require.Equal(t, beforeGC, gcPercent())

	// GOMEMLIMIT under the budget bounds it.
	debug.SetMemoryLimit(3 * gib)
	restore = Raise(unset, 24*gib)
	require.Equal(t, int64(3*gib), memoryLimit())
	require.Equal(t, -1, gcPercent())
	restore()
	require.Equal(t, int64(3*gib), memoryLimit())
	debug.SetMemoryLimit(beforeLimit)

	set := func(string) (string, bool) { return "100", true }
	restore = Raise(set, 24*gib)
	require.Equal(t, beforeGC, gcPercent(), "GOGC in the environment wins")
	require.Equal(t, beforeLimit, memoryLimit())
	restore()
	require.Equal(t, beforeGC, gcPercent())
}

func TestCatchUpBudget(t *testing.T) {
	for _, tc := range []struct {
		name   string
		memory uint64
		limit  int64
		want   int64
	}{
		{"a quarter", 16 << 30, math.MaxInt64, 4 << 30},
		{"GOMEMLIMIT lower", 16 << 30, 1 << 30, 1 << 30},
		{"memory unknown", 0, math.MaxInt64, math.MaxInt64},
		{"memory unknown, GOMEMLIMIT", 0, 5 << 30, 5 << 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, catchUpBudget(tc.memory, tc.limit))
		})
	}
}

func TestMachineMemory(t *testing.T) {
	meminfo := "MemTotal:       24683584 kB\nMemFree:         1000000 kB\n"
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  uint64
	}{
		{"no cgroup", map[string]string{"/proc/meminfo": meminfo}, 24683584 << 10},
		{"cgroup v2 without a limit", map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory.max": "max\n"}, 24683584 << 10},
		{"cgroup v2 limit", map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory.max": "2147483648\n"}, 2 << 30},
		{"cgroup v1 unlimited", map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory/memory.limit_in_bytes": "9223372036854771712\n"}, 24683584 << 10},
		{"cgroup v1 limit", map[string]string{"/proc/meminfo": meminfo, "/sys/fs/cgroup/memory/memory.limit_in_bytes": "1073741824\n"}, 1 << 30},
		{"nothing readable", map[string]string{}, 0},
		{"cgroup only", map[string]string{"/sys/fs/cgroup/memory.max": "536870912"}, 512 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			read := func(path string) ([]byte, error) {
				if s, ok := tc.files[path]; ok {
					return []byte(s), nil
				}
				return nil, errors.New("no such file")
			}
			require.Equal(t, tc.want, machineMemory(read))
		})
	}
}
