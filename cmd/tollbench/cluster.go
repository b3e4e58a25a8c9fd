package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"github.com/tollgate-db/tollgate/internal/inprocess"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/agent/config"
	"github.com/tollgate-db/tollgate/agent/gateway"
	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
	"github.com/tollgate-db/tollgate/internal/pgtest"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// benchUser is the Tollgate user and the database role pgbench runs as.
const benchUser = "bench"

// cluster is everything the benchmark runs against, in one temp dir.
type cluster struct {
	dir    string
	log    *jetstream.Log
	svc    *control.Service
	pg     *pgtest.Server
	agents map[string]*agent // by audit mode
	admin  control.Caller
	// Client files: the db CA (direct), the host CA (agents), and the
	// user's route cert and key (agents), a db_client cert and key (direct).
	dbCA, hostCA       string
	userCert, userKey  string
	directCert, dirKey string
}

type agent struct {
	gw     *gateway.Gateway
	cancel context.CancelFunc
	done   chan error
}

func (a *agent) port() string {
	_, p, _ := net.SplitHostPort(a.gw.Addr().String())
	return p
}

func writeFile(path, data string) error { return os.WriteFile(path, []byte(data), 0o600) }

func newKeyPEM() (keyPEM, pubPEM string, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return "", "", err
	}
	pub, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		return "", "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})), nil
}

// startCluster starts embedded JetStream, control, PostgreSQL (TLS, cert
// auth from `auth sign --format=cockroachdb`) and one agent per mode.
func startCluster(ctx context.Context, dir string, modes []string) (*cluster, error) {
	c := &cluster{dir: dir, agents: map[string]*agent{}}
	var err error
	if c.log, err = jetstream.Open(ctx, jetstream.Config{DataDir: filepath.Join(dir, "node")}); err != nil {
		return c, err
	}
	c.svc, err = control.New(control.Config{Control: c.log.Control, Audit: c.log.Audit, DataDir: filepath.Join(dir, "control"),
		ClusterName: "bench", Hosts: []string{"127.0.0.1"}, Logger: zerolog.Nop()})
	if err != nil {
		return c, err
	}
	if err := c.svc.Start(ctx); err != nil {
		return c, err
	}
	c.admin = control.Caller{Kind: control.CallerUser, Name: control.AdminUser, NotAfter: time.Now().Add(time.Hour)}
	signed, err := c.svc.Certs().Sign(ctx, c.admin, wire.SignRequest{Format: "cockroachdb", Hosts: []string{"127.0.0.1", "localhost"}, TTL: 24 * time.Hour})
	if err != nil {
		return c, fmt.Errorf("auth sign: %w", err)
	}
	certs := filepath.Join(dir, "certs")
	if err := os.MkdirAll(certs, 0o700); err != nil {
		return c, err
	}
	if _, err := pki.WriteCockroachDB(certs, signed.Output(), false); err != nil {
		return c, err
	}
	c.dbCA = filepath.Join(certs, "ca.crt")
	c.pg, err = pgtest.StartServer(ctx, pgtest.Config{
		CertFile: filepath.Join(certs, "node.crt"), KeyFile: filepath.Join(certs, "node.key"), CAFile: filepath.Join(certs, "ca-client.crt"),
		Settings: map[string]string{"max_connections": "100", "shared_buffers": "64MB", "fsync": "off"},
	})
	if err != nil {
		return c, fmt.Errorf("start PostgreSQL: %w", err)
	}
	for _, sql := range []string{"CREATE ROLE " + benchUser + " LOGIN"} {
		if err := c.pg.ExecContext(ctx, sql); err != nil {
			return c, err
		}
	}
	hostCA, err := c.svc.CAs().Trusted(schemas.CAHost)
	if err != nil {
		return c, err
	}
	c.hostCA = filepath.Join(dir, "host-ca.pem")
	if err := writeFile(c.hostCA, strings.Join(hostCA, "")); err != nil {
		return c, err
	}
	for _, m := range modes {
		if err := c.startAgent(ctx, m); err != nil {
			return c, fmt.Errorf("agent (%s): %w", m, err)
		}
	}
	return c, c.userFiles(ctx)
}

