package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// agentProc is an agent as its own process (`tollgate start --config`),
// joined to a control node with a token, serving one database.
type agentProc struct {
	d     *daemon
	name  string // the row's name
	route string // the database name it registered
	// viaToll: its row goes through `toll proxy db` (a tunneled agent);
	// alsoViaToll: a second row does (the plain agent beside a tunneled
	// one, the same path without the tunnel).
	viaToll, alsoViaToll bool
}

// agentSpec says what an agent serves and how it audits.
type agentSpec struct {
	name   string // the row's name
	route  string // database name
	mode   string // audit_mode: strict or async
	pgAddr string // the database, HOST:PORT
	dbCA   string // PEM bundle the agent verifies the database with
	// natsURL, when set, is the agent's nats.url (an external NATS
	// server); empty: the NATS URL its join answered (control's listener).
	natsURL string
	// leaf makes the agent a leaf node of control's leaf listener
	// (db_service.audit_leaf); tunnel gives it a reverse tunnel
	// (db_service.tunnel), reached through `toll proxy db`.
	leaf, tunnel bool
	// policy labels its database env=bench-policy, which only the bench
	// user's role with statement rules admits (every query judged).
	policy bool
}

// leafSuffix marks a mode of --modes whose agent is a leaf node;
// tunnelSuffix one whose agent is reached through its tunnel (and a
// second row: the agent of the plain mode through `toll proxy db`, the
// same path without the tunnel).
const (
	leafSuffix   = "-leaf"
	tunnelSuffix = "-tunnel"
	// policySuffix marks a mode whose sessions are judged by statement
	// rules (benchPolicyRole).
	policySuffix = "-policy"
)

// policyMode reports whether a --modes entry is a -policy one.
func policyMode(m string) bool { return strings.HasSuffix(m, policySuffix) }

// agentMode splits a --modes entry into its audit mode and variant.
func agentMode(m string) (mode string, leaf, tunnel bool) {
	if mode, ok := strings.CutSuffix(m, policySuffix); ok {
		return mode, false, false
	}
	if mode, ok := strings.CutSuffix(m, leafSuffix); ok {
		return mode, true, false
	}
	if mode, ok := strings.CutSuffix(m, tunnelSuffix); ok {
		return mode, false, true
	}
	return m, false, false
}

// startAgent writes the agent's config (what `tollgate db configure
// create` writes, plus audit_mode), starts it and waits until its
// database is registered and its listener accepts connections.
func (c *controlNode) startAgent(ctx context.Context, s agentSpec) (*agentProc, error) {
	token, err := c.tollctl(ctx, "tokens", "add", "--type=db", "--format=text")
	if err != nil {
		return nil, err
	}
	listen, err := freeAddr()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(c.dir, "agent-"+s.route)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	env := "bench"
	if s.policy {
		env = "bench-policy"
	}
	cfg := map[string]any{
		"data_dir": filepath.Join(dir, "data"),
		"tollgate": map[string]any{"auth_token": strings.TrimSpace(token), "proxy_server": c.addr, "ca_pin": c.pin},
		"db_service": map[string]any{"listen_addr": listen, "metrics_addr": "none", "audit_mode": s.mode,
			"databases": []any{map[string]any{"name": s.route, "protocol": "postgres", "uri": s.pgAddr,
				"labels": map[string]string{"env": env}, "tls": map[string]any{"mode": "verify-full", "ca_cert_file": s.dbCA}}}},
	}
	if s.natsURL != "" {
		cfg["nats"] = map[string]any{"url": s.natsURL}
	}
	if s.leaf {
		cfg["db_service"].(map[string]any)["audit_leaf"] = map[string]any{"hub_url": "tls://" + c.leafAddr}
	}
	if s.tunnel {
		cfg["db_service"].(map[string]any)["tunnel"] = true
	}
	raw, err := yaml.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(dir, "tollgate.yaml")
	if err := os.WriteFile(path, raw, 0o600); err != nil {
		return nil, err
	}
	d, err := startDaemon("agent "+s.route, filepath.Join(dir, "agent.log"), os.Environ(), c.b.path("tollgate"),
		"start", "--config", path, "--log-format", "text")
	if err != nil {
		return nil, err
	}
	a := &agentProc{d: d, name: s.name, route: s.route}
	registered := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(s.route) + `\s`)
	err = d.waitFor(ctx, fmt.Sprintf("agent %s registers its database", s.route), func() bool {
		out, err := c.tollctl(ctx, "db", "ls")
		return err == nil && registered.MatchString(out) && listening(listen)
	})
	return a, err
}

// startTollProxy runs `toll proxy db route` as the bench user on a free
// port and returns the daemon and its port.
func (c *controlNode) startTollProxy(ctx context.Context, route string) (*daemon, string, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	_, port, _ := strings.Cut(addr, ":")
	d, err := startDaemon("toll proxy "+route, filepath.Join(c.dir, "toll-proxy-"+route+".log"), c.env(), c.b.path("toll"),
		"proxy", "db", route, "--db-user="+benchUser, "--db-name=postgres", "--listen", addr)
	if err != nil {
		return nil, "", err
	}
	err = d.waitFor(ctx, "toll proxy db "+route+" listens", func() bool { return listening(addr) })
	return d, port, err
}
