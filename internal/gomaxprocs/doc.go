// Package gomaxprocs runs a daemon on one P while it is lightly loaded and
// on the runtime's default while it is busy (Govern).
//
// Measured (BENCHMARKS.md, issue 11): an agent or control relaying at a
// few thousand queries a second spends 6–23% less CPU per query with
// one P than with the default, because with idle Ps every wakeup
// also wakes a thread to look for work (spinning Ms, futex wakes, idle
// vCPUs woken); with one P that does not happen. One P caps the process's
// Go code at one core, so the governor raises GOMAXPROCS back to the
// default as soon as the process uses most of a core, and lowers it again
// only after a long quiet spell.
package gomaxprocs
