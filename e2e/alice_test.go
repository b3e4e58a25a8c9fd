package e2e

import (
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/tollgate-db/tollgate/internal/natstest"
	"github.com/tollgate-db/tollgate/internal/pgtest"
)

// The topology tests' common steps: control up, alice signed up, a
// PostgreSQL whose log tells sessions apart, an agent's config.

// alicePassword is alice's password, as stdin of toll.
const alicePassword = "correct horse battery staple\n"

// writeConfig writes a YAML config file named name in the world's dir.
func (w *world) writeConfig(name string, cfg map[string]any) string {
	w.t.Helper()
	out, err := yaml.Marshal(cfg)
	require.NoError(w.t, err)
	p := filepath.Join(w.dir, name)
	require.NoError(w.t, os.WriteFile(p, out, 0o600))
	return p
}

// waitControl waits until tollctl (args first, e.g. --proxy) answers
// status from d and returns the CA pin it prints.
func (w *world) waitControl(d *daemon, args ...string) string {
	w.t.Helper()
	var status string
	eventually(w.t, "control answers", d, func() bool {
		out, _, err := w.try("", "tollctl", append(args, "status")...)
		status = out
		return err == nil
	})
	pin := pinRE.FindString(status)
	require.NotEmpty(w.t, pin, status)
	return pin
}

// signUpAlice adds alice (the access role, any db user and name) and
// signs her up at proxy.
func (w *world) signUpAlice(proxy, pin string) { w.t.Helper(); w.signUpAliceAs(proxy, pin, "access") }

// signUpAliceAs is signUpAlice with roles (comma-separated).
func (w *world) signUpAliceAs(proxy, pin, roles string) {
	w.t.Helper()
	out := w.run("", "tollctl", "--proxy="+proxy, "users", "add", "--roles="+roles, `--db-users=*`, `--db-names=*`, "alice")
	invite := regexp.MustCompile(`--invite[= ](\S+)`).FindStringSubmatch(out)
	require.Len(w.t, invite, 2, out)
	w.run(alicePassword, "toll", "signup", "--proxy="+proxy, "--invite="+invite[1], "--password-stdin", "--ca-pin="+pin)
}

// alicesPostgres starts PostgreSQL with certs from auth sign for hosts
// (besides localhost and 127.0.0.1), log_statement=all with
// log_line_prefix "[%u:%c] " (user and session), a role and database
// alice. hba and listen, when set, add client addresses and listen
// addresses.
func (w *world) alicesPostgres(proxy string, hosts, hba []string, listen string) *pgtest.Server {
	w.t.Helper()
	certs := filepath.Join(w.dir, "certs")
	hostList := "localhost,127.0.0.1"
	for _, h := range hosts {
		hostList += "," + h
	}
	w.run("", "tollctl", "--proxy="+proxy, "auth", "sign", "--format=db", "--host="+hostList, "--out="+certs, "--ttl=24h")
	cfg := pgtest.Config{
		CertFile: filepath.Join(certs, "server.crt"), KeyFile: filepath.Join(certs, "server.key"), CAFile: filepath.Join(certs, "server.cas"),
		Settings: map[string]string{"log_statement": "all", "log_line_prefix": "[%u:%c] "},
	}
	if len(hba) > 0 {
		cfg.HBA = append([]string{"hostssl all all 127.0.0.1/32 cert"}, hba...)
	}
	if listen != "" {
		cfg.Settings["listen_addresses"] = listen
	}
	pg, err := pgtest.StartServer(context.Background(), cfg)
	require.NoError(w.t, err)
	w.t.Cleanup(func() { _ = pg.Close() })
	for _, q := range []string{"CREATE ROLE alice LOGIN", "CREATE DATABASE alice OWNER alice"} {
		require.NoError(w.t, pg.ExecContext(context.Background(), q))
	}
	return pg
}

// agentConfigFor writes, with a new join token, the config `tollgate db
// configure create` makes for an agent of proxy serving database pg at
// uri, with extra flags.
func (w *world) agentConfigFor(proxy, pin, uri string, extra ...string) string {
	w.t.Helper()
	tokenFile := filepath.Join(w.dir, "token")
	require.NoError(w.t, os.WriteFile(tokenFile, []byte(w.run("", "tollctl", "--proxy="+proxy, "tokens", "add", "--type=db", "--format=text")), 0o600))
	path := filepath.Join(w.dir, "agent.yaml")
	w.run("", "tollgate", append([]string{"db", "configure", "create", "-o", path, "--token=" + tokenFile, "--proxy=" + proxy,
		"--name=pg", "--protocol=postgres", "--uri=" + uri, "--ca-pin=" + pin,
		"--data-dir=" + filepath.Join(w.dir, "agent-data"), "--listen-addr=127.0.0.1:" + strconv.Itoa(freePort(w.t))}, extra...)...)
	return path
}