func (c *cluster) startAgent(ctx context.Context, mode string) error {
	f := config.Default()
	tok, err := c.svc.Tokens().Add(ctx, c.admin, wire.TokenAdd{Type: control.TokenTypeDB, TTL: 30 * time.Minute})
	if err != nil {
		return err
	}
	f.Tollgate.AuthToken = tok.Value
	f.Tollgate.DataDir = filepath.Join(c.dir, "agent-"+mode)
	f.DBService.ListenAddr = "127.0.0.1:0"
	f.DBService.AuditMode = mode
	f.DBService.Databases = []config.Database{{Name: "pg-" + mode, Protocol: "postgres", URI: c.pg.Addr(),
		Labels: map[string]string{"env": "bench"}, TLS: config.DatabaseTLS{Mode: config.TLSVerifyFull}}}
	gw, err := gateway.New(ctx, f, gateway.Deps{Control: &inprocess.Control{Service: c.svc}, ControlStream: c.log.Control,
		AuditStream: c.log.Audit, Logger: zerolog.Nop()}, gateway.Options{Hostname: "agent-" + mode, MetricsAddr: "-", Grace: 5 * time.Second})
	if err != nil {
		return err
	}
	actx, cancel := context.WithCancel(ctx)
	a := &agent{gw: gw, cancel: cancel, done: make(chan error, 1)}
	go func() { a.done <- gw.Run(actx) }()
	c.agents[mode] = a
	deadline := time.Now().Add(30 * time.Second)
	for {
		ok := false
		c.svc.View(func(st *projections.State) { _, ok = st.Databases["pg-"+mode] })
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("database pg-%s not registered within 30s", mode)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// userFiles creates the Tollgate user with a route cert per agent, and a
// db_client cert (what the agent presents) for the direct rows.
func (c *cluster) userFiles(ctx context.Context) error {
	inv, err := c.svc.Users().Add(ctx, c.admin, schemas.User{Name: benchUser, Roles: []string{"access"},
		Traits: map[string][]string{"db_users": {benchUser}, "db_names": {"*"}}})
	if err != nil {
		return err
	}
	_, pub, err := newKeyPEM()
	if err != nil {
		return err
	}
	if _, err := c.svc.Auth().Signup(ctx, wire.Login{Invite: inv.Invite, Password: "correct horse battery staple", PublicKeyPEM: pub}, "bench"); err != nil {
		return err
	}
	var anyAgent *agent
	for _, a := range c.agents {
		anyAgent = a
	}
	if anyAgent == nil {
		return nil
	}
	key, pub, err := newKeyPEM()
	if err != nil {
		return err
	}
	res, err := (&inprocess.Control{Service: c.svc}).DBClientCert(ctx, anyAgent.gw.AgentID(), wire.DBClientCertRequest{
		DBUser: benchUser, Database: "direct", ForUser: benchUser, NotAfter: time.Now().Add(2 * time.Hour), PublicKeyPEM: pub})
	if err != nil {
		return fmt.Errorf("db_client cert for the direct rows: %w", err)
	}
	c.directCert, c.dirKey = filepath.Join(c.dir, "direct.crt"), filepath.Join(c.dir, "direct.key")
	if err := writeFile(c.directCert, res.CertPEM); err != nil {
		return err
	}
	return writeFile(c.dirKey, key)
}

// routeCert writes the user's cert for route (one per agent).
func (c *cluster) routeCert(ctx context.Context, route string) (certFile, keyFile string, err error) {
	key, pub, err := newKeyPEM()
	if err != nil {
		return "", "", err
	}
	caller := control.Caller{Kind: control.CallerUser, Name: benchUser, NotAfter: time.Now().Add(2 * time.Hour)}
	cert, err := c.svc.Certs().DB(ctx, caller, wire.DBCertRequest{Database: route, PublicKeyPEM: pub})
	if err != nil {
		return "", "", err
	}
	certFile, keyFile = filepath.Join(c.dir, route+".crt"), filepath.Join(c.dir, route+".key")
	if err := writeFile(certFile, cert.CertPEM); err != nil {
		return "", "", err
	}
	return certFile, keyFile, writeFile(keyFile, key)
}

func (c *cluster) close() {
	for _, a := range c.agents {
		a.cancel()
		select {
		case <-a.done:
		case <-time.After(15 * time.Second):
		}
	}
	if c.pg != nil {
		_ = c.pg.Close()
	}
	if c.log != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		_ = c.log.Close(ctx)
	}
}
