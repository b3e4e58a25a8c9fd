package node

import (
	"runtime/debug"
	"sync"
)

// catchUpGCPercent is the GC target (as GOGC) while a node replays the
// control stream at start: control rebuilds its projection from every
// event, allocating several times the state it ends with, and with the
// default GOGC=100 the collector marks the growing state (and the embedded
// JetStream server's index) again every time the heap doubles. A higher
// target trades memory during the catch-up for less GC work; the default
// is back once control has caught up. GOMEMLIMIT still applies: near the
// limit the GC runs whatever the target. When the environment sets GOGC,
// the node leaves the GC alone.
const catchUpGCPercent = 400

// catchUpGC holds the GC target raised for catch-ups in progress: nodes
// of one process (tests) may start at once.
var catchUpGC struct {
	sync.Mutex
	n    int // catch-ups in progress
	prev int // the target before the first
}

// raiseGCForCatchUp sets catchUpGCPercent unless lookupEnv finds GOGC set,
// and returns what restores the previous target (once the last catch-up
// in progress is done).
func raiseGCForCatchUp(lookupEnv func(string) (string, bool)) (restore func()) {
	if _, set := lookupEnv("GOGC"); set {
		return func() {}
	}
	catchUpGC.Lock()
	if catchUpGC.n == 0 {
		catchUpGC.prev = debug.SetGCPercent(catchUpGCPercent)
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
				debug.SetGCPercent(catchUpGC.prev)
			}
		})
	}
}
