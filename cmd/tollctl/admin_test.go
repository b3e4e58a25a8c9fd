package main

import (
	"context"
	"encoding/json"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/node/nodetest"
)

// TestCLIUsersLockoutAndReach: users add warns (on stderr) when the user
// can reach no database, users update likewise; users get shows a login
// lockout after failed passwords and the failures before it; users reset
// says it cleared the lockout, and the password works again at once.
func TestCLIUsersLockoutAndReach(t *testing.T) {
	n := nodetest.Start(t, nil)
	t.Setenv("TOLLGATE_HOME", t.TempDir())
	admin := cli{t: t, n: n, args: []string{"--data-dir", n.DataDir}}
	ctx := context.Background()

	out, errs, code := admin.run("", "users", "add", "--roles=access", "alice")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "toll signup")
	require.Contains(t, errs, "warning: user alice can reach no database: role access allows no db user for it")
	require.Contains(t, errs, "tollctl users update alice --db-users=NAME")
	_, errs, code = admin.run("", "users", "add", "--roles=access", "--db-users=bob", "bob")
	require.Equal(t, 0, code, errs)
	require.Empty(t, errs, "a user with db users gets no warning")
	_, errs, code = admin.run("", "users", "add", "--roles=auditor", "carol")
	require.Equal(t, 0, code, errs)
	require.Empty(t, errs, "a role granting no database is no reason to warn")
	_, errs, code = admin.run("", "users", "update", "alice", "--db-users=alice")
	require.Equal(t, 0, code, errs)
	require.Empty(t, errs)
	_, errs, code = admin.run("", "users", "update", "alice", "--db-users=")
	require.Equal(t, 0, code, errs)
	require.Contains(t, errs, "user alice can reach no database")
	admin.ok("users", "update", "alice", "--db-users=alice")

	// alice signs up, then fails her password.
	m := regexp.MustCompile(`--invite=([0-9a-f]{32})`).FindStringSubmatch(admin.ok("users", "reset", "alice"))
	require.NotNil(t, m)
	anon, err := client.Anonymous(n.Addr, []byte(joinPEM(mustExport(t, admin, "host"))))
	require.NoError(t, err)
	defer anon.Close()
	_, pub, err := client.NewKey()
	require.NoError(t, err)
	_, err = anon.Signup(ctx, wire.Login{Invite: m[1], Password: rotPW, PublicKeyPEM: string(pub)})
	require.NoError(t, err)
	login := func(pw string) error {
		_, err := anon.Login(ctx, wire.Login{User: "alice", Password: pw, PublicKeyPEM: string(pub)})
		return err
	}
	require.Contains(t, admin.ok("users", "get", "alice"), "Login lockout: none\n")
	require.Error(t, login("not the password"))
	require.Error(t, login("not the password"))
	require.Contains(t, admin.ok("users", "get", "alice"), "Login lockout: none (2 failed passwords in a row; 5 lock password login for 15m0s)")
	for range 3 {
		require.Error(t, login("not the password"))
	}
	require.Equal(t, 429, client.StatusOf(login(rotPW)), "locked out")
	got := admin.ok("users", "get", "alice")
	require.Regexp(t, `Login lockout: locked until \S+ after repeated failed passwords \(tollctl users reset alice clears it\)`, got)
	var u wire.User
	require.NoError(t, json.Unmarshal([]byte(admin.ok("users", "get", "alice", "--format=json")), &u))
	require.False(t, u.LockedUntil.IsZero())

	out = admin.ok("users", "reset", "alice")
	require.Regexp(t, `Its login lockout \(until \S+\) is cleared: password login works again now.`, out)
	require.Contains(t, admin.ok("users", "get", "alice"), "Login lockout: none\n")
	require.NoError(t, login(rotPW), "the password works again after the reset")
	require.NotContains(t, admin.ok("users", "reset", "alice"), "lockout", "nothing to clear: nothing said")
}

// TestCLILocksAlone: `tollctl locks` lists, as `locks ls` does.
func TestCLILocksAlone(t *testing.T) {
	n := nodetest.Start(t, nil)
	t.Setenv("TOLLGATE_HOME", t.TempDir())
	admin := cli{t: t, n: n, args: []string{"--data-dir", n.DataDir}}
	require.Equal(t, "ID  Target  Message  Expires\n", admin.ok("locks"))
	admin.ok("lock", "--user=alice", "--message=investigating")
	out := admin.ok("locks")
	require.Contains(t, out, "user=alice")
	require.Contains(t, out, "investigating")
	require.Equal(t, admin.ok("locks", "ls"), out)
}

func joinPEM(pems []string) string {
	out := ""
	for _, p := range pems {
		out += p
	}
	return out
}
