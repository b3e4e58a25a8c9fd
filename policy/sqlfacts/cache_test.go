//go:build cgo

package sqlfacts

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCacheHitIsTheSameFacts(t *testing.T) {
	t.Parallel()
	c := NewCache(10, 1<<20)
	first := c.Facts("DELETE FROM payments")
	require.Equal(t, Parse("DELETE FROM payments"), *first)
	require.Same(t, first, c.Facts("DELETE FROM payments"))
	require.Equal(t, 1, c.Len())
	require.Equal(t, Parse("SELECT FROMM x"), *c.Facts("SELECT FROMM x"), "errors are cached too")
	require.Equal(t, 2, c.Len())
}

func TestCacheHitDoesNotAllocate(t *testing.T) {
	c := NewCache(10, 1<<20)
	c.Facts(benchSQL)
	require.Zero(t, testing.AllocsPerRun(100, func() { c.Facts(benchSQL) }))
}

func TestCacheEvictsLeastRecentlyUsed(t *testing.T) {
	t.Parallel()
	c := NewCache(2, 1<<20)
	a := c.Facts("SELECT a")
	c.Facts("SELECT b")
	require.Same(t, a, c.Facts("SELECT a")) // a is now the most recent
	c.Facts("SELECT c")                     // evicts b
	require.Equal(t, 2, c.Len())
	require.Same(t, a, c.Facts("SELECT a"))
	require.Equal(t, 2, c.Len())
	c.mu.Lock()
	_, hasB := c.entries["SELECT b"]
	_, hasC := c.entries["SELECT c"]
	c.mu.Unlock()
	require.False(t, hasB)
	require.True(t, hasC)
}

// TestCacheKeysNumbersByShape: texts that differ only in numeric constants
// share one entry, found without a parse and without an allocation; digits
// the scanner does not read as a number (identifiers, strings, quoted
// names, parameters, comments) keep texts apart, and a number the lexer
// and the scanner read differently is cached by its text only.
func TestCacheKeysNumbersByShape(t *testing.T) {
	c := NewCache(100, 1<<20)
	a := c.Facts("SELECT abalance FROM pgbench_accounts WHERE aid = 4711")
	require.Same(t, a, c.Facts("SELECT abalance FROM pgbench_accounts WHERE aid = 12"))
	f := c.Facts("SELECT abalance FROM pgbench_accounts WHERE aid = 3.25e-2")
	require.NotSame(t, a, f, "an integer and a float constant are apart: the grammar tells them apart")
	require.Same(t, f, c.Facts("SELECT abalance FROM pgbench_accounts WHERE aid = 7000000000"))
	require.Equal(t, 2, c.Len())
	require.Zero(t, testing.AllocsPerRun(100, func() { c.Facts("SELECT abalance FROM pgbench_accounts WHERE aid = 99") }))
	for _, pair := range [][2]string{
		{`DELETE FROM "t1" WHERE id = 1`, `DELETE FROM "t2" WHERE id = 1`},
		{"DELETE FROM t1 WHERE id = 1", "DELETE FROM t2 WHERE id = 1"},
		{"SELECT set_config('role1', 'x', false) WHERE 1 = 1", "SELECT set_config('role', 'x', false) WHERE 1 = 1"},
		{"SELECT $1 WHERE 2 = 2", "SELECT $2 WHERE 2 = 2"},
		{"SELECT 1 /* 1 */", "SELECT 1 /* 2 */"},
		{"SELECT $a1$ 1 $a1$, 5", "SELECT $a1$ 2 $a1$, 5"},
		{"SELECT E'\\' || 1", "SELECT E'\\' || 2"},
	} {
		f0, f1 := c.Facts(pair[0]), c.Facts(pair[1])
		require.NotSame(t, f0, f1, "%q and %q", pair[0], pair[1])
		require.Equal(t, Parse(pair[1]), *f1)
	}
	// 0x1F is one constant to the scanner, two tokens to the lexer.
	hex := NewCache(10, 1<<20)
	hex.Facts("SELECT 0x1F")
	require.Len(t, hex.shapes, 0)
	require.Len(t, hex.entries, 1)
}

func TestCacheBoundedInBytes(t *testing.T) {
	t.Parallel()
	text := func(i int) string { return fmt.Sprintf("SELECT '%s' FROM t%d", strings.Repeat("x", 1000), i) }
	c := NewCache(1000, 10_000)
	for i := range 100 {
		c.Facts(text(i))
	}
	require.LessOrEqual(t, c.Len(), 9)
	require.Positive(t, c.Len())
	c.mu.Lock()
	require.LessOrEqual(t, c.bytes, int64(10_000))
	var sum int64
	for _, e := range c.entries {
		sum += e.size
	}
	require.Equal(t, sum, c.bytes)
	c.mu.Unlock()

	// An entry larger than the whole bound is parsed, not kept.
	small := NewCache(10, 100)
	require.Equal(t, Parse(text(1)), *small.Facts(text(1)))
	require.Zero(t, small.Len())
}

func TestCacheSkipsLongTexts(t *testing.T) {
	t.Parallel()
	c := NewCache(10, 1<<30)
	long := "SELECT '" + strings.Repeat("x", MaxCachedText) + "' FROM payments"
	f := c.Facts(long)
	require.Equal(t, Parse(long), *f)
	require.Zero(t, c.Len())
	atLimit := "SELECT '" + strings.Repeat("x", MaxCachedText-len("SELECT ''")) + "'"
	require.Len(t, atLimit, MaxCachedText)
	c.Facts(atLimit)
	require.Equal(t, 1, c.Len())
}

func TestCacheWithNoRoomParsesEveryTime(t *testing.T) {
	t.Parallel()
	for _, c := range []*Cache{NewCache(0, 1<<20), NewCache(10, 0)} {
		require.Equal(t, Parse("SELECT 1"), *c.Facts("SELECT 1"))
		require.Zero(t, c.Len())
	}
}

// TestCacheConcurrentUse: sessions share a cache; run with -race.
func TestCacheConcurrentUse(t *testing.T) {
	t.Parallel()
	c := NewCache(16, 1<<20)
	texts := make([]string, 40)
	want := make([]string, len(texts))
	for i := range texts {
		texts[i] = fmt.Sprintf("DELETE FROM t%d WHERE id = %d", i%25, i)
		want[i] = Parse(texts[i]).Statements[0].Ops[0].Tables[0].Name
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 300 {
				k := (i*7 + g) % len(texts)
				f := c.Facts(texts[k])
				if got := f.Statements[0].Ops[0].Tables[0].Name; got != want[k] {
					t.Errorf("%q: table %s, want %s", texts[k], got, want[k])
					return
				}
				if l := c.Len(); l > 16 {
					t.Errorf("cache holds %d entries, bound 16", l)
					return
				}
			}
		})
	}
	wg.Wait()
}

// TestCacheKeepsNoCallerMemory: the key is the cache's own copy, not a
// substring of the caller's buffer.
func TestCacheKeepsNoCallerMemory(t *testing.T) {
	t.Parallel()
	buf := "SELECT 1; " + strings.Repeat(" ", 1<<16)
	c := NewCache(10, 1<<20)
	c.Facts(buf[:8])
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.entries {
		require.NotSame(t, unsafeData(buf), unsafeData(k))
	}
}
