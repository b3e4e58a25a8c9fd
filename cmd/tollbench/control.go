package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// benchUser is the Tollgate user and the database role pgbench runs as.
const benchUser = "bench"

// benchPassword is the bench user's password (a throwaway cluster).
const benchPassword = "correct horse battery staple"

// controlNode is `tollgate start` as its own process: control and its
// embedded NATS JetStream, whose TLS listener serves agents in other
// processes, or control alone on an external NATS server (natsURL). It is
// administered through tollctl with its local admin identity, and the
// bench user reaches it through toll, as in the README's seed guide.
type controlNode struct {
	d        *daemon
	b        bins
	dir      string
	dataDir  string
	addr     string // the HTTPS API
	pin      string // the host CA pin
	home     string // the bench user's TOLLGATE_HOME
	leafAddr string // the leaf-node listener (leaf agents), "" without one
}

// startControl starts control in dir/name. With natsURL empty it runs the
// embedded NATS with its listener for agents on a free port; else it
// uses the NATS server at natsURL.
func startControl(ctx context.Context, b bins, dir, name, natsURL string, leaf bool) (*controlNode, error) {
	c := &controlNode{b: b, dir: filepath.Join(dir, name)}
	c.dataDir, c.home = filepath.Join(c.dir, "data"), filepath.Join(c.dir, "bench-home")
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return nil, err
	}
	var err error
	if c.addr, err = freeAddr(); err != nil {
		return nil, err
	}
	args := []string{"start", "--data-dir", c.dataDir, "--cluster-name", "bench-" + name, "--listen", c.addr,
		"--metrics-addr", "none", "--log-format", "text"}
	if natsURL == "" {
		nats, err := freeAddr()
		if err != nil {
			return nil, err
		}
		args = append(args, "--nats-listen", nats)
		if leaf {
			if c.leafAddr, err = freeAddr(); err != nil {
				return nil, err
			}
			args = append(args, "--nats-leaf-listen", c.leafAddr)
		}
	} else {
		args = append(args, "--nats-url", natsURL)
	}
	if c.d, err = startDaemon("control "+name, filepath.Join(c.dir, "control.log"), c.env(), b.path("tollgate"), args...); err != nil {
		return nil, err
	}
	var st struct {
		CAPin string `json:"ca_pin"`
	}
	err = c.d.waitFor(ctx, "tollctl status answers", func() bool {
		out, err := c.tollctl(ctx, "status", "--format=json")
		return err == nil && json.Unmarshal([]byte(out), &st) == nil && st.CAPin != ""
	})
	c.pin = st.CAPin
	return c, err
}

// env is the environment of the node's commands: tollctl uses control's
// local admin identity, toll the bench user's home.
func (c *controlNode) env() []string {
	return append(os.Environ(), "TOLLGATE_DATA_DIR="+c.dataDir, "TOLLGATE_HOME="+c.home)
}

func (c *controlNode) tollctl(ctx context.Context, args ...string) (string, error) {
	return runCmd(ctx, c.env(), "", c.b.path("tollctl"), args...)
}

func (c *controlNode) toll(ctx context.Context, stdin string, args ...string) (string, error) {
	return runCmd(ctx, c.env(), stdin, c.b.path("toll"), args...)
}

// signDB writes the database's server certs (cockroachdb layout: ca.crt,
// ca-client.crt, node.crt, node.key) to out with `tollctl auth sign`.
func (c *controlNode) signDB(ctx context.Context, out string) error {
	_, err := c.tollctl(ctx, "auth", "sign", "--format=cockroachdb", "--host=127.0.0.1,localhost", "--out="+out, "--ttl=24h")
	return err
}

// dbClientCA is the PEM of the node's db_client CA, which the database
// must trust for the node's agents.
func (c *controlNode) dbClientCA(ctx context.Context) (string, error) {
	return c.tollctl(ctx, "auth", "export", "--type=db-client")
}

// The bench user's roles when some rows are judged by statement rules:
// bench admits the plain rows' databases (no rules), bench-policy the
// -policy rows' with an allowlist of what pgbench sends, so that every
// query there is parsed (once, then from the cache) and matched.
const (
	benchPlainRole = `kind: role
metadata:
  name: bench
spec:
  allow:
    db_labels:
      env: bench
    db_users: ['{{internal.db_users}}']
    db_names: ['*']
`
	benchPolicyRole = `kind: role
metadata:
  name: bench-policy
spec:
  allow:
    db_labels:
      env: bench-policy
    db_users: ['{{internal.db_users}}']
    db_names: ['*']
    db_statements:
    - name: pgbench
      statements: [select, insert, update, delete, transaction, set, show]
      tables: ['pgbench_*', 'pg_catalog.*']
`
)

// addBenchUser creates the bench user (db user bench; the access role, or
// bench and bench-policy when policy rows run) and signs it up with toll,
// which logs it in.
func (c *controlNode) addBenchUser(ctx context.Context, policy bool) error {
	roles := "access"
	if policy {
		for name, body := range map[string]string{"bench": benchPlainRole, "bench-policy": benchPolicyRole} {
			path := filepath.Join(c.dir, name+".yaml")
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				return err
			}
			if _, err := c.tollctl(ctx, "roles", "create", "-f", path); err != nil {
				return err
			}
		}
		roles = "bench,bench-policy"
	}
	out, err := c.tollctl(ctx, "users", "add", "--roles="+roles, "--db-users="+benchUser, "--db-names=*", benchUser, "--format=json")
	if err != nil {
		return err
	}
	var inv struct {
		Invite string `json:"invite"`
	}
	if err := json.Unmarshal([]byte(out), &inv); err != nil || inv.Invite == "" {
		return fmt.Errorf("tollctl users add: no invite in %q", out)
	}
	_, err = c.toll(ctx, benchPassword+"\n", "signup", "--proxy="+c.addr, "--invite="+inv.Invite, "--password-stdin", "--ca-pin="+c.pin)
	return err
}

// dbEnv logs the bench user in to route (its route cert) and returns the
// PG* variables `toll db env` prints.
func (c *controlNode) dbEnv(ctx context.Context, route string) ([]string, error) {
	out, err := c.toll(ctx, "", "db", "env", route, "--db-user="+benchUser, "--db-name=postgres")
	if err != nil {
		return nil, err
	}
	var env []string
	for _, line := range strings.Split(out, "\n") {
		kv, ok := strings.CutPrefix(strings.TrimSpace(line), "export ")
		if !ok {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		env = append(env, k+"="+strings.Trim(v, "'"))
	}
	if len(env) == 0 {
		return nil, fmt.Errorf("toll db env %s printed no variables: %q", route, out)
	}
	return env, nil
}

func (c *controlNode) stop() {
	if c != nil {
		c.d.stop()
	}
}
