package gateway_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"github.com/tollgate-db/tollgate/internal/inprocess"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/gateway"
	"github.com/tollgate-db/tollgate/agent/join"
	"github.com/tollgate-db/tollgate/agent/upstream"
	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/embedded"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
	"github.com/tollgate-db/tollgate/internal/pgtest"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// harness is a whole cluster on one machine: embedded NATS (on a fixed
// loopback port, so it can be stopped and restarted), control in process,
// a real PostgreSQL set up with `auth sign --format=cockroachdb` files and
// cert auth, and the agent.
type harness struct {
	t        *testing.T
	dir      string
	ctx      context.Context
	natsDir  string
	natsAddr string
	ns       *embedded.Server
	nc       *nats.Conn
	control  eventlog.Stream
	audit    eventlog.Stream
	svc      *control.Service
	pg       *pgtest.Server
	gw       *gateway.Gateway
	hostCA   string
	admin    control.Caller
	stopGW   context.CancelFunc
	gwDone   chan error
	// opt changes the agent's options; run replaces gw.Run (e.g.
	// RunWithSignals); cp wraps the agent's control plane
	// (inprocess.Control over svc).
	run func(*gateway.Gateway, context.Context) error
	opt func(*gateway.Options)
	cp  func(*inprocess.Control) join.ControlPlane
	// agentAudit, when set, is the stream the agent appends its audit to
	// instead of audit (a leaf agent's own).
	agentAudit eventlog.Stream
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	return newHarnessWith(t, nil)
}

// newHarnessWith lets setup change the harness (mod, run, opt) before the
// agent starts.
func newHarnessWith(t *testing.T, setup func(h *harness)) *harness {
	t.Helper()
	return newHarnessOn(t, (*harness).embeddedLog, setup)
}

// newHarnessOn is newHarnessWith with the event log openLog starts: it
// returns the connection the harness uses and the log's config (streams
// are provisioned with it).
func newHarnessOn(t *testing.T, openLog func(*harness) (*nats.Conn, jetstream.Config), setup func(h *harness)) *harness {
	t.Helper()
	if _, err := exec.LookPath("psql"); err != nil {
		t.Fatal("psql not found: apt-get install -y postgresql-client")
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h := &harness{t: t, dir: t.TempDir(), ctx: ctx}
	nc, cfg := openLog(h)
	h.nc = nc
	t.Cleanup(nc.Close)
	js, err := natsjs.New(nc)
	require.NoError(t, err)
	require.NoError(t, jetstream.Provision(ctx, js, cfg))
	cs, err := jetstream.NewStream(ctx, js, eventlog.ControlStream)
	require.NoError(t, err)
	as, err := jetstream.NewStream(ctx, js, eventlog.AuditStream)
	require.NoError(t, err)
	h.control, h.audit = cs, as

	h.svc, err = control.New(control.Config{Control: cs, Audit: as, DataDir: filepath.Join(h.dir, "control"),
		ClusterName: "test", Hosts: []string{"127.0.0.1"}, FailureDelay: time.Millisecond, Logger: zerolog.Nop()})
	require.NoError(t, err)
	require.NoError(t, h.svc.Start(ctx))
	h.admin = control.Caller{Kind: control.CallerUser, Name: control.AdminUser, NotAfter: time.Now().Add(time.Hour)}

	// The database: auth sign --format=cockroachdb files, cert auth.
	signed, err := h.svc.Certs().Sign(ctx, h.admin, wire.SignRequest{Format: "cockroachdb", Hosts: []string{"127.0.0.1", "localhost"}, TTL: 24 * time.Hour})
	require.NoError(t, err)
	certs := filepath.Join(h.dir, "certs")
	require.NoError(t, os.MkdirAll(certs, 0o700))
	_, err = pki.WriteCockroachDB(certs, signed.Output(), false)
	require.NoError(t, err)
	h.pg = pgtest.Start(t, pgtest.Config{
		CertFile: filepath.Join(certs, "node.crt"), KeyFile: filepath.Join(certs, "node.key"), CAFile: filepath.Join(certs, "ca-client.crt"),
		HBA: []string{
			"hostssl all pwuser 127.0.0.1/32 scram-sha-256",
			"hostssl all all 127.0.0.1/32 cert",
		},
		Settings: map[string]string{"log_statement": "all", "log_line_prefix": "[%u] "},
	})
	for _, r := range []string{"alice", "bob", "carol", "pwuser"} {
		h.pg.CreateRole(t, r)
	}
	h.pg.Exec(t, `GRANT ALL ON SCHEMA public TO alice`)

	hostCA, err := h.svc.CAs().Trusted(schemas.CAHost)
	require.NoError(t, err)
	h.hostCA = filepath.Join(h.dir, "host-ca.pem")
	require.NoError(t, os.WriteFile(h.hostCA, []byte(strings.Join(hostCA, "")), 0o644))
	if setup != nil {
		setup(h)
	}
	h.startAgent()
	return h
}

// embeddedLog starts the embedded NATS server (restartable on its port:
// startNATS, stopNATS).
func (h *harness) embeddedLog() (*nats.Conn, jetstream.Config) {
	h.natsDir = filepath.Join(h.dir, "nats")
	h.startNATS("127.0.0.1:0")
	h.natsAddr = strings.TrimPrefix(h.ns.ClientURL(), "nats://")
	nc, err := nats.Connect(h.ns.ClientURL(), nats.MaxReconnects(-1), nats.ReconnectWait(50*time.Millisecond))
	require.NoError(h.t, err)
	return nc, jetstream.Config{}.WithDefaults()
}

func (h *harness) startNATS(listen string) {
	ns, err := embedded.Start(h.ctx, embedded.Config{StoreDir: h.natsDir, Listen: listen, Logger: zerolog.Nop()})
	require.NoError(h.t, err)
	h.ns = ns
	h.t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = h.ns.Shutdown(sctx)
	})
}

