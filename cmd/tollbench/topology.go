package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/tollgate-db/tollgate/internal/pgtest"
)

// topology is what the benchmark runs against, as a deployment looks:
// control (with its embedded NATS) as one process, each agent as another
// publishing over its TLS NATS connection, PostgreSQL with TLS and cert
// auth, pgbouncer, and the Go copy relay in tollbench itself. Tollgate's
// parts are the built binaries driven through their CLI.
type topology struct {
	dir    string
	b      bins
	split  *controlNode
	agents []*agentProc // the split rows' agents (control's NATS)
	// The rows on an external nats-server: its own control and agents.
	nats      *daemon
	ext       *controlNode
	natsURL   string
	extAgents []*agentProc
	pg        *pgtest.Server
	pgPID     int
	certs     string // auth sign's output: ca.crt is the db CA
	local     *localCA
	client    pemPair // the bench role's client cert (direct, copy relay, pgbouncer)
	server    pemPair // the copy relay's and pgbouncer's server cert
	relay     *copyRelay
	pgb       *pgbouncer
	// tollProxies serve the rows through `toll proxy db`.
	tollProxies []*daemon
}

func (t *topology) dbCA() string { return filepath.Join(t.certs, "ca.crt") }

// startTopology starts every process of the rows o asks for.
func startTopology(ctx context.Context, dir string, o options) (*topology, error) {
	t := &topology{dir: dir, certs: filepath.Join(dir, "certs")}
	var err error
	// Profiles name the binaries: keep them next to the profiles.
	binDir := dir
	if o.profile != "" {
		binDir = o.profile
	}
	if t.b, err = buildBinaries(ctx, binDir, len(o.external) > 0); err != nil {
		return t, err
	}
	if err := t.localCerts(); err != nil {
		return t, err
	}
	leaf := slices.ContainsFunc(o.modes, func(m string) bool { return strings.HasSuffix(m, leafSuffix) })
	if t.split, err = startControl(ctx, t.b, dir, "split", "", leaf); err != nil {
		return t, fmt.Errorf("control: %w", err)
	}
	if err := t.startExternal(ctx, o); err != nil {
		return t, err
	}
	if err := t.startPostgres(ctx); err != nil {
		return t, err
	}
	for _, m := range o.modes {
		mode, leaf, tunnel := agentMode(m)
		a, err := t.split.startAgent(ctx, agentSpec{name: "agent " + m, route: "pg-" + m, mode: mode, leaf: leaf, tunnel: tunnel,
			policy: policyMode(m), pgAddr: t.pg.Addr(), dbCA: t.dbCA()})
		if a != nil {
			a.viaToll = tunnel
			t.agents = append(t.agents, a)
		}
		if err != nil {
			return t, err
		}
	}
	for _, a := range t.agents {
		for _, m := range o.modes {
			if mode, _, tunnel := agentMode(m); tunnel && a.route == "pg-"+mode {
				a.alsoViaToll = true
			}
		}
	}
	if err := t.split.addBenchUser(ctx, slices.ContainsFunc(o.modes, policyMode)); err != nil {
		return t, err
	}
	if err := t.startExternalAgents(ctx, o); err != nil {
		return t, err
	}
	upTLS, err := clientTLS(t.client, t.dbCA())
	if err != nil {
		return t, err
	}
	if t.relay, err = startCopyRelay(ctx, t.pg.Addr(), t.server, upTLS); err != nil {
		return t, err
	}
	t.pgb, err = startPgbouncer(ctx, t.pg.Port(), t.dbCA(), t.server, t.client)
	return t, err
}

func (t *topology) localCerts() error {
	if err := os.MkdirAll(t.certs, 0o700); err != nil {
		return err
	}
	var err error
	if t.local, err = newLocalCA(t.dir); err != nil {
		return err
	}
	if t.client, err = t.local.issue(t.dir, "bench-client", benchUser, true); err != nil {
		return err
	}
	t.server, err = t.local.issue(t.dir, "local-server", "tollbench", false)
	return err
}

