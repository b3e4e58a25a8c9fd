package spool

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func payload(i int) []byte { return []byte(fmt.Sprintf(`{"id":"ev-%06d"}`, i)) }

func readAll(t *testing.T, s *Spool, from uint64) []string {
	t.Helper()
	r := s.NewReader(from)
	defer r.Close()
	var out []string
	for {
		seq, p, err := r.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		require.NoError(t, err)
		require.Equal(t, from+uint64(len(out)), seq)
		out = append(out, string(p))
	}
}

func TestAppendReadAckReopen(t *testing.T) {
	t.Parallel()
	for _, pol := range []SyncPolicy{SyncEveryAppend, SyncInterval, SyncNever} {
		dir := t.TempDir()
		s, err := Open(dir, Options{SegmentBytes: 256, Sync: pol})
		require.NoError(t, err)
		for i := 0; i < 100; i += 4 {
			first, err := s.Append(payload(i), payload(i+1), payload(i+2), payload(i+3))
			require.NoError(t, err)
			require.Equal(t, uint64(i+1), first)
		}
		got := readAll(t, s, 1)
		require.Len(t, got, 100)
		require.Equal(t, string(payload(99)), got[99])
		require.NoError(t, s.Ack(60))
		segsBefore := countSegs(t, dir)
		require.Greater(t, segsBefore, 1)
		require.NoError(t, s.Close())

		s, err = Open(dir, Options{SegmentBytes: 256, Sync: pol})
		require.NoError(t, err)
		require.Equal(t, uint64(60), s.Acked())
		require.Equal(t, uint64(101), s.Next())
		require.Equal(t, uint64(40), s.Pending())
		got = readAll(t, s, 61)
		require.Len(t, got, 40)
		require.Equal(t, string(payload(60)), got[0])
		last, ok := s.Last()
		require.True(t, ok)
		require.Equal(t, string(payload(99)), string(last))
		require.NoError(t, s.Ack(100))
		require.Equal(t, 1, countSegs(t, dir), "acked segments deleted, newest kept")
		require.NoError(t, s.Close())

		s, err = Open(dir, Options{SegmentBytes: 256, Sync: pol})
		require.NoError(t, err)
		last, ok = s.Last()
		require.True(t, ok, "the newest record survives for the chain head")
		require.Equal(t, string(payload(99)), string(last))
		first, err := s.Append(payload(100))
		require.NoError(t, err)
		require.Equal(t, uint64(101), first)
		require.NoError(t, s.Close())
	}
}

func countSegs(t *testing.T, dir string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
	require.NoError(t, err)
	return len(m)
}

func newestSeg(t *testing.T, dir string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+segSuffix))
	require.NoError(t, err)
	require.NotEmpty(t, m)
	return m[len(m)-1]
}

func TestTornTailIsCut(t *testing.T) {
	t.Parallel()
	for name, damage := range map[string]func([]byte) []byte{
		"half header":  func(b []byte) []byte { return append(b, 0, 0) },
		"half payload": func(b []byte) []byte { return AppendRecord(b, []byte("0123456789"))[:len(b)+12] },
		"bad crc": func(b []byte) []byte {
			b = AppendRecord(b, []byte("xyz"))
			b[len(b)-1] ^= 0xff
			return b
		},
		"huge length": func(b []byte) []byte { return append(b, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0) },
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			s, err := Open(dir, Options{})
			require.NoError(t, err)
			for i := range 5 {
				_, err := s.Append(payload(i))
				require.NoError(t, err)
			}
			require.NoError(t, s.Close())
			path := newestSeg(t, dir)
			b, err := os.ReadFile(path)
			require.NoError(t, err)
			good := len(b)
			require.NoError(t, os.WriteFile(path, damage(b), 0o600))

			s, err = Open(dir, Options{})
			require.NoError(t, err)
			require.Equal(t, uint64(6), s.Next())
			info, err := os.Stat(path)
			require.NoError(t, err)
			require.Equal(t, int64(good), info.Size(), "the torn record is cut")
			_, err = s.Append(payload(5))
			require.NoError(t, err)
			got := readAll(t, s, 1)
			require.Len(t, got, 6)
			require.Equal(t, string(payload(5)), got[5])
			require.NoError(t, s.Close())
		})
	}
}

func TestEmptyNewestSegmentAfterCrashedRotation(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(dir, Options{})
	require.NoError(t, err)
	_, err = s.Append(payload(0), payload(1))
	require.NoError(t, err)
	require.NoError(t, s.Close())
	require.NoError(t, os.WriteFile(segment{first: 3}.path(dir), nil, 0o600))
	s, err = Open(dir, Options{})
	require.NoError(t, err)
	last, ok := s.Last()
	require.True(t, ok)
	require.Equal(t, string(payload(1)), string(last))
	require.Equal(t, uint64(3), s.Next())
	require.NoError(t, s.Close())
}

func TestFullSpoolRefusesUntilAcked(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s, err := Open(dir, Options{SegmentBytes: 100, MaxBytes: 300})
	require.NoError(t, err)
	defer s.Close()
	n := 0
	for {
		_, err := s.Append(payload(n))
		if err != nil {
			require.ErrorIs(t, err, ErrFull)
			break
		}
		n++
	}
	require.Greater(t, n, 5)
	require.LessOrEqual(t, s.Used(), int64(300))
	require.Equal(t, n, len(readAll(t, s, 1)), "nothing was lost or half-written")
	require.NoError(t, s.Ack(uint64(n)))
	_, err = s.Append(payload(n))
	require.NoError(t, err, "acked segments free space")
}

func TestTooLargeRecord(t *testing.T) {
	t.Parallel()
	s, err := Open(t.TempDir(), Options{})
	require.NoError(t, err)
	defer s.Close()
	_, err = s.Append(make([]byte, MaxRecord+1))
	require.ErrorIs(t, err, ErrTooLarge)
}

func TestCorruptAckFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, ackName), []byte("garbage garbage garbage"), 0o600))
	_, err := Open(dir, Options{})
	require.ErrorIs(t, err, ErrCorrupt)
}