func (h *harness) stopNATS() {
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(h.t, h.ns.Shutdown(sctx))
}

// agentOptions are the agent's options: a new join token, a data dir,
// two static databases on the test PostgreSQL, then h.opt's changes.
func (h *harness) agentOptions() gateway.Options {
	tok, err := h.svc.Tokens().Add(h.ctx, h.admin, wire.TokenAdd{Type: control.TokenTypeDB, TTL: 30 * time.Minute})
	require.NoError(h.t, err)
	o := gateway.Options{Hostname: "agent1", MetricsAddr: "127.0.0.1:0", Grace: 5 * time.Second,
		DataDir: filepath.Join(h.dir, "agent"), JoinToken: func() (string, error) { return tok.Value, nil },
		ListenAddr: "127.0.0.1:0", HandshakeTimeout: 3 * time.Second}
	o.Databases = []gateway.Database{
		{Name: "roach", Protocol: "postgres", URI: h.pg.Addr(), Labels: map[string]string{"env": "dev"}, TLSMode: upstream.VerifyFull},
		{Name: "prod", Protocol: "postgres", URI: h.pg.Addr(), Labels: map[string]string{"env": "prod"}, TLSMode: upstream.VerifyFull},
	}
	if h.opt != nil {
		h.opt(&o)
	}
	return o
}

func (h *harness) startAgent() {
	var cp join.ControlPlane = &inprocess.Control{Service: h.svc}
	if h.cp != nil {
		cp = h.cp(&inprocess.Control{Service: h.svc})
	}
	audit := h.audit
	if h.agentAudit != nil {
		audit = h.agentAudit
	}
	gw, err := gateway.New(h.ctx, gateway.Deps{Control: cp, ControlStream: h.control,
		AuditStream: audit, Logger: zerolog.Nop()}, h.agentOptions())
	require.NoError(h.t, err)
	ctx, cancel := context.WithCancel(h.ctx)
	h.gw, h.stopGW, h.gwDone = gw, cancel, make(chan error, 1)
	run := (*gateway.Gateway).Run
	if h.run != nil {
		run = h.run
	}
	go func() { h.gwDone <- run(gw, ctx) }()
	h.t.Cleanup(h.stopAgent)
	// Ready once the static databases are registered.
	require.Eventually(h.t, func() bool {
		ok := false
		h.svc.View(func(st *projections.State) { _, ok = st.Databases["prod"] })
		return ok
	}, 30*time.Second, 20*time.Millisecond)
}

