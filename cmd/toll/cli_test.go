package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/internal/node/nodetest"
	"github.com/tollgate-db/tollgate/internal/profile"
	"github.com/tollgate-db/tollgate/schemas"
)

func toll(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

// TestSignupLoginLogout drives toll against a real node.
func TestSignupLoginLogout(t *testing.T) {
	n := nodetest.Start(t, nil)
	home := t.TempDir()
	t.Setenv(profile.EnvHome, home)
	ctx := context.Background()
	admin := n.Admin(t)
	st, err := admin.Status(ctx)
	require.NoError(t, err)
	inv, err := admin.UsersAdd(ctx, schemas.User{Name: "alice", Roles: []string{"access"}, Traits: map[string][]string{"db_users": {"*"}}})
	require.NoError(t, err)

	// Signup: short password refused, nothing saved; then works.
	_, errs, code := toll(t, "short\n", "signup", "--proxy="+n.Addr, "--invite="+inv.Invite, "--password-stdin", "--ca-pin="+st.CAPin)
	require.Equal(t, 1, code)
	require.Contains(t, errs, "12")
	_, err = os.Stat(filepath.Join(home, profile.CertFile))
	require.ErrorIs(t, err, os.ErrNotExist)
	out, errs, code := toll(t, "correct horse battery\n", "signup", "--proxy="+n.Addr, "--invite="+inv.Invite, "--password-stdin", "--ca-pin="+st.CAPin)
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "Logged in as alice to cluster test-cluster")
	for _, f := range []string{profile.CertFile, profile.KeyFile, profile.CAsFile, profile.MetaFile} {
		fi, err := os.Stat(filepath.Join(home, f))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), f)
	}
	// The invite is single-use.
	_, errs, code = toll(t, "another password!\n", "signup", "--proxy="+n.Addr, "--invite="+inv.Invite, "--password-stdin", "--ca-pin="+st.CAPin)
	require.Equal(t, 1, code)
	require.Contains(t, errs, "invite not recognized")

	out, errs, code = toll(t, "", "status")
	require.Equal(t, 0, code, errs)
	require.Contains(t, out, "User: alice")
	require.Contains(t, out, "Roles: access")

	out, _, code = toll(t, "", "logout")
	require.Equal(t, 0, code)
	require.Contains(t, out, "Logged out alice")
	_, errs, code = toll(t, "", "status")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "toll login")

	// Login: first contact needs a pin or --insecure; a wrong pin is refused.
	_, errs, code = toll(t, "correct horse battery\n", "login", "--proxy="+n.Addr, "--user=alice", "--password-stdin")
	require.Equal(t, 1, code)
	require.Contains(t, errs, "--ca-pin")
	bad := "sha256:" + strings.Repeat("0", 64)
	_, errs, code = toll(t, "correct horse battery\n", "login", "--proxy="+n.Addr, "--user=alice", "--password-stdin", "--ca-pin="+bad)
	require.Equal(t, 1, code)
	require.Contains(t, errs, "does not match")
	_, errs, code = toll(t, "wrong password!!\n", "login", "--proxy="+n.Addr, "--user=alice", "--password-stdin", "--ca-pin="+st.CAPin)
	require.Equal(t, 1, code)
	require.Contains(t, errs, "wrong user name or password")
	out, errs, code = toll(t, "correct horse battery\n", "login", "--proxy="+n.Addr, "--user=alice", "--password-stdin", "--ca-pin="+st.CAPin)
	require.Equal(t, 0, code, errs)
	require.Regexp(t, regexp.MustCompile(`Roles: access`), out)
	_, errs, code = toll(t, "correct horse battery\n", "login", "--proxy="+n.Addr, "--user=alice", "--password-stdin", "--insecure")
	require.Equal(t, 0, code, errs)
}