// startPostgres signs the database's certs with control's db CA and
// starts it trusting the db_client CAs (for the agents of both controls)
// and the local CA (for the other rows).
func (t *topology) startPostgres(ctx context.Context) error {
	if err := t.split.signDB(ctx, t.certs); err != nil {
		return err
	}
	cas := []string{}
	for _, f := range []string{filepath.Join(t.certs, "ca-client.crt"), t.local.caFile} {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		cas = append(cas, string(b))
	}
	if t.ext != nil {
		ca, err := t.ext.dbClientCA(ctx)
		if err != nil {
			return err
		}
		cas = append(cas, ca)
	}
	clientCAs := filepath.Join(t.dir, "client-cas.crt")
	if err := appendFiles(clientCAs, cas...); err != nil {
		return err
	}
	var err error
	if t.pg, err = startPostgres(ctx, t.certs, clientCAs); err != nil {
		return err
	}
	t.pgPID, err = postmasterPID(t.pg)
	return err
}

// targets are the rows: direct, the copy relay, pgbouncer, then each
// agent.
func (t *topology) targets(ctx context.Context, o options) ([]target, error) {
	tls := func(port, ca string, cert pemPair) []string {
		env := []string{"PGHOST=127.0.0.1", "PGPORT=" + port, "PGSSLMODE=verify-full", "PGSSLROOTCERT=" + ca}
		if cert.certFile != "" {
			env = append(env, "PGSSLCERT="+cert.certFile, "PGSSLKEY="+cert.keyFile)
		}
		return env
	}
	pg := probe{role: rolePostgres, pid: t.pgPID, tree: true}
	ts := []target{
		{name: "direct", env: tls(strconv.Itoa(t.pg.Port()), t.dbCA(), t.client), probes: []probe{pg}},
		{name: "Go copy relay", env: tls(t.relay.port(), t.local.caFile, pemPair{}),
			probes: []probe{pg, {role: roleRelay, pid: os.Getpid()}}},
		{name: "pgbouncer", env: tls(strconv.Itoa(t.pgb.port), t.local.caFile, pemPair{}),
			probes: []probe{pg, {role: rolePgbouncer, pid: t.pgb.pid()}}},
	}
	for _, a := range t.agents {
		agentProbes := []probe{pg, {role: roleAgent, pid: a.d.pid()}, {role: roleControl, pid: t.split.d.pid()}}
		if a.viaToll {
			tp, port, err := t.split.startTollProxy(ctx, a.route)
			if tp != nil {
				t.tollProxies = append(t.tollProxies, tp)
			}
			if err != nil {
				return nil, err
			}
			ts = append(ts, target{name: a.name + " (via toll proxy)", env: []string{"PGHOST=127.0.0.1", "PGPORT=" + port, "PGSSLMODE=disable"},
				probes: append(agentProbes, probe{role: roleToll, pid: tp.pid()})})
			// libpq by itself on control's port, routed by its SNI.
			env, err := t.split.dbEnv(ctx, a.route)
			if err != nil {
				return nil, err
			}
			ts = append(ts, target{name: a.name + " (libpq, SNI)", env: env, probes: agentProbes})
			continue
		}
		env, err := t.split.dbEnv(ctx, a.route)
		if err != nil {
			return nil, err
		}
		ts = append(ts, target{name: a.name, env: env, probes: agentProbes})
		if a.alsoViaToll {
			tp, port, err := t.split.startTollProxy(ctx, a.route)
			if tp != nil {
				t.tollProxies = append(t.tollProxies, tp)
			}
			if err != nil {
				return nil, err
			}
			ts = append(ts, target{name: a.name + " via toll proxy", env: []string{"PGHOST=127.0.0.1", "PGPORT=" + port, "PGSSLMODE=disable"},
				probes: append(agentProbes, probe{role: roleToll, pid: tp.pid()})})
		}
	}
	for _, a := range t.extAgents {
		env, err := t.ext.dbEnv(ctx, a.route)
		if err != nil {
			return nil, err
		}
		ts = append(ts, target{name: a.name, env: env, probes: []probe{pg, {role: roleAgent, pid: a.d.pid()},
			{role: roleControl, pid: t.ext.d.pid()}, {role: roleNATS, pid: t.nats.pid()}}})
	}
	for i := range ts {
		ts[i].env = append(ts[i].env, "PGUSER="+benchUser, "PGDATABASE=postgres", "PGCONNECT_TIMEOUT=20")
	}
	return ts, nil
}

// close stops everything, agents before control.
func (t *topology) close() {
	for _, tp := range t.tollProxies {
		tp.stop()
	}
	t.pgb.stop()
	for _, a := range append(t.agents, t.extAgents...) {
		a.d.stop()
	}
	t.split.stop()
	t.ext.stop()
	t.nats.stop()
	if t.pg != nil {
		_ = t.pg.Close()
	}
}

var errNoPgbench = errors.New("pgbench not found: apt-get install -y postgresql (pgbench comes with the server package)")
