package node

import (
	"runtime/debug"
	"testing"

	"github.com/stretchr/testify/require"
)

func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}

// TestRaiseGCForCatchUp is not parallel: it changes the process's GC
// target.
func TestRaiseGCForCatchUp(t *testing.T) {
	before := gcPercent()
	unset := func(string) (string, bool) { return "", false }

	restore1 := raiseGCForCatchUp(unset)
	require.Equal(t, catchUpGCPercent, gcPercent())
	restore2 := raiseGCForCatchUp(unset)
	restore1()
	restore1() // twice is once
	require.Equal(t, catchUpGCPercent, gcPercent(), "a catch-up still runs")
	restore2()
	require.Equal(t, before, gcPercent())

	set := func(string) (string, bool) { return "100", true }
	restore := raiseGCForCatchUp(set)
	require.Equal(t, before, gcPercent(), "GOGC in the environment wins")
	restore()
	require.Equal(t, before, gcPercent())
}
