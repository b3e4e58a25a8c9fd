package spool

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// failingFile makes path a file every write to which fails as on a full
// disk (a link to /dev/full): a real failing writer.
func failingFile(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Fatalf("this test needs /dev/full: %v", err)
	}
	require.NoError(t, os.Symlink("/dev/full", path))
}

// TestFailedWriteAppendsNothing: when a segment cannot be written (the
// disk is full), Append fails with the cause, appends nothing, and goes on
// on a fresh file once the disk takes writes again; the records before and
// after survive a reopen, in sequence.
func TestFailedWriteAppendsNothing(t *testing.T) {
	t.Parallel()
	for _, pol := range []SyncPolicy{SyncEveryAppend, SyncInterval} {
		dir := t.TempDir()
		s, err := Open(dir, Options{SegmentBytes: 256, Sync: pol})
		require.NoError(t, err)
		n := 0
		for s.Next() == 1 || len(s.segs) == 1 || s.segs[len(s.segs)-1].size < s.opt.SegmentBytes {
			_, err := s.Append(payload(n))
			require.NoError(t, err)
			n++
		}
		// The next Append starts a segment named by its first sequence.
		next := filepath.Join(dir, fmt.Sprintf("%020d%s", s.Next(), segSuffix))
		failingFile(t, next)
		for range 3 {
			_, err = s.Append(payload(n))
			require.ErrorIs(t, err, syscall.ENOSPC)
			require.Equal(t, uint64(n+1), s.Next(), "nothing appended")
			require.Equal(t, uint64(n), s.Pending())
		}
		require.NoError(t, os.Remove(next)) // the disk takes writes again
		first, err := s.Append(payload(n), payload(n+1))
		require.NoError(t, err)
		require.Equal(t, uint64(n+1), first)
		require.NoError(t, s.Close())

		s, err = Open(dir, Options{SegmentBytes: 256, Sync: pol})
		require.NoError(t, err)
		got := readAll(t, s, 1)
		require.Len(t, got, n+2)
		for i, p := range got {
			require.Equal(t, string(payload(i)), p)
		}
		require.NoError(t, s.Close())
	}
}

// TestProbe: Probe fails while the spool's disk fails writes.
func TestProbe(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Probe())
	failingFile(t, filepath.Join(dir, probeName))
	require.ErrorIs(t, s.Probe(), syscall.ENOSPC)
	require.NoError(t, s.Probe(), "the probe removes its file: a working disk passes again")
	_, err = os.Lstat(filepath.Join(dir, probeName))
	require.ErrorIs(t, err, os.ErrNotExist)
}

// TestSegmentsSizedToTheBound: a small bound gets small segments, so that
// freeing acknowledged records (a whole segment at a time, never the
// newest) makes room again; an explicit segment size over half the bound
// is cut to it.
func TestSegmentsSizedToTheBound(t *testing.T) {
	t.Parallel()
	require.Equal(t, int64(16<<20), SegmentBytesFor(DefaultMaxBytes))
	require.Equal(t, int64(1<<20), SegmentBytesFor(8<<20))
	require.Equal(t, int64(64<<10), SegmentBytesFor(256<<10))
	const bound = 8 << 10
	s, err := Open(t.TempDir(), Options{SegmentBytes: 1 << 20, MaxBytes: bound})
	require.NoError(t, err)
	defer s.Close()
	require.Equal(t, int64(bound/2), s.opt.SegmentBytes)
	// Fill, store everything, and fill again: the bound is reusable.
	for round := range 3 {
		n := 0
		for {
			if _, err := s.Append(payload(n)); err != nil {
				require.ErrorIs(t, err, ErrFull)
				break
			}
			n++
		}
		require.Greater(t, n, 100, "round %d", round)
		require.NoError(t, s.Ack(s.Next()-1))
		_, err = s.Append(payload(n))
		require.NoError(t, err, "room again once stored (round %d)", round)
	}
}
