package main

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/node/nodetest"
)

// TestCLIRefusals: an expired join token is refused with its expiry, and
// roles update refuses an unknown role and malformed role YAML, changing
// nothing.
func TestCLIRefusals(t *testing.T) {
	n := nodetest.Start(t, nil)
	t.Setenv("TOLLGATE_HOME", t.TempDir())
	admin := cli{t: t, n: n, args: []string{"--data-dir", n.DataDir}}
	dir := t.TempDir()

	// A token whose TTL has already run out by the time it is used.
	tok := strings.TrimSpace(admin.ok("tokens", "add", "--type=db", "--ttl=1ns", "--format=text"))
	require.Len(t, tok, 32)
	_, pub, err := client.NewKey()
	require.NoError(t, err)
	anon, err := client.Anonymous(n.Addr, []byte(strings.Join(mustExport(t, admin, "host"), "")))
	require.NoError(t, err)
	defer anon.Close()
	_, err = anon.Join(context.Background(), wire.Join{Token: tok, Hostname: "late-agent", PublicKeyPEM: string(pub)})
	require.Error(t, err)
	require.Equal(t, 401, client.StatusOf(err))
	require.Contains(t, err.Error(), "expired")
	require.Contains(t, admin.fail("tokens", "add", "--ttl=-1m"), "positive duration")

	// roles update: unknown role, malformed YAML, unknown field.
	before := admin.ok("roles", "ls")
	unknown := writeFile(t, dir, "ghost.yaml", strings.Replace(devRole, "name: dev", "name: ghost", 1))
	require.Regexp(t, `ghost.*(not found|does not exist)`, admin.fail("roles", "update", "-f", unknown))
	bad := writeFile(t, dir, "bad.yaml", "kind: role\nversion: v7\nmetadata:\n  name: dev\nspec:\n  allow: [unclosed\n")
	require.Contains(t, admin.fail("roles", "update", "-f", bad), "bad.yaml")
	typo := writeFile(t, dir, "typo.yaml", strings.Replace(devRole, "db_users: [\"{{internal.db_users}}\"]", "db_userz: [x]", 1))
	require.Contains(t, admin.fail("roles", "update", "-f", typo), "db_userz")
	require.Equal(t, before, admin.ok("roles", "ls"), "refused updates change nothing")
}
