package cancel

import (
	"bufio"
	"bytes"
	"context"
	"math"
	"net"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/tollgate-db/tollgate/internal/pgwire"
)

// pipeDial returns a DialFunc whose server end reports each startup
// packet it reads on got.
func pipeDial(got chan<- *pgwire.Startup) DialFunc {
	return func(ctx context.Context) (net.Conn, error) {
		a, b := net.Pipe()
		go func() {
			s, err := pgwire.ReadStartup(bufio.NewReader(b))
			if err == nil {
				got <- s
			}
			b.Close()
		}()
		return a, nil
	}
}

func newRegistry(t *testing.T, opt Options) *Registry {
	t.Helper()
	r, err := New(opt)
	require.NoError(t, err)
	return r
}

// TestNewRefusesBadOptions: a negative (or NaN) option is an error naming
// it, not a default; zero takes the default.
func TestNewRefusesBadOptions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opt   Options
		field string
	}{
		{Options{Rate: -1}, "Rate"},
		{Options{Rate: rate.Limit(math.NaN())}, "Rate"},
		{Options{Burst: -1}, "Burst"},
		{Options{MaxSources: -1}, "MaxSources"},
		{Options{Rate: 2, Burst: 3, MaxSources: -10}, "MaxSources"},
	} {
		_, err := New(tc.opt)
		require.ErrorContains(t, err, tc.field, "%+v", tc.opt)
	}
	r := newRegistry(t, Options{})
	require.Equal(t, Options{Rate: 1, Burst: 5, MaxSources: 10000}, r.opt)
	r = newRegistry(t, Options{Rate: rate.Inf})
	require.Equal(t, rate.Inf, r.opt.Rate, "no limit is a rate")
}

func TestCancelForwardsMatchedKey(t *testing.T) {
	t.Parallel()
	got := make(chan *pgwire.Startup, 1)
	r := newRegistry(t, Options{Burst: 3})
	server := Key{ProcessID: 42, Secret: []byte{0, 0, 16, 146}}
	k, err := r.Register(Upstream{SessionID: "s1", Key: server, Dial: pipeDial(got)})
	require.NoError(t, err)
	require.Equal(t, uint32(42), k.ProcessID, "the client sees the server's pid")
	require.Len(t, k.Secret, 4, "a 3.0 key stays 4 bytes")
	require.NotEqual(t, server.Secret, k.Secret, "the secret is the agent's")
	from := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000}

	ev, err := r.Cancel(context.Background(), k, from)
	require.NoError(t, err)
	require.True(t, ev.Matched && ev.Forwarded)
	require.Equal(t, "s1", ev.SessionID)
	s := <-got
	require.Equal(t, pgwire.KindCancelRequest, s.Kind)
	require.Equal(t, uint32(42), s.ProcessID)
	require.Equal(t, server.Secret, s.SecretKey, "the server's own key is forwarded")

	// Matching cancels spend no budget: a pool's worth at once all go
	// through (burst is 3).
	for range 5 {
		_, err = r.Cancel(context.Background(), k, from)
		require.NoError(t, err)
		<-got
	}

	// The server's own secret does not cancel through the agent; misses
	// spend the budget, and past it every cancel from the source is
	// refused, a matching one too (no hint that a guess hit).
	ev, err = r.Cancel(context.Background(), server, from)
	require.ErrorIs(t, err, ErrNoMatch)
	require.False(t, ev.Matched)
	require.Equal(t, "127.0.0.1:5000", ev.ClientAddr)
	for range 2 {
		_, err = r.Cancel(context.Background(), Key{ProcessID: 42, Secret: []byte("nope")}, from)
		require.ErrorIs(t, err, ErrNoMatch)
	}
	ev, err = r.Cancel(context.Background(), k, from)
	require.ErrorIs(t, err, ErrRateLimited, "burst of 3 misses used")
	require.False(t, ev.Matched)

	r.Unregister(k)
	_, err = r.Cancel(context.Background(), k, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)})
	require.ErrorIs(t, err, ErrNoMatch)

	// One IPv6 /64 is one source: another address in it does not get a
	// fresh budget for guessing secrets.
	v6 := func(host string) net.Addr { return &net.TCPAddr{IP: net.ParseIP(host), Port: 6000} }
	for range 3 {
		_, err = r.Cancel(context.Background(), k, v6("2001:db8:1:2::1"))
		require.ErrorIs(t, err, ErrNoMatch)
	}
	_, err = r.Cancel(context.Background(), k, v6("2001:db8:1:2:ffff::9"))
	require.ErrorIs(t, err, ErrRateLimited, "same /64")
	_, err = r.Cancel(context.Background(), k, v6("2001:db8:1:3::1"))
	require.ErrorIs(t, err, ErrNoMatch, "another /64")
}

// TestCancelSamePID: two databases may each have a backend with the same
// pid; (pid, secret) tells the sessions apart, and ending one leaves the
// other cancellable.
func TestCancelSamePID(t *testing.T) {
	t.Parallel()
	gotA, gotB := make(chan *pgwire.Startup, 1), make(chan *pgwire.Startup, 1)
	r := newRegistry(t, Options{Burst: 10})
	ka, err := r.Register(Upstream{SessionID: "a", Key: Key{ProcessID: 7, Secret: []byte("aaaa")}, Dial: pipeDial(gotA)})
	require.NoError(t, err)
	kb, err := r.Register(Upstream{SessionID: "b", Key: Key{ProcessID: 7, Secret: []byte("bbbb")}, Dial: pipeDial(gotB)})
	require.NoError(t, err)
	require.Equal(t, ka.ProcessID, kb.ProcessID)
	from := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000}

	ev, err := r.Cancel(context.Background(), kb, from)
	require.NoError(t, err)
	require.Equal(t, "b", ev.SessionID)
	require.Equal(t, []byte("bbbb"), (<-gotB).SecretKey)
	r.Unregister(ka)
	ev, err = r.Cancel(context.Background(), kb, from)
	require.NoError(t, err)
	require.Equal(t, "b", ev.SessionID)
	<-gotB
	_, err = r.Cancel(context.Background(), ka, from)
	require.ErrorIs(t, err, ErrNoMatch)
}

// TestCancelLongKeys: protocol 3.2's longer keys (PostgreSQL 18 sends 32
// bytes; up to 256) get an agent secret of the same length, and the
// server's whole key is forwarded.
func TestCancelLongKeys(t *testing.T) {
	t.Parallel()
	r := newRegistry(t, Options{Burst: 10})
	from := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000}
	for _, n := range []int{32, pgwire.MaxCancelKey} {
		got := make(chan *pgwire.Startup, 1)
		server := Key{ProcessID: uint32(n), Secret: bytes.Repeat([]byte{byte(n)}, n)}
		k, err := r.Register(Upstream{SessionID: "s", Key: server, Dial: pipeDial(got)})
		require.NoError(t, err)
		require.Len(t, k.Secret, n)
		require.Equal(t, server.ProcessID, k.ProcessID)
		_, err = r.Cancel(context.Background(), k, from)
		require.NoError(t, err)
		s := <-got
		require.Equal(t, server.Secret, s.SecretKey)
		require.Len(t, s.Raw, 12+n)
		// A prefix of the key is not the key.
		_, err = r.Cancel(context.Background(), Key{ProcessID: k.ProcessID, Secret: k.Secret[:4]}, from)
		require.ErrorIs(t, err, ErrNoMatch)
	}
	require.Equal(t, 4, SecretLen(1))
	require.Equal(t, 4, SecretLen(4))
	require.Equal(t, 32, SecretLen(32))
}
