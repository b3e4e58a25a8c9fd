package devprof

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStartWritesCPUAndAllocationProfiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "prof")
	stop, err := Start(dir)
	require.NoError(t, err)
	sink := make([][]byte, 0, 1000)
	for i := 0; i < 1000; i++ {
		sink = append(sink, make([]byte, 1024))
	}
	require.Len(t, sink, 1000)
	require.NoError(t, stop())
	for _, kind := range []string{"cpu", "allocs"} {
		path := filepath.Join(dir, "tollgate-"+strconv.Itoa(os.Getpid())+"."+kind+".pprof")
		raw, err := os.ReadFile(path)
		require.NoError(t, err, kind)
		// A profile is a gzipped protocol buffer.
		require.Greater(t, len(raw), 2, kind)
		require.Equal(t, []byte{0x1f, 0x8b}, raw[:2], "%s profile is gzip", kind)
	}
}

func TestStartFailsOnAnUnusableDir(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err := Start(filepath.Join(file, "sub"))
	require.ErrorContains(t, err, "profile dir")
}