// aliceBench runs pgbench -S as alice on the local proxy at port: tx
// transactions on each of 2 clients.
func (w *world) aliceBench(port int, tx int) (string, error) {
	o, e, err := w.try("", w.pgbenchPath, "-n", "-S", "-t", strconv.Itoa(tx), "-c", "2", "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-U", "alice", "alice")
	return o + e, err
}

// mustAliceBench is aliceBench, every transaction done.
func (w *world) mustAliceBench(t *testing.T, what string, port, tx int) {
	t.Helper()
	o, err := w.aliceBench(port, tx)
	require.NoError(t, err, "pgbench %s: %s", what, o)
	require.Contains(t, o, "number of transactions actually processed: "+strconv.Itoa(2*tx)+"/"+strconv.Itoa(2*tx), what)
}

// twoControls writes the configs of two controls on the NATS cluster c
// (replicas 3) sharing sealed keys in NATS KV: control a on w.dataDir,
// control b on its own; it returns their paths and API addresses.
func (w *world) twoControls(c *natstest.Cluster) (confA, confB, addrA, addrB string) {
	w.t.Helper()
	seal := filepath.Join(w.dir, "seal.key")
	key := make([]byte, 32)
	_, err := rand.Read(key)
	require.NoError(w.t, err)
	require.NoError(w.t, os.WriteFile(seal, key, 0o600))
	addrA, addrB = "127.0.0.1:"+strconv.Itoa(freePort(w.t)), "127.0.0.1:"+strconv.Itoa(freePort(w.t))
	conf := func(name, dataDir, addr string) string {
		return w.writeConfig(name+".yaml", map[string]any{
			"data_dir": dataDir, "cluster_name": "e2e",
			"nats": map[string]any{"url": c.URL(), "replicas": 3},
			"control": map[string]any{"listen_addr": addr, "metrics_addr": "none",
				"keystore": "nats", "seal_key_file": seal},
		})
	}
	return conf("a", w.dataDir, addrA), conf("b", filepath.Join(w.dir, "control-b"), addrB), addrA, addrB
}

// startLocalControl starts a control on loopback (its NATS listener for
// agents on a free loopback port, or none when nats is "none") and returns
// it, its address and its CA pin.
func (w *world) startLocalControl(nats string) (control *daemon, addr, pin string) {
	w.t.Helper()
	addr = "127.0.0.1:" + strconv.Itoa(freePort(w.t))
	w.controlAddr = addr
	if nats != "none" {
		nats = "127.0.0.1:" + strconv.Itoa(freePort(w.t))
	}
	cfg := w.writeConfig("control.yaml", map[string]any{
		"data_dir": w.dataDir, "cluster_name": "e2e",
		"control": map[string]any{"listen_addr": addr, "metrics_addr": "none"},
		"nats":    map[string]any{"listen_addr": nats},
	})
	control = w.start("tollgate", "start", "--config", cfg, "--log-format", "text")
	return control, addr, w.waitControl(control)
}

// roleFile writes a role file and applies it with tollctl roles verb
// (create or update).
func (w *world) roleFile(verb, name, body string) {
	w.t.Helper()
	p := filepath.Join(w.dir, name+".yaml")
	require.NoError(w.t, os.WriteFile(p, []byte(body), 0o600))
	w.run("", "tollctl", "roles", verb, "-f", p)
}

// startAgent starts an agent of control at addr serving pg at uri (extra
// flags for db configure create) and waits until pg is registered.
func (w *world) startAgent(addr, pin, uri string, extra ...string) *daemon {
	w.t.Helper()
	agent := w.start("tollgate", "start", "--log-format", "text", "--metrics-addr", "none", "--config", w.agentConfigFor(addr, pin, uri, extra...))
	eventually(w.t, "the agent registers pg", agent, func() bool {
		out, _, err := w.try("", "tollctl", "db", "ls")
		return err == nil && strings.Contains(out, "pg")
	})
	return agent
}
