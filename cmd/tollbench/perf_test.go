package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestReadSyscalls(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(s), 0o600))
		return p
	}
	n, err := readSyscalls(write("ok.csv", "# started on Mon Dec  1 11:19:00 2026\n\n145123,,raw_syscalls:sys_enter,1595779,100.00,,\n"))
	require.NoError(t, err)
	require.Equal(t, uint64(145123), n)
	_, err = readSyscalls(write("not-counted.csv", "<not counted>,,raw_syscalls:sys_enter,0,100.00,,\n"))
	require.ErrorContains(t, err, "not counted")
	_, err = readSyscalls(write("empty.csv", ""))
	require.ErrorContains(t, err, "no raw_syscalls:sys_enter count")
}
