package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/node/nodetest"
	"github.com/tollgate-db/tollgate/internal/profile"
	"github.com/tollgate-db/tollgate/schemas"
)

const alicePW = "correct horse battery\n"

// withAlice starts a node with database roach (cockroachdb, its agent
// address a closed port) and user alice (role access, the given db
// users), signed up through toll with the host CA pin into a fresh
// TOLLGATE_HOME. It returns the node, the home, the admin client and the
// cluster's status.
func withAlice(t *testing.T, dbUsers ...string) (*nodetest.Node, string, *client.Client, wire.Status) {
	t.Helper()
	n := nodetest.Start(t, nil)
	home := t.TempDir()
	t.Setenv(profile.EnvHome, home)
	ctx := context.Background()
	admin := n.Admin(t)
	st, err := admin.Status(ctx)
	require.NoError(t, err)
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	deadAddr := dead.Addr().String()
	require.NoError(t, dead.Close())
	_, err = admin.DBCreate(ctx, schemas.Database{Name: "roach", Protocol: "cockroachdb", URI: "127.0.0.1:26257",
		Labels: map[string]string{"env": "dev"}, PublicAddr: deadAddr})
	require.NoError(t, err)
	inv, err := admin.UsersAdd(ctx, schemas.User{Name: "alice", Roles: []string{"access"},
		Traits: map[string][]string{"db_users": dbUsers, "db_names": {"*"}}})
	require.NoError(t, err)
	_, errs, code := toll(t, alicePW, "signup", "--proxy="+n.Addr, "--invite="+inv.Invite, "--password-stdin", "--ca-pin="+st.CAPin)
	require.Equal(t, 0, code, errs)
	return n, home, admin, st
}

// TestLoginAfterHostCARotation: a host CA rotation run with --auto while
// alice was away leaves her profile and database login trusting only the
// old host CA. Her calls then fail saying what to check (not a bare x509
// error), toll login says the host CA was probably rotated and how to log
// in with the new pin, and the login with it refreshes the CA file of her
// database login.
func TestLoginAfterHostCARotation(t *testing.T) {
	n, home, _, st := withAlice(t, "alice")
	ctx := context.Background()
	_, errs, code := toll(t, "", "db", "login", "roach")
	require.Equal(t, 0, code, errs)
	caFile := filepath.Join(home, "db", "roach", dbCAFile)
	oldCA, err := os.ReadFile(caFile)
	require.NoError(t, err)

	// (Through the service: admin's client trusts only the old host CA.)
	adminCaller := control.Caller{Kind: control.CallerUser, Name: control.AdminUser}
	rot, err := n.Env.Control.CAs().Rotate(ctx, adminCaller, wire.RotateRequest{Type: schemas.CAHost, Action: wire.RotateAuto})
	require.NoError(t, err)
	require.Equal(t, schemas.PhaseStandby, rot.Phase)
	newHost, err := n.Env.Control.CAs().Export(adminCaller, "host")
	require.NoError(t, err)
	newPin := rot.ActivePin
	require.NotEqual(t, st.CAPin, newPin)

	_, errs, code = toll(t, "", "db", "ls")
	require.Equal(t, 1, code)
	require.Contains(t, errs, `presented a certificate from "Tollgate host CA" of cluster "test-cluster", which this identity does not trust`)
	require.Contains(t, errs, "was the cluster's host CA rotated")

	_, errs, code = toll(t, alicePW, "login", "--proxy="+n.Addr, "--user=alice", "--password-stdin")
	require.Equal(t, 1, code)
	require.True(t, strings.HasPrefix(errs, "error: control at "+n.Addr+" no longer presents a certificate from the host CA "+
		"this machine saved at your last login (pin "+st.CAPin+"): the cluster's host CA was probably rotated."), errs)
	require.Contains(t, errs, "toll login --proxy="+n.Addr+" --user=alice --ca-pin=sha256:…")
	got, err := os.ReadFile(caFile)
	require.NoError(t, err)
	require.Equal(t, oldCA, got, "nothing changed by the failed login")

	out, errs, code := toll(t, alicePW, "login", "--proxy="+n.Addr, "--user=alice", "--password-stdin", "--ca-pin="+newPin)
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "The cluster's host CAs changed: updated the CA file of your database logins (roach).")
	got, err = os.ReadFile(caFile)
	require.NoError(t, err)
	require.Equal(t, strings.Join(newHost, ""), string(got), "the database login trusts the new host CA")
	p, err := profile.Load(home)
	require.NoError(t, err)
	require.Equal(t, newPin, p.CAPin)

	// The next login changes nothing and says nothing about it.
	out, errs, code = toll(t, alicePW, "login", "--proxy="+n.Addr, "--user=alice", "--password-stdin")
	require.Equal(t, 0, code, errs)
	require.NotContains(t, out, "updated the CA file")

	// A database login whose CA file lags behind the profile (tollctl auth
	// rotate updated a shared profile) follows it at the next use.
	require.NoError(t, os.WriteFile(caFile, oldCA, 0o600))
	_, errs, code = toll(t, "", "db", "config", "roach")
	require.Equal(t, 0, code, errs)
	got, err = os.ReadFile(caFile)
	require.NoError(t, err)
	require.Equal(t, strings.Join(newHost, ""), string(got))
}
