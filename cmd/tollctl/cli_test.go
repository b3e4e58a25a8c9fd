package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"github.com/tollgate-db/tollgate/internal/testio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/node/nodetest"
	"github.com/tollgate-db/tollgate/internal/profile"
	"github.com/tollgate-db/tollgate/projections"
)

type cli struct {
	t    *testing.T
	n    *nodetest.Node
	args []string // identity args
}

func (c cli) run(stdin string, args ...string) (string, string, int) {
	c.t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append(append([]string{}, c.args...), args...), strings.NewReader(stdin), &out, &errb)
	return out.String(), errb.String(), code
}

func (c cli) ok(args ...string) string {
	c.t.Helper()
	out, errs, code := c.run("", args...)
	require.Equal(c.t, 0, code, "tollctl %v: %s", args, errs)
	return out
}

func (c cli) fail(args ...string) string {
	c.t.Helper()
	out, errs, code := c.run("", args...)
	require.Equal(c.t, 1, code, "tollctl %v should fail; out: %s", args, out)
	return errs
}

func opensslPin(t *testing.T, pemText string) string {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl not found: apt-get install -y openssl")
	}
	block, _ := pem.Decode([]byte(pemText))
	require.NotNil(t, block)
	one := string(pem.EncodeToMemory(block))
	cmd := exec.Command("sh", "-c", "openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | sha256sum")
	cmd.Stdin = strings.NewReader(one)
	out, err := cmd.Output()
	require.NoError(t, err)
	return "sha256:" + strings.Fields(string(out))[0]
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(p, []byte(text), 0o600))
	return p
}

const devRole = `kind: role
version: v7
metadata:
  name: dev
spec:
  options:
    max_session_ttl: 8h
  allow:
    db_labels:
      env: dev
    db_users: ["{{internal.db_users}}"]
    db_names: "*"
  deny:
    db_users: [root]
`

