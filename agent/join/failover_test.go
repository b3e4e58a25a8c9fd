package join_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/join"
	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/node/nodetest"
)

// TestRemoteFailsOver joins and renews through a control list whose first
// address is dead: every call goes on to the live control.
func TestRemoteFailsOver(t *testing.T) {
	n := nodetest.Start(t, nil)
	ctx := context.Background()
	admin := n.Admin(t)
	st, err := admin.Status(ctx)
	require.NoError(t, err)
	tok, err := admin.TokensAdd(ctx, wire.TokenAdd{Type: "db", TTL: time.Hour})
	require.NoError(t, err)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := ln.Addr().String()
	require.NoError(t, ln.Close())
	proxies := dead + "," + n.Addr

	contact, err := client.FirstContact(ctx, proxies, st.CAPin, false)
	require.NoError(t, err)
	remote := join.NewRemote(proxies, contact.HostCAPEM)
	dir := t.TempDir()
	id, err := join.Ensure(ctx, dir, remote, join.Request{Token: tok.Value, Hostname: "agent-1", Proxy: proxies})
	require.NoError(t, err)
	require.Equal(t, proxies, id.Proxy)

	live, err := join.NewLive(dir, id)
	require.NoError(t, err)
	remote.SetLive(live)
	before := live.Certificate().Certificate[0]
	_, err = live.Renew(ctx, remote)
	require.NoError(t, err, "renewal fails over to the live control")
	require.NotEqual(t, before, live.Certificate().Certificate[0], "a new host cert")
}