func (h *harness) stopAgent() {
	if h.stopGW == nil {
		return
	}
	h.stopGW()
	select {
	case err := <-h.gwDone:
		require.NoError(h.t, err)
	case <-time.After(30 * time.Second):
		h.t.Error("agent did not stop")
	}
	h.stopGW = nil
}

// user is a Tollgate user with a database cert for route.
type user struct {
	name, certFile, keyFile string
	notAfter                time.Time
}

func newKeyPEM(t *testing.T) (keyPEM, pubPEM string) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	pub, err := x509.MarshalPKIXPublicKey(k.Public())
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))
}

// addUser creates name with roles and traits, signs up, and gets a
// database cert for route valid for ttl.
func (h *harness) addUser(name string, roles []string, dbUsers []string) {
	inv, err := h.svc.Users().Add(h.ctx, h.admin, schemas.User{Name: name, Roles: roles,
		Traits: map[string][]string{"db_users": dbUsers, "db_names": {"*"}}})
	require.NoError(h.t, err)
	_, pub := newKeyPEM(h.t)
	_, err = h.svc.Auth().Signup(h.ctx, wire.Login{Invite: inv.Invite, Password: "correct horse battery staple", PublicKeyPEM: pub}, "test")
	require.NoError(h.t, err)
}

func (h *harness) dbCert(name, route string, ttl time.Duration) user {
	key, pub := newKeyPEM(h.t)
	c := control.Caller{Kind: control.CallerUser, Name: name, NotAfter: time.Now().Add(ttl)}
	cert, err := h.svc.Certs().DB(h.ctx, c, wire.DBCertRequest{Database: route, PublicKeyPEM: pub})
	require.NoError(h.t, err)
	dir := filepath.Join(h.dir, "users", name+"-"+route+"-"+ttl.String())
	require.NoError(h.t, os.MkdirAll(dir, 0o700))
	u := user{name: name, certFile: filepath.Join(dir, "db.crt"), keyFile: filepath.Join(dir, "db.key"), notAfter: cert.NotAfter}
	require.NoError(h.t, os.WriteFile(u.certFile, []byte(cert.CertPEM), 0o600))
	require.NoError(h.t, os.WriteFile(u.keyFile, []byte(key), 0o600))
	return u
}

func (h *harness) agentPort() string {
	_, p, _ := net.SplitHostPort(h.gw.Addr().String())
	return p
}

// connString is a libpq/pgx connection string through the agent.
func (h *harness) connString(u user, dbUser, dbName string) string {
	return "host=127.0.0.1 port=" + h.agentPort() + " user=" + dbUser + " dbname=" + dbName +
		" sslmode=verify-full sslrootcert=" + h.hostCA + " sslcert=" + u.certFile + " sslkey=" + u.keyFile
}

// psql runs psql through the agent with args.
func (h *harness) psql(u user, dbUser, dbName string, args ...string) *exec.Cmd {
	cmd := exec.Command("psql", append([]string{"-X", "-v", "ON_ERROR_STOP=0", h.connString(u, dbUser, dbName)}, args...)...)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=20")
	return cmd
}

// events returns the audit events of type typ (all when "").
func (h *harness) events(typ string) []eventlog.Event {
	var out []eventlog.Event
	require.NoError(h.t, h.audit.Read(h.ctx, eventlog.Query{}, func(r eventlog.Record) error {
		if typ == "" || r.Event.Type == typ {
			out = append(out, r.Event)
		}
		return nil
	}))
	return out
}

func decode[T any](t *testing.T, ev eventlog.Event) T {
	var v T
	require.NoError(t, json.Unmarshal(ev.Data, &v))
	return v
}

// rejections returns the session.rejected payloads for user.
func (h *harness) rejections(name string) []schemas.SessionRejected {
	var out []schemas.SessionRejected
	for _, ev := range h.events(schemas.TypeSessionRejected) {
		r := decode[schemas.SessionRejected](h.t, ev)
		if r.User == name || (name == "" && r.User == "") {
			out = append(out, r)
		}
	}
	return out
}

func execPsql(conn string, args ...string) (string, error) {
	cmd := exec.Command("psql", append([]string{"-X", conn}, args...)...)
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=20")
	out, err := cmd.CombinedOutput()
	return string(out), err
}
