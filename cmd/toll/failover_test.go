package main

import (
	"context"
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/internal/node/nodetest"
	"github.com/tollgate-db/tollgate/internal/profile"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestLoginFailsOver logs in with a dead control address before the live
// one: login, the saved identity and later commands reach the live one.
func TestLoginFailsOver(t *testing.T) {
	n := nodetest.Start(t, nil)
	home := t.TempDir()
	t.Setenv(profile.EnvHome, home)
	ctx := context.Background()
	admin := n.Admin(t)
	st, err := admin.Status(ctx)
	require.NoError(t, err)
	inv, err := admin.UsersAdd(ctx, schemas.User{Name: "alice", Roles: []string{"access"}})
	require.NoError(t, err)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	dead := ln.Addr().String()
	require.NoError(t, ln.Close())
	proxies := dead + "," + n.Addr

	_, errs, code := toll(t, "correct horse battery\n", "signup", "--proxy="+proxies, "--invite="+inv.Invite,
		"--password-stdin", "--ca-pin="+st.CAPin)
	require.Equal(t, 0, code, errs)
	out, errs, code := toll(t, "correct horse battery\n", "login", "--proxy="+proxies, "--user=alice",
		"--password-stdin", "--ca-pin="+st.CAPin)
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "Logged in as alice to cluster test-cluster ("+proxies+")")
	p, err := profile.Load(home)
	require.NoError(t, err)
	require.Equal(t, proxies, p.Proxy, "the identity keeps every address")

	out, errs, code = toll(t, "", "status")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "User: alice")

	_, errs, code = toll(t, "x\n", "login", "--proxy="+n.Addr+",,", "--user=alice", "--password-stdin")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "an entry is empty")
}