// TestCLI drives every tollctl command against one real node (embedded
// JetStream, HTTPS API), in order: each subtest builds on what the earlier
// ones created. At the end it replays the control stream and scans every
// event and log line for the secrets the subtests handled.
func TestCLI(t *testing.T) {
	logs := &testio.Buffer{}
	n := nodetest.Start(t, logs)
	t.Setenv("TOLLGATE_HOME", t.TempDir())
	dir := t.TempDir()
	var (
		secrets  []string
		anon     *client.Client
		hostCAs  []byte
		invite   string // alice's replaced invite
		invite2  string // alice's current invite
		pubPEM   []byte
		signedUp bool
		lockID   string
	)
	const pw = "correct horse battery"
	home := t.TempDir() // alice's TOLLGATE_HOME
	admin := func(t *testing.T) cli { return cli{t: t, n: n, args: []string{"--data-dir", n.DataDir}} }
	alice := func(t *testing.T) cli {
		require.True(t, signedUp, "alice signed up")
		t.Setenv("TOLLGATE_HOME", home)
		return cli{t: t, n: n}
	}
	step := func(name string, f func(t *testing.T)) {
		if !t.Run(name, f) {
			t.FailNow() // later steps build on this one
		}
	}

	step("status and pins", func(t *testing.T) {
		admin := admin(t)
		out := admin.ok("status")
		lines := strings.Split(out, "\n")
		require.Equal(t, "Cluster: test-cluster", lines[0])
		require.Regexp(t, `(?m)^Version: \S+$`, out)
		m := regexp.MustCompile(`(?m)^CA pin (sha256:[0-9a-f]{64})$`).FindStringSubmatch(out)
		require.NotNil(t, m, out)
		var st wire.Status
		require.NoError(t, json.Unmarshal([]byte(admin.ok("status", "--format=json")), &st))
		require.Len(t, st.CAs, 4)
		for _, ca := range st.CAs {
			require.Contains(t, out, ca.Pin)
			typ := strings.ReplaceAll(ca.Type, "_", "-")
			pemText := admin.ok("auth", "export", "--type="+typ)
			require.Equal(t, ca.Pin, opensslPin(t, pemText), "pin of the %s CA", ca.Type)
			if ca.Type == "host" {
				require.Equal(t, m[1], ca.Pin)
			}
		}
		require.Contains(t, admin.fail("auth", "export", "--type=nope"), "use user, host, db or db-client")
		require.Contains(t, admin.fail("status", "--format=xml"), "use text, json or yaml")
	})

	var tok string
	step("tokens", func(t *testing.T) {
		admin := admin(t)
		tok = strings.TrimSpace(admin.ok("tokens", "add", "--type=db", "--format=text"))
		require.Regexp(t, `^[0-9a-f]{32}$`, tok)
		secrets = append(secrets, tok)
		var toks []wire.Token
		require.NoError(t, json.Unmarshal([]byte(admin.ok("tokens", "ls", "--format=json")), &toks))
		require.Len(t, toks, 1)
		require.Empty(t, toks[0].Value)
		require.False(t, toks[0].Reusable)
		yamlOut := admin.ok("tokens", "ls", "--format=yaml")
		require.Contains(t, yamlOut, "hash: "+toks[0].Hash)
		tok2 := strings.TrimSpace(admin.ok("tokens", "add", "--ttl=1h", "--reusable"))
		secrets = append(secrets, tok2)
		admin.ok("tokens", "rm", tok2)
		require.Contains(t, admin.fail("tokens", "rm", tok2), "token not found")
		require.Contains(t, admin.fail("tokens", "add", "--type=ssh"), "only --type=db")
	})

	step("a join token works once, then is already used", func(t *testing.T) {
		_, pub, err := client.NewKey()
		require.NoError(t, err)
		hostCAs = []byte(strings.Join(mustExport(t, admin(t), "host"), ""))
		anon, err = client.Anonymous(n.Addr, hostCAs)
		require.NoError(t, err)
		joined, err := anon.Join(context.Background(), wire.Join{Token: tok, Hostname: "agent-1", PublicKeyPEM: string(pub)})
		require.NoError(t, err)
		require.NotEmpty(t, joined.CertPEM)
		require.NotEmpty(t, joined.NATSURL)
		_, err = anon.Join(context.Background(), wire.Join{Token: tok, Hostname: "agent-2", PublicKeyPEM: string(pub)})
		require.Error(t, err)
		require.Equal(t, 401, client.StatusOf(err))
		require.Contains(t, err.Error(), "already used")
	})
	defer func() {
		if anon != nil {
			anon.Close()
		}
	}()

	step("roles", func(t *testing.T) {
		admin := admin(t)
		require.Contains(t, admin.fail("users", "add", "--roles=nosuch", "carol"), `unknown role "nosuch"`)
		rolePath := writeFile(t, dir, "role.yaml", devRole)
		require.Contains(t, admin.ok("roles", "create", "-f", rolePath), "Role dev created.")
		require.Contains(t, admin.fail("roles", "create", "-f", rolePath), "already exists")
		bad := writeFile(t, dir, "bad.yaml", strings.Replace(devRole, "      env: dev", "      env: {a: b}", 1))
		require.Contains(t, admin.fail("roles", "create", "-f", bad), "bad.yaml:10: spec.allow.db_labels.env: expected a string or a list of strings")
		bad2 := writeFile(t, dir, "bad2.yaml", strings.Replace(devRole, "max_session_ttl: 8h", "max_session_ttl: forever", 1))
		require.Contains(t, admin.fail("roles", "create", "-f", bad2), "bad2.yaml:7: spec.options.max_session_ttl")
		bad3 := writeFile(t, dir, "bad3.yaml", strings.Replace(devRole, "  deny:", "  denny:", 1))
		require.Contains(t, admin.fail("roles", "create", "-f", bad3), "bad3.yaml:13: spec.denny: unknown field")
		require.Contains(t, admin.ok("roles", "ls"), "dev")
		got := admin.ok("roles", "get", "dev")
		require.Contains(t, got, "max_session_ttl: 8h")
		require.Contains(t, got, "name: dev")
		upd := writeFile(t, dir, "upd.yaml", strings.Replace(devRole, "8h", "4h", 1))
		require.Contains(t, admin.ok("roles", "update", "-f", upd), "updated")
		require.Contains(t, admin.ok("roles", "get", "dev", "--format=json"), `"max_session_ttl": "4h"`)
	})

	step("users", func(t *testing.T) {
		admin := admin(t)
		out := admin.ok("users", "add", "--roles=access,dev", "--db-users=*", "--db-names=*", "alice")
		im := regexp.MustCompile(`toll signup --proxy=(\S+) --invite=([0-9a-f]{32})`).FindStringSubmatch(out)
		require.NotNil(t, im, out)
		require.Equal(t, n.Addr, im[1])
		invite = im[2]
		secrets = append(secrets, invite)
		require.Contains(t, admin.fail("users", "add", "--roles=access", "alice"), "already exists")
		require.Contains(t, admin.ok("users", "ls"), "alice")
		require.Contains(t, admin.ok("users", "get", "alice"), "Roles: access,dev")
		require.Contains(t, admin.ok("users", "update", "alice", "--roles=access"), "roles access")
		require.Contains(t, admin.fail("roles", "rm", "nosuch"), "not found")
		require.Contains(t, admin.ok("roles", "rm", "dev"), "deleted")
		inv := regexp.MustCompile(`--invite=([0-9a-f]{32})`).FindStringSubmatch(admin.ok("users", "reset", "alice"))
		require.NotNil(t, inv)
		invite2 = inv[1]
		secrets = append(secrets, invite2)
	})

	step("a user signs up with the newest invite and may not administer", func(t *testing.T) {
		secrets = append(secrets, pw)
		keyPEM, pub, err := client.NewKey()
		require.NoError(t, err)
		pubPEM = pub
		_, err = anon.Signup(context.Background(), wire.Login{Invite: invite, Password: pw, PublicKeyPEM: string(pubPEM)})
		require.Error(t, err, "a replaced invite must not work")
		cert, err := anon.Signup(context.Background(), wire.Login{Invite: invite2, Password: pw, PublicKeyPEM: string(pubPEM)})
		require.NoError(t, err)
		p := &profile.Profile{Dir: home, Proxy: n.Addr, User: "alice", CertPEM: []byte(cert.CertPEM), KeyPEM: keyPEM, HostCAPEM: hostCAs}
		require.NoError(t, p.Save())
		signedUp = true
		alice := alice(t)
		require.Contains(t, alice.fail("users", "ls"), "may not list user")
		require.Contains(t, alice.fail("tokens", "add"), "may not create token")
		require.Contains(t, alice.fail("events", "ls"), "may not list event")
		require.Contains(t, alice.fail("export", "status"), "may not read audit")
		require.Contains(t, alice.fail("db", "ls"), "may not list database")
		require.Contains(t, alice.ok("db", "ls", "--all=false"), "Name")
	})

	step("repeated wrong passwords lock the user out", func(t *testing.T) {
		for i := 0; i < 5; i++ {
			_, err := anon.Login(context.Background(), wire.Login{User: "alice", Password: "wrong password!", PublicKeyPEM: string(pubPEM)})
			require.Error(t, err)
			require.Equal(t, 401, client.StatusOf(err))
		}
		_, err := anon.Login(context.Background(), wire.Login{User: "alice", Password: pw, PublicKeyPEM: string(pubPEM)})
		require.Equal(t, 429, client.StatusOf(err), "locked out: %v", err)
	})

	step("locks", func(t *testing.T) {
		admin := admin(t)
		out := admin.ok("lock", "--user=alice", "--message=investigating", "--ttl=1h")
		lm := regexp.MustCompile(`Lock (\S+) created`).FindStringSubmatch(out)
		require.NotNil(t, lm)
		lockID = lm[1]
		require.Contains(t, admin.ok("locks", "ls"), "investigating")
		require.Contains(t, admin.fail("lock", "--message=x"), "needs a target")
		require.Contains(t, admin.fail("lock", "--db=roach", "--expires=tomorrow"), "RFC 3339")
	})

	step("auth sign", func(t *testing.T) {
		admin := admin(t)
		certs := filepath.Join(dir, "certs")
		admin.ok("auth", "sign", "--format=cockroachdb", "--host=roach,node-1,127.0.0.1", "--out="+certs, "--ttl=2190h")
		for _, f := range []string{"ca.crt", "ca-client.crt", "node.crt", "node.key"} {
			fi, err := os.Stat(filepath.Join(certs, f))
			require.NoError(t, err)
			want := os.FileMode(0o644)
			if f == "node.key" {
				want = 0o600
			}
			require.Equal(t, want, fi.Mode().Perm(), f)
		}
		raw, err := os.ReadFile(filepath.Join(certs, "node.crt"))
		require.NoError(t, err)
		block, _ := pem.Decode(raw)
		nc, err := x509.ParseCertificate(block.Bytes)
		require.NoError(t, err)
		require.Equal(t, "node", nc.Subject.CommonName)
		require.ElementsMatch(t, []string{"roach", "node-1"}, nc.DNSNames)
		require.Len(t, nc.IPAddresses, 1)
		require.Contains(t, admin.fail("auth", "sign", "--format=cockroachdb", "--host=roach", "--out="+certs), "--overwrite")
		admin.ok("auth", "sign", "--format=cockroachdb", "--host=roach", "--out="+certs, "--overwrite")
		admin.ok("auth", "sign", "--format=db", "--host=pg", "--out="+filepath.Join(dir, "pg"))
		require.FileExists(t, filepath.Join(dir, "pg", "server.cas"))
		require.Contains(t, admin.fail("auth", "sign", "--format=x", "--host=a", "--out="+filepath.Join(dir, "x")), "use cockroachdb, db or tls")
	})

	step("databases", func(t *testing.T) {
		admin, alice := admin(t), alice(t)
		dbPath := writeFile(t, dir, "db.yaml", "kind: db\nversion: v3\nmetadata:\n  name: roach\n  description: dev roach\n  labels: {env: dev}\nspec:\n  protocol: cockroachdb\n  uri: localhost:26257\n")
		require.Contains(t, admin.ok("db", "create", "-f", dbPath), "Database roach created.")
		require.Contains(t, admin.fail("db", "create", "-f", dbPath), "already exists")
		require.Contains(t, admin.ok("db", "ls"), "roach")
		admin.ok("unlock", lockID)
		require.Contains(t, alice.ok("db", "ls", "--all=false"), "roach")
		require.Contains(t, admin.ok("db", "rm", "roach"), "removed")
		require.NotContains(t, alice.ok("db", "ls", "--all=false"), "roach")
	})

	step("events", func(t *testing.T) {
		admin := admin(t)
		var evs []wire.Event
		require.NoError(t, json.Unmarshal([]byte(admin.ok("events", "ls", "--type=user.created", "--format=json")), &evs))
		require.Len(t, evs, 2) // admin, alice
		require.Contains(t, admin.ok("events", "ls", "--stream=audit", "--type=auth.login"), "auth.login")
		require.Contains(t, admin.fail("events", "ls", "--stream=nope"), "use control or audit")
	})

	ctx := context.Background()
	step("replay reproduces the API's view", func(t *testing.T) {
		replayed := projections.New()
		require.NoError(t, n.Env.Log.Control.Read(ctx, eventlog.Query{}, func(r eventlog.Record) error { return replayed.Apply(r) }))
		n.Env.Control.View(func(live *projections.State) {
			for _, pair := range [][2]any{{live.Users, replayed.Users}, {live.Roles, replayed.Roles}, {live.Tokens, replayed.Tokens}, {live.Locks, replayed.Locks}} {
				a, _ := json.Marshal(pair[0])
				b, _ := json.Marshal(pair[1])
				require.JSONEq(t, string(a), string(b))
			}
		})
	})

	step("no secret in any event or log line", func(t *testing.T) {
		var all strings.Builder
		for _, s := range []eventlog.Stream{n.Env.Log.Control, n.Env.Log.Audit} {
			require.NoError(t, s.Read(ctx, eventlog.Query{}, func(r eventlog.Record) error {
				b, _ := json.Marshal(r.Event)
				all.Write(b)
				all.WriteByte('\n')
				return nil
			}))
		}
		all.WriteString(logs.String())
		text := all.String()
		require.Contains(t, text, "auth.login")
		require.NotContains(t, text, "PRIVATE KEY")
		require.Len(t, secrets, 5, "every secret the steps handled: two tokens, two invites, a password")
		for _, s := range secrets {
			require.NotContains(t, text, s)
		}
	})
}

func mustExport(t *testing.T, c cli, typ string) []string {
	t.Helper()
	var out struct {
		PEM []string `json:"pem"`
	}
	require.NoError(t, json.Unmarshal([]byte(c.ok("auth", "export", "--type="+typ, "--format=json")), &out))
	return out.PEM
}
