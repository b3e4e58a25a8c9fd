package recordlimit

import (
	"fmt"
	"github.com/tollgate-db/tollgate/internal/testclock"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func newClock() *testclock.Clock {
	return testclock.New(time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC))
}

func newLimiter(t *testing.T, opt Options) *Limiter {
	t.Helper()
	l, err := New(opt)
	require.NoError(t, err)
	return l
}

// TestNewRefusesNegativeOptions: a negative option is an error naming it,
// not a default; zero takes the default.
func TestNewRefusesNegativeOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opt   Options
		field string
	}{
		{Options{Window: -time.Second}, "Window"},
		{Options{Burst: -1}, "Burst"},
		{Options{MaxSources: -1}, "MaxSources"},
		{Options{Window: time.Second, Burst: 1, MaxSources: -5}, "MaxSources"},
	} {
		_, err := New(tc.opt)
		require.ErrorContains(t, err, tc.field, "%+v", tc.opt)
	}
	l := newLimiter(t, Options{})
	require.Equal(t, DefaultWindow, l.Window())
	require.Equal(t, DefaultBurst, l.opt.Burst)
	require.Equal(t, DefaultMaxSources, l.opt.MaxSources)
}

func total(sums []Summary) int {
	n := 0
	for _, s := range sums {
		n += s.Suppressed
	}
	return n
}

// TestBurstThenSummary: per source and kind, Burst events are recorded in
// full per window; the rest are counted and summarised once the window
// is over; recorded + suppressed = sent, window after window.
func TestBurstThenSummary(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := newLimiter(t, Options{Window: 10 * time.Second, Burst: 3, Now: c.Now})
	full, suppressed := 0, 0
	send := func(kind, addr string, i int) {
		ok, sums := l.Allow(kind, addr, i)
		suppressed += total(sums)
		if ok {
			full++
		}
	}
	for i := range 100 {
		send("cancel", "192.0.2.1:1000", i)
	}
	require.Equal(t, 3, full)
	require.Empty(t, l.Due(), "the window is not over")
	// Another port of the same host shares the budget; another kind and
	// another host have their own.
	ok, _ := l.Allow("cancel", "192.0.2.1:2000", 100)
	require.False(t, ok)
	ok, _ = l.Allow("rejected", "192.0.2.1:2000", 0)
	require.True(t, ok)
	ok, _ = l.Allow("cancel", "192.0.2.2:1000", 0)
	require.True(t, ok)

	c.Add(10 * time.Second)
	sums := l.Due()
	require.Len(t, sums, 1)
	require.Equal(t, Summary{Kind: "cancel", Source: "192.0.2.1", Suppressed: 98, Last: 100}, sums[0])
	require.Zero(t, l.Tracked(), "ended windows are forgotten")

	// A new window: a fresh budget; a summary arrives with the next event
	// too when no sweep ran.
	for i := range 10 {
		send("cancel", "192.0.2.1:1000", i)
	}
	c.Add(time.Minute)
	send("cancel", "192.0.2.1:1000", 10)
	require.Equal(t, 3+3+1, full)
	require.Equal(t, 7, suppressed)
	require.Empty(t, l.Flush(), "the fresh window has nothing suppressed")
}

// TestMemoryBounded: many sources never grow the table past MaxSources
// (plus one overflow entry per kind); what the overflow counted is
// summarised like the rest, so the totals still add up.
func TestMemoryBounded(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := newLimiter(t, Options{Window: time.Minute, Burst: 2, MaxSources: 50, Now: c.Now})
	const sources, each = 5000, 4
	full, suppressed := 0, 0
	for s := range sources {
		addr := fmt.Sprintf("10.%d.%d.1:5432", s/256, s%256)
		for i := range each {
			ok, sums := l.Allow("rejected", addr, i)
			suppressed += total(sums)
			if ok {
				full++
			}
			require.LessOrEqual(t, l.Tracked(), 51)
		}
	}
	sums := l.Flush()
	suppressed += total(sums)
	require.Equal(t, 50*2, full, "only the tracked sources had a budget")
	require.Equal(t, sources*each, full+suppressed)
	over := 0
	for _, s := range sums {
		if s.Overflow {
			over++
			require.Equal(t, (sources-50)*each, s.Suppressed)
			require.Equal(t, each-1, s.Last)
		}
	}
	require.Equal(t, 1, over)

	// Once the windows are over, the table makes room again.
	c.Add(time.Minute)
	ok, _ := l.Allow("rejected", "203.0.113.9:1", 0)
	require.True(t, ok)
}

func TestSource(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"192.0.2.1:5432":                  "192.0.2.1",
		"[::ffff:192.0.2.1]:5432":         "192.0.2.1",
		"[2001:db8:1:2:aaaa::1]:5432":     "2001:db8:1:2::/64",
		"[2001:db8:1:2:bbbb::9%eth0]:1":   "2001:db8:1:2::/64",
		"[2001:db8:1:3::1]:5432":          "2001:db8:1:3::/64",
		"192.0.2.1":                       "192.0.2.1",
		"/var/run/tollgate/.s.PGSQL.7432": "/var/run/tollgate/.s.PGSQL.7432",
		"":                                "",
	} {
		require.Equal(t, want, Source(in), in)
	}
}

// TestConcurrent: the counts add up under concurrent use (run with -race).
func TestConcurrent(t *testing.T) {
	t.Parallel()
	l := newLimiter(t, Options{Window: time.Hour, Burst: 5})
	var wg sync.WaitGroup
	var mu sync.Mutex
	full, suppressed := 0, 0
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				ok, sums := l.Allow("cancel", fmt.Sprintf("198.51.100.%d:1", (g*500+i)%20), i)
				mu.Lock()
				suppressed += total(sums)
				if ok {
					full++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	suppressed += total(l.Flush())
	require.Equal(t, 20*5, full)
	require.Equal(t, 8*500, full+suppressed)
}
