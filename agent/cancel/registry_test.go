package cancel

import (
	"bufio"
	"context"
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/pgwire"
)

func TestCancelForwardsMatchedKey(t *testing.T) {
	t.Parallel()
	got := make(chan *pgwire.Startup, 1)
	dial := func(ctx context.Context) (net.Conn, error) {
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
	r := New(Options{Burst: 3})
	k, err := r.Register(Upstream{SessionID: "s1", Key: Key{ProcessID: 42, SecretKey: 4242}, Dial: dial})
	require.NoError(t, err)
	from := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000}

	ev, err := r.Cancel(context.Background(), k, from)
	require.NoError(t, err)
	require.True(t, ev.Matched && ev.Forwarded)
	require.Equal(t, "s1", ev.SessionID)
	s := <-got
	require.Equal(t, pgwire.KindCancelRequest, s.Kind)
	require.Equal(t, uint32(42), s.ProcessID)
	require.Equal(t, uint32(4242), s.SecretKey)

	ev, err = r.Cancel(context.Background(), Key{ProcessID: k.ProcessID, SecretKey: k.SecretKey + 1}, from)
	require.ErrorIs(t, err, ErrNoMatch)
	require.False(t, ev.Matched)
	require.Equal(t, "127.0.0.1:5000", ev.ClientAddr)

	_, err = r.Cancel(context.Background(), k, from)
	require.NoError(t, err)
	_, err = r.Cancel(context.Background(), k, from)
	require.ErrorIs(t, err, ErrRateLimited, "burst of 3 used")
	<-got

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
