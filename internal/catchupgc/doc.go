// Package catchupgc sets the Go GC for a control catching up with the
// control stream at start (Raise): off against a memory budget where the
// machine has room, a raised target where it has not. The daemon and the
// rebuild benchmark use it, so the benchmark measures what a start does.
package catchupgc
