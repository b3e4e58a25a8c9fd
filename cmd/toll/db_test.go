package main

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/internal/node/nodetest"
	"github.com/tollgate-db/tollgate/internal/profile"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestDBCommands drives toll db ls/login/env/config/connect/logout against
// a real node with dynamically registered databases (no agent: connect
// must say the agent is unreachable, with the address it tried).
func TestDBCommands(t *testing.T) {
	n := nodetest.Start(t, nil)
	home := t.TempDir()
	t.Setenv(profile.EnvHome, home)
	ctx := context.Background()
	admin := n.Admin(t)
	st, err := admin.Status(ctx)
	require.NoError(t, err)

	// Not logged in yet.
	_, errs, code := toll(t, "", "db", "ls")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "run toll login")

	dead, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	deadAddr := dead.Addr().String()
	require.NoError(t, dead.Close())
	for _, d := range []schemas.Database{
		{Name: "roach", Description: "Example CockroachDB", Protocol: "cockroachdb", URI: "127.0.0.1:26257", Labels: map[string]string{"env": "dev"}, PublicAddr: deadAddr},
		{Name: "prod", Protocol: "postgres", URI: "127.0.0.1:5432", Labels: map[string]string{"env": "prod"}, PublicAddr: deadAddr},
	} {
		_, err := admin.DBCreate(ctx, d)
		require.NoError(t, err)
	}
	inv, err := admin.UsersAdd(ctx, schemas.User{Name: "alice", Roles: []string{"access"},
		Traits: map[string][]string{"db_users": {"alice"}, "db_names": {"*"}}})
	require.NoError(t, err)
	_, errs, code = toll(t, "correct horse battery\n", "signup", "--proxy="+n.Addr, "--invite="+inv.Invite, "--password-stdin", "--ca-pin="+st.CAPin)
	require.Equal(t, 0, code, errs)

	out, errs, code := toll(t, "", "db", "ls")
	require.Equal(t, 0, code, errs)
	require.Regexp(t, `roach\s+Example CockroachDB\s+cockroachdb\s+env=dev\s+alice`, out)
	out, errs, code = toll(t, "", "db", "ls", "env=prod", "--format=json")
	require.Equal(t, 0, code, errs)
	var rows []dbRow
	require.NoError(t, json.Unmarshal([]byte(out), &rows))
	for _, r := range rows {
		require.Equal(t, "prod", r.Labels["env"])
	}
	out, errs, code = toll(t, "", "db", "ls", "--format=yaml")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "name: roach")

	// Unknown database: the allowed ones are listed.
	_, errs, code = toll(t, "", "db", "login", "nope")
	require.Equal(t, 1, code)
	require.Contains(t, errs, `database "nope" not found or not allowed`)
	require.Contains(t, errs, "roach")
	// A db user not allowed.
	_, errs, code = toll(t, "", "db", "login", "roach", "--db-user=root")
	require.Equal(t, 1, code)
	require.Contains(t, errs, `db user "root" is not allowed on roach; you may use: alice`)

	out, errs, code = toll(t, "", "db", "login", "roach")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "Logged in to database roach as db user alice")
	for _, f := range []string{dbCertFile, dbKeyFile, dbCAFile, dbMetaFile} {
		fi, err := os.Stat(filepath.Join(home, "db", "roach", f))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), f)
	}

	out, errs, code = toll(t, "", "db", "env", "roach")
	require.Equal(t, 0, code, errs)
	host, port, _ := net.SplitHostPort(deadAddr)
	for _, want := range []string{"export PGHOST=" + host, "export PGPORT=" + port, "export PGSSLMODE=verify-full", "export PGUSER=alice",
		"export PGDATABASE=defaultdb", "export PGSSLCERT=" + filepath.Join(home, "db", "roach", dbCertFile),
		"export PGSSLROOTCERT=", "export PGSSLKEY=", "export PGCLIENTENCODING=UTF8"} {
		require.Contains(t, out, want)
	}
	out, errs, code = toll(t, "", "db", "config", "roach")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "host="+host+" port="+port+" user=alice dbname=defaultdb sslmode=verify-full")

	_, errs, code = toll(t, "", "db", "connect", "roach", "--", "-c", "select 1")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "unreachable at "+deadAddr)

	out, errs, code = toll(t, "", "db", "logout", "roach")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "Logged out of database roach")
	_, err = os.Stat(filepath.Join(home, "db", "roach"))
	require.ErrorIs(t, err, os.ErrNotExist)
	out, _, _ = toll(t, "", "db", "logout")
	require.True(t, strings.Contains(out, "Not logged in to any database"), out)

	// Logged out of Tollgate: db login says to log in.
	_, _, code = toll(t, "", "logout")
	require.Equal(t, 0, code)
	_, errs, code = toll(t, "", "db", "login", "roach")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "run toll login")
}
