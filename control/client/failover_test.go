package client_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/node/nodetest"
	"github.com/tollgate-db/tollgate/internal/profile"
	"github.com/tollgate-db/tollgate/schemas"
)

// refusedAddr is an address nobody listens on: a listener opened and
// closed again.
func refusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	return addr
}

// serve runs handle on every connection ln accepts until the test ends;
// accepted counts them.
func serve(t *testing.T, ln net.Listener, handle func(net.Conn)) (addr string, accepted *atomic.Int32) {
	t.Helper()
	accepted = &atomic.Int32{}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			accepted.Add(1)
			go handle(c)
		}
	}()
	return ln.Addr().String(), accepted
}

// closingAddr accepts connections and closes them at once.
func closingAddr(t *testing.T) (string, *atomic.Int32) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	return serve(t, ln, func(c net.Conn) { c.Close() })
}

// readingAddr speaks TLS with a cert of its own CA (caPEM, to trust),
// reads a whole HTTP request, reports its method on got, then closes
// without answering.
func readingAddr(t *testing.T) (addr string, caPEM []byte, got chan string) {
	t.Helper()
	now := time.Now()
	caPEM, key, err := pki.NewCA(schemas.CAHost, "", "other", now, time.Hour)
	require.NoError(t, err)
	iss, err := pki.NewIssuer(caPEM, key)
	require.NoError(t, err)
	certPEM, keyPEM, _, err := iss.Issue(context.Background(), pki.Request{Kind: schemas.CertKindHost, CommonName: "control",
		Hosts: []string{"127.0.0.1"}, Now: now, TTL: time.Hour})
	require.NoError(t, err)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	require.NoError(t, err)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13})
	require.NoError(t, err)
	got = make(chan string, 16)
	addr, _ = serve(t, ln, func(c net.Conn) {
		defer c.Close()
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, req.Body)
		got <- req.Method
	})
	return addr, caPEM, got
}

// adminTLS is the TLS config of the node's admin identity, also trusting
// the extra CAs.
func adminTLS(t *testing.T, n *nodetest.Node, extraCAs ...[]byte) *tls.Config {
	t.Helper()
	p, err := profile.Load(control.AdminDir(n.DataDir))
	require.NoError(t, err)
	tc, err := p.TLSConfig()
	require.NoError(t, err)
	if tc.RootCAs == nil {
		tc.RootCAs = x509.NewCertPool()
	}
	for _, ca := range extraCAs {
		require.True(t, tc.RootCAs.AppendCertsFromPEM(ca))
	}
	return tc
}

func TestFailover(t *testing.T) {
	n := nodetest.Start(t, nil)
	ctx := context.Background()
	refused := refusedAddr(t)
	closing, accepts := closingAddr(t)
	reading, readingCA, got := readingAddr(t)
	tc := adminTLS(t, n, readingCA)

	t.Run("dead addresses are skipped and the live one is remembered", func(t *testing.T) {
		c := client.New(strings.Join([]string{refused, closing, n.Addr}, ","), tc)
		defer c.Close()
		_, err := c.Ping(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 1, accepts.Load())
		tok, err := c.TokensAdd(ctx, wire.TokenAdd{Type: "db", TTL: time.Hour})
		require.NoError(t, err, "a POST never sent to the dead addresses goes on to the live one")
		require.NotEmpty(t, tok.Value)
		_, err = c.Status(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 1, accepts.Load(), "later calls start at the address that answered last")
	})

	t.Run("an HTTP answer is the answer", func(t *testing.T) {
		c := client.New(n.Addr+","+reading, tc)
		defer c.Close()
		_, err := c.UsersGet(ctx, "nobody")
		require.Equal(t, http.StatusNotFound, client.StatusOf(err))
		require.Empty(t, got, "a 404 of a live control is not tried elsewhere")
	})

	t.Run("a POST that may have reached a control is not sent again", func(t *testing.T) {
		before := tokenCount(t, n, tc)
		c := client.New(reading+","+n.Addr, tc)
		defer c.Close()
		_, err := c.TokensAdd(ctx, wire.TokenAdd{Type: "db", TTL: time.Hour})
		require.Error(t, err)
		require.Equal(t, http.MethodPost, <-got)
		require.Contains(t, err.Error(), reading)
		require.Contains(t, err.Error(), "not sent to another control")
		require.Equal(t, before, tokenCount(t, n, tc), "the POST reached no other control")

		_, err = c.TokensList(ctx)
		require.NoError(t, err, "a GET is sent again to the next control")
		require.Equal(t, http.MethodGet, <-got)
	})

	t.Run("when all fail the error names every address", func(t *testing.T) {
		c := client.New(refused+","+closing, tc)
		defer c.Close()
		_, err := c.Ping(ctx)
		var ue *client.UnreachableError
		require.ErrorAs(t, err, &ue)
		require.Equal(t, []string{refused, closing}, ue.Addrs)
		require.Contains(t, err.Error(), refused)
		require.Contains(t, err.Error(), closing)
	})
}

func tokenCount(t *testing.T, n *nodetest.Node, tc *tls.Config) int {
	t.Helper()
	c := client.New(n.Addr, tc)
	defer c.Close()
	toks, err := c.TokensList(context.Background())
	require.NoError(t, err)
	return len(toks)
}

func TestParseProxies(t *testing.T) {
	t.Parallel()
	for in, want := range map[string][]string{
		"a":                       {"a:7080"},
		"a:1, b:2":                {"a:1", "b:2"},
		"[::1]:7080,10.0.0.1":     {"[::1]:7080", "10.0.0.1:7080"},
		"control.example.com:443": {"control.example.com:443"},
	} {
		got, err := client.ParseProxies(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "a,,b", "a:0", "a:x", ":7080", "a:70800"} {
		_, err := client.ParseProxies(bad)
		require.ErrorIs(t, err, client.ErrBadProxy, bad)
	}
	require.Equal(t, "a:7080,b:1", client.NormalizeProxy(" a , b:1 "))
}
