package main

import (
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/internal/node/nodetest"
)

// TestProxyListFailsOver: --proxy may list several controls; a dead one
// first is skipped, and a malformed list is refused before any call.
func TestProxyListFailsOver(t *testing.T) {
	n := nodetest.Start(t, nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := ln.Addr().String()
	require.NoError(t, ln.Close())
	admin := cli{t: t, n: n, args: []string{"--data-dir", n.DataDir}}

	require.Contains(t, admin.ok("--proxy="+dead+","+n.Addr, "status"), "test-cluster")
	require.Contains(t, admin.fail("--proxy="+dead, "status"), dead)
	require.Contains(t, admin.fail("--proxy="+n.Addr+",host:port", "status"), `"host:port"`)
}
