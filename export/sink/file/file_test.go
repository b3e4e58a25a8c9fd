package file

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/export"
)

func items(from, n int, size int) []export.Item {
	out := make([]export.Item, n)
	for i := range out {
		out[i].Doc = []byte(fmt.Sprintf(`{"id":"%06d","pad":"%s"}`, from+i, strings.Repeat("x", size)))
	}
	return out
}

func readLines(t *testing.T, paths ...string) []string {
	var out []string
	for _, p := range paths {
		f, err := os.Open(p)
		if os.IsNotExist(err) {
			continue
		}
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			out = append(out, sc.Text())
		}
		require.NoError(t, sc.Err())
		_ = f.Close()
	}
	return out
}

func TestWriteAndRotate(t *testing.T) {
	t.Parallel()
	for _, fsync := range []string{FsyncAlways, FsyncBatch, FsyncNever} {
		t.Run(fsync, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			s, err := New(Config{Path: path, MaxBytes: 4000, MaxBackups: 100, Fsync: fsync})
			require.NoError(t, err)
			for b := 0; b < 10; b++ {
				require.NoError(t, s.Write(context.Background(), items(b*10, 10, 50)))
			}
			require.NoError(t, s.Close())
			var paths []string
			for i := 100; i >= 1; i-- {
				paths = append(paths, fmt.Sprintf("%s.%d", path, i))
			}
			paths = append(paths, path)
			lines := readLines(t, paths...)
			require.Len(t, lines, 100)
			for i, l := range lines {
				require.Contains(t, l, fmt.Sprintf(`"id":"%06d"`, i))
			}
			st, err := os.Stat(path + ".1")
			require.NoError(t, err)
			require.LessOrEqual(t, st.Size(), int64(4000))
			require.Equal(t, os.FileMode(0o600), st.Mode().Perm())
		})
	}
}

func TestBackupsBounded(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a.jsonl")
	s, err := New(Config{Path: path, MaxBytes: 500, MaxBackups: 2})
	require.NoError(t, err)
	require.NoError(t, s.Write(context.Background(), items(0, 50, 50)))
	require.NoError(t, s.Close())
	_, err = os.Stat(path + ".3")
	require.True(t, os.IsNotExist(err))
	_, err = os.Stat(path + ".2")
	require.NoError(t, err)
}

func TestHugeEvent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "a.jsonl")
	s, err := New(Config{Path: path, MaxBytes: 64 << 10, MaxBackups: 3})
	require.NoError(t, err)
	require.NoError(t, s.Write(context.Background(), items(0, 1, 1<<20)))
	require.NoError(t, s.Write(context.Background(), items(1, 1, 10)))
	require.NoError(t, s.Close())
	lines := readLines(t, path+".1", path)
	require.Len(t, lines, 2)
	require.Greater(t, len(lines[0]), 1<<20)
}
