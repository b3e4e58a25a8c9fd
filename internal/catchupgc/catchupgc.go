package catchupgc

import (
	"bytes"
	"math"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
)

// While control replays the control stream at start, it rebuilds its
// projection from every event, allocating several times the state it ends
// with; with the default GOGC=100 the collector marks the growing state
// (and the embedded JetStream server's index) again every time the heap
// doubles. So during the catch-up the node runs the GC against a memory
// budget instead: the GC is off and the runtime's memory limit is the
// budget (a quarter of the machine's or the cgroup's memory, or GOMEMLIMIT
// when lower), so it collects only as the heap nears it. Where the budget
// would be under catchUpMinBudget (a small container, whose live state
// could come near it and keep the GC running), the GC target is raised to
// catchUpGCPercent instead. The previous settings are back once control
// has caught up. When the environment sets GOGC, the GC is left alone.
const (
	catchUpGCPercent = 400
	catchUpMinBudget = 2 << 30
	catchUpShare     = 4 // the budget is memory / catchUpShare
)

// catchUpGC holds the GC settings changed for catch-ups in progress: nodes
// of one process (tests) may start at once. It is the process's GC state,
// as the runtime's settings are.
var catchUpGC struct {
	sync.Mutex
	n         int   // catch-ups in progress
	prevGC    int   // the target before the first
	prevLimit int64 // the memory limit before the first
}

// Raise changes the GC for a catch-up as described above, unless
// lookupEnv finds GOGC set; memory is the machine's (or cgroup's) memory
// in bytes (Memory), 0 when unknown. It returns what restores the
// previous settings (once the last catch-up in progress is done).
func Raise(lookupEnv func(string) (string, bool), memory uint64) (restore func()) {
	if _, set := lookupEnv("GOGC"); set {
		return func() {}
	}
	catchUpGC.Lock()
	if catchUpGC.n == 0 {
		catchUpGC.prevLimit = debug.SetMemoryLimit(-1)
		if budget := catchUpBudget(memory, catchUpGC.prevLimit); budget >= catchUpMinBudget {
			debug.SetMemoryLimit(budget)
			catchUpGC.prevGC = debug.SetGCPercent(-1)
		} else {
			catchUpGC.prevGC = debug.SetGCPercent(catchUpGCPercent)
		}
	}
	catchUpGC.n++
	catchUpGC.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			catchUpGC.Lock()
			defer catchUpGC.Unlock()
			catchUpGC.n--
			if catchUpGC.n == 0 {
				debug.SetGCPercent(catchUpGC.prevGC)
				debug.SetMemoryLimit(catchUpGC.prevLimit)
			}
		})
	}
}

// catchUpBudget is memory / catchUpShare, or limit (the runtime's memory
// limit: GOMEMLIMIT, math.MaxInt64 when unset) when lower.
func catchUpBudget(memory uint64, limit int64) int64 {
	budget := int64(math.MaxInt64)
	if memory > 0 {
		budget = int64(min(memory/catchUpShare, math.MaxInt64))
	}
	return min(budget, limit)
}

// machineMemory is the memory this process may use: the cgroup's limit
// (v2, then v1) when it sets one, else the machine's; 0 when unknown.
func machineMemory(readFile func(string) ([]byte, error)) uint64 {
	total := uint64(0)
	if b, err := readFile("/proc/meminfo"); err == nil {
		for line := range bytes.Lines(b) {
			if rest, ok := bytes.CutPrefix(line, []byte("MemTotal:")); ok {
				kb, _ := strconv.ParseUint(string(bytes.TrimSuffix(bytes.TrimSpace(rest), []byte(" kB"))), 10, 64)
				total = kb << 10
			}
		}
	}
	for _, path := range []string{"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"} {
		b, err := readFile(path)
		if err != nil {
			continue
		}
		if n, err := strconv.ParseUint(string(bytes.TrimSpace(b)), 10, 64); err == nil && n > 0 && (total == 0 || n < total) {
			return n // "max" (v2) or a huge value (v1) sets no limit
		}
	}
	return total
}

// Memory is the memory this process may use on this machine (see
// machineMemory).
func Memory() uint64 { return machineMemory(os.ReadFile) }
