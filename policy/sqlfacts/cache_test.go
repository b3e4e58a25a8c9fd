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
	a := c.Facts("SELECT 1")
	c.Facts("SELECT 2")
	require.Same(t, a, c.Facts("SELECT 1")) // 1 is now the most recent
	c.Facts("SELECT 3")                     // evicts 2
	require.Equal(t, 2, c.Len())
	require.Same(t, a, c.Facts("SELECT 1"))
	require.Equal(t, 2, c.Len())
	c.mu.Lock()
	_, has2 := c.entries["SELECT 2"]
	_, has3 := c.entries["SELECT 3"]
	c.mu.Unlock()
	require.False(t, has2)
	require.True(t, has3)
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
