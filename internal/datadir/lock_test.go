package datadir

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestAcquireExcludesAndReleases: a second Acquire on a held dir (flock is
// per open file, so this holds within one process too) fails with the
// holder's PID; after Release the dir can be locked again, and the file
// holds the PID of the holder, mode 0600.
func TestAcquireExcludesAndReleases(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	l, err := Acquire(dir)
	require.NoError(t, err)
	st, err := os.Stat(filepath.Join(dir, FileName))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	_, err = Acquire(dir)
	var inUse *InUseError
	require.True(t, errors.As(err, &inUse), "%v", err)
	require.Equal(t, os.Getpid(), inUse.PID)
	require.EqualError(t, err, "data dir "+dir+" is in use by PID "+strconv.Itoa(os.Getpid())+
		": stop that tollgate first, or give this one another --data-dir")

	require.NoError(t, l.Release())
	l2, err := Acquire(dir)
	require.NoError(t, err)
	require.NoError(t, l2.Release())
	require.NoError(t, l2.Release(), "Release is idempotent")
}

func TestAcquireMissingDir(t *testing.T) {
	t.Parallel()
	_, err := Acquire(filepath.Join(t.TempDir(), "nope"))
	require.ErrorContains(t, err, "lock data dir")
	require.ErrorIs(t, err, os.ErrNotExist)
}
