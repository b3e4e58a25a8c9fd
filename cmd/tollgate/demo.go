package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"github.com/tollgate-db/tollgate/internal/inprocess"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/tollgate-db/tollgate/agent/gateway"
	"github.com/tollgate-db/tollgate/agent/upstream"
	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/auditview"
	ncfg "github.com/tollgate-db/tollgate/internal/config"
	"github.com/tollgate-db/tollgate/internal/node"
	"github.com/tollgate-db/tollgate/internal/pgtest"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// demoPassword is alice's password in the demo cluster (printed: it is a
// throwaway cluster on loopback).
const demoPassword = "tollgate-demo-alice"

type demoOptions struct {
	noWait   bool
	pgBinDir string
	dir      string
	dbURI    string
	dbCAFile string
	logLevel string
}

func newDemoCommand() *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a whole cluster with a throwaway PostgreSQL, one audited session, and its audit trail",
		Long: `Run, in one process and a temp dir: embedded NATS JetStream, control, an agent and a throwaway
PostgreSQL standing in for a CockroachDB node (set up exactly as the seed guide says: auth sign
--format=cockroachdb files, the node's own CA first in ca-client.crt, then the db_client CA).
It registers database roach (protocol cockroachdb, env=dev), creates user alice (role access,
db user alice), runs a short session through the gateway, prints its audit trail, and then
stays up with the commands to try by hand until Ctrl-C, when it removes everything.

PostgreSQL server binaries come from /usr/lib/postgresql/*/bin or --pg-bindir. To use your
own database instead, pass --db-uri=HOST:PORT (and --db-ca-file with the CA of its server
cert); it must trust the db_client CA (the demo writes ca-client.crt into its certs dir:
run with --dir to keep the cluster) and have a role alice with cert auth.`,
		Example: `  tollgate demo
  tollgate demo --no-wait
  tollgate demo --pg-bindir /usr/lib/postgresql/16/bin`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runDemo(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.noWait, "no-wait", false, "exit after printing the audit trail")
	f.StringVar(&o.pgBinDir, "pg-bindir", "", "directory holding initdb and postgres (default the newest /usr/lib/postgresql/*/bin)")
	f.StringVar(&o.dir, "dir", "", "keep the cluster in this directory (default a temp dir removed at exit)")
	f.StringVar(&o.dbURI, "db-uri", "", "use your own database at HOST:PORT instead of a throwaway PostgreSQL")
	f.StringVar(&o.dbCAFile, "db-ca-file", "", "with --db-uri: CA bundle of your database's server cert (default the cluster's db CA)")
	f.StringVar(&o.logLevel, "log-level", "error", "daemon log level on stderr")
	return cmd
}

type demo struct {
	out, errw io.Writer
	o         demoOptions
	dir       string
	env       *node.Env
	admin     control.Caller
	pg        *pgtest.Server
	gw        *gateway.Gateway
	dbAddr    string
	hostCA    string
	stmts     []string
}

func runDemo(ctx context.Context, out, errw io.Writer, o demoOptions) (err error) {
	d := &demo{out: out, errw: errw, o: o}
	if err := findPostgres(o); err != nil {
		return err
	}
	d.dir = o.dir
	if d.dir == "" {
		if d.dir, err = os.MkdirTemp("", "tollgate-demo-"); err != nil {
			return err
		}
		defer os.RemoveAll(d.dir)
	}
	log, err := demoLogger(o.logLevel, errw)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	nodeDone, err := d.startNode(ctx, log)
	if err != nil {
		return err
	}
	defer func() {
		cancel()
		if nerr := <-nodeDone; nerr != nil && err == nil {
			err = nerr
		}
	}()
	d.admin = control.Caller{Kind: control.CallerUser, Name: control.AdminUser, NotAfter: time.Now().Add(24 * time.Hour)}
	fmt.Fprintf(out, "Tollgate demo in %s\n  control API   %s (cluster demo)\n", d.dir, d.env.ControlAddr)

	if err := d.database(ctx); err != nil {
		return err
	}
	defer func() {
		if d.pg != nil {
			_ = d.pg.Close()
		}
	}()
	gwDone, err := d.agent(ctx, log)
	if err != nil {
		return err
	}
	defer func() {
		cancel()
		if gerr := <-gwDone; gerr != nil && err == nil {
			err = gerr
		}
	}()
	if err := d.user(ctx); err != nil {
		return err
	}
	sid, err := d.session(ctx)
	if err != nil {
		return err
	}
	if err := d.trail(ctx, sid); err != nil {
		return err
	}
	d.instructions(sid)
	if o.noWait {
		return nil
	}
	fmt.Fprintln(out, "\nThe demo stays up until Ctrl-C.")
	<-ctx.Done()
	fmt.Fprintln(out, "Stopping and removing everything.")
	return nil
}

// findPostgres points pgtest at --pg-bindir and, without --db-uri, checks
// that PostgreSQL's server binaries are there.
func findPostgres(o demoOptions) error {
	if o.pgBinDir != "" {
		if err := os.Setenv(pgtest.BinDirEnv, o.pgBinDir); err != nil {
			return err
		}
	}
	if o.dbURI == "" {
		if _, err := pgtest.BinDir(); err != nil {
			return fmt.Errorf("PostgreSQL server binaries not found (%w): install them with `apt-get install -y postgresql`, "+
				"point at them with --pg-bindir, or use your own database with --db-uri=HOST:PORT", err)
		}
	}
	return nil
}

// demoLogger logs the daemon on errw at level ("" or none: not at all).
func demoLogger(level string, errw io.Writer) (zerolog.Logger, error) {
	if level == "" || level == "none" {
		return zerolog.Nop(), nil
	}
	lvl, err := zerolog.ParseLevel(level)
	if err != nil {
		return zerolog.Nop(), fmt.Errorf("--log-level: %w", err)
	}
	return zerolog.New(zerolog.ConsoleWriter{Out: errw}).Level(lvl).With().Timestamp().Logger(), nil
}

// startNode runs the demo's node (control, embedded NATS) in d.dir until
// ctx ends; the channel gets its end.
func (d *demo) startNode(ctx context.Context, log zerolog.Logger) (<-chan error, error) {
	cfg := ncfg.Default()
	cfg.DataDir = filepath.Join(d.dir, "data")
	cfg.ClusterName = "demo"
	cfg.Control.ListenAddr = "127.0.0.1:0"
	cfg.Control.MetricsAddr = "none" // the demo's agent serves its own
	cfg.NATS.ListenAddr = "none"     // its agent is in process
	ready := make(chan *node.Env, 1)
	nodeDone := make(chan error, 1)
	go func() {
		nodeDone <- node.Run(ctx, cfg, log, node.Options{Ready: func(env *node.Env) { ready <- env }})
	}()
	select {
	case d.env = <-ready:
		return nodeDone, nil
	case err := <-nodeDone:
		return nil, fmt.Errorf("start the node: %w", err)
	}
}

// database signs the node certs and starts the stand-in CockroachDB node.
func (d *demo) database(ctx context.Context) error {
	svc := d.env.Control
	certs := filepath.Join(d.dir, "certs")
	if err := os.MkdirAll(certs, 0o700); err != nil {
		return err
	}
	// tollctl auth sign --format=cockroachdb --host=localhost,127.0.0.1 --out=certs --ttl=2190h
	signed, err := svc.Certs().Sign(ctx, d.admin, wire.SignRequest{Format: "cockroachdb", Hosts: []string{"localhost", "127.0.0.1"}, TTL: 2190 * time.Hour})
	if err != nil {
		return fmt.Errorf("auth sign: %w", err)
	}
	if _, err := pki.WriteCockroachDB(certs, signed.Output(), false); err != nil {
		return err
	}
	// The node's own CA first in ca-client.crt (cockroach cert create-client
	// needs it first), then the exported db_client CA, as the guide says.
	roachCA, err := selfSignedCA("Cockroach CA (demo)")
	if err != nil {
		return err
	}
	dbClient, err := svc.CAs().Export(d.admin, "db-client")
	if err != nil {
		return fmt.Errorf("auth export --type=db-client: %w", err)
	}
	caClient := roachCA + strings.Join(dbClient, "")
	if err := os.WriteFile(filepath.Join(certs, "ca-client.crt"), []byte(caClient), 0o600); err != nil {
		return err
	}
	if d.o.dbURI != "" {
		d.dbAddr = d.o.dbURI
		fmt.Fprintf(d.out, "  database      your own at %s (it must trust %s)\n", d.dbAddr, filepath.Join(certs, "ca-client.crt"))
		return nil
	}
	d.pg, err = pgtest.StartServer(ctx, pgtest.Config{
		CertFile: filepath.Join(certs, "node.crt"), KeyFile: filepath.Join(certs, "node.key"), CAFile: filepath.Join(certs, "ca-client.crt"),
		Settings: map[string]string{"log_statement": "all"},
	})
	if err != nil {
		return fmt.Errorf("start PostgreSQL: %w (install it with apt-get install -y postgresql, or use --db-uri)", err)
	}
	// CREATE USER alice WITH PASSWORD NULL, and CockroachDB's defaultdb.
	for _, q := range []string{`CREATE ROLE alice LOGIN`, `CREATE DATABASE defaultdb OWNER alice`} {
		if err := d.pg.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	d.dbAddr = d.pg.Addr()
	fmt.Fprintf(d.out, "  database      PostgreSQL at %s standing in for CockroachDB node roach (cert auth, certs in %s)\n", d.dbAddr, certs)
	return nil
}

// caPool reads --db-ca-file.
func caPool(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--db-ca-file: %w", err)
	}
	pool, err := client.PoolOf(b)
	if err != nil {
		return nil, fmt.Errorf("--db-ca-file %s: %w", path, err)
	}
	return pool, nil
}

// selfSignedCA makes the stand-in for the CockroachDB cluster's own CA.
func selfSignedCA(cn string) (string, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return "", err
	}
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn}, NotBefore: time.Now().Add(-time.Minute),
		NotAfter: time.Now().Add(365 * 24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageCRLSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), nil
}

// agent joins and runs the gateway serving roach.
func (d *demo) agent(ctx context.Context, log zerolog.Logger) (<-chan error, error) {
	svc := d.env.Control
	tok, err := svc.Tokens().Add(ctx, d.admin, wire.TokenAdd{Type: control.TokenTypeDB, TTL: 30 * time.Minute})
	if err != nil {
		return nil, fmt.Errorf("tokens add: %w", err)
	}
	roach := gateway.Database{Name: "roach", Description: "Example CockroachDB", Protocol: "cockroachdb",
		URI: d.dbAddr, Labels: map[string]string{"env": "dev"}, TLSMode: upstream.VerifyFull}
	if d.o.dbCAFile != "" {
		if roach.Roots, err = caPool(d.o.dbCAFile); err != nil {
			return nil, err
		}
	}
	opt := gateway.Options{Hostname: "demo-agent", MetricsAddr: "127.0.0.1:0", DataDir: filepath.Join(d.dir, "agent"),
		JoinToken: func() (string, error) { return tok.Value, nil }, ListenAddr: "127.0.0.1:0"}
	opt.Databases = []gateway.Database{roach}
	d.gw, err = gateway.New(ctx, gateway.Deps{Control: &inprocess.Control{Service: svc}, ControlStream: d.env.Log.Control,
		AuditStream: d.env.Log.Audit, Logger: log}, opt)
	if err != nil {
		return nil, fmt.Errorf("start the agent: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- d.gw.Run(ctx) }()
	// Ready once roach is registered with the agent's address.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var addr string
		svc.View(func(st *projections.State) {
			if db, ok := st.Databases["roach"]; ok {
				addr = db.PublicAddr
			}
		})
		if addr != "" {
			break
		}
		if time.Now().After(deadline) {
			return done, errors.New("the agent did not register database roach within 30s")
		}
		select {
		case err := <-done:
			return nil, fmt.Errorf("agent: %w", err)
		case <-time.After(20 * time.Millisecond):
		}
	}
	fmt.Fprintf(d.out, "  agent         %s serving roach (protocol cockroachdb, env=dev); metrics http://%s/metrics\n", d.gw.Addr(), d.gw.MetricsAddr())
	return done, nil
}

// user creates alice (role access, db user alice) and the console's
// auditor (roles auditor and editor), and sets their passwords.
func (d *demo) user(ctx context.Context) error {
	for _, u := range []struct {
		user     schemas.User
		password string
	}{
		{schemas.User{Name: "alice", Roles: []string{"access"}, Traits: map[string][]string{"db_users": {"alice"}, "db_names": {"*"}}}, demoPassword},
		{schemas.User{Name: demoAuditor, Roles: []string{"auditor", "editor"}}, demoAuditorPassword},
	} {
		if err := d.signUp(ctx, u.user, u.password); err != nil {
			return err
		}
	}
	fmt.Fprintln(d.out, "  user          alice (role access, db user alice)")
	fmt.Fprintf(d.out, "  web console   https://%s/web/ (log in as %s, password %s; the browser warns: the cert is the cluster's own CA's)\n",
		d.env.ControlAddr, demoAuditor, demoAuditorPassword)
	return nil
}

// demoAuditor logs in to the demo's web console.
const (
	demoAuditor         = "security"
	demoAuditorPassword = "tollgate-demo-console"
)

func (d *demo) signUp(ctx context.Context, u schemas.User, password string) error {
	svc := d.env.Control
	inv, err := svc.Users().Add(ctx, d.admin, u)
	if err != nil {
		return fmt.Errorf("users add %s: %w", u.Name, err)
	}
	_, pub, err := client.NewKey()
	if err != nil {
		return err
	}
	if _, err := svc.Auth().Signup(ctx, wire.Login{Invite: inv.Invite, Password: password, PublicKeyPEM: string(pub)}, "demo"); err != nil {
		return fmt.Errorf("signup %s: %w", u.Name, err)
	}
	return nil
}

// session runs alice's short session through the gateway with pgx and
// returns its session id.
func (d *demo) session(ctx context.Context) (string, error) {
	conn, err := d.aliceConnString(ctx)
	if err != nil {
		return "", err
	}
	cctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	c, err := pgx.Connect(cctx, conn)
	if err != nil {
		return "", fmt.Errorf("connect through the gateway: %w", err)
	}
	defer c.Close(context.Background())
	fmt.Fprintln(d.out, "\nA session of alice through the gateway (pgx):")
	if err := d.statements(cctx, c); err != nil {
		return "", err
	}
	if err := c.Close(cctx); err != nil {
		return "", err
	}
	return d.lastSessionOf(ctx, "alice")
}

// aliceConnString writes alice's db cert for roach and returns the libpq
// connection string through the gateway.
func (d *demo) aliceConnString(ctx context.Context) (string, error) {
	keyPEM, pub, err := client.NewKey()
	if err != nil {
		return "", err
	}
	alice := control.Caller{Kind: control.CallerUser, Name: "alice", NotAfter: time.Now().Add(time.Hour)}
	cert, err := d.env.Control.Certs().DB(ctx, alice, wire.DBCertRequest{Database: "roach", DBUser: "alice", DBName: "defaultdb", PublicKeyPEM: string(pub)})
	if err != nil {
		return "", fmt.Errorf("db cert for alice: %w", err)
	}
	dir := filepath.Join(d.dir, "session")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	files := map[string]string{"alice.crt": cert.CertPEM, "alice.key": string(keyPEM), "ca.pem": strings.Join(cert.CAPEM, "")}
	for n, data := range files {
		if err := os.WriteFile(filepath.Join(dir, n), []byte(data), 0o600); err != nil {
			return "", err
		}
	}
	host, port, _ := net.SplitHostPort(d.gw.Addr().String())
	return fmt.Sprintf("host=%s port=%s user=alice dbname=defaultdb sslmode=verify-full sslrootcert=%s sslcert=%s sslkey=%s",
		host, port, filepath.Join(dir, "ca.pem"), filepath.Join(dir, "alice.crt"), filepath.Join(dir, "alice.key")), nil
}

// step prints one statement's outcome: ok, or the database's error; any
// other error ends the demo.
func (d *demo) step(what string, err error) error {
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &pe):
		fmt.Fprintf(d.out, "  %-62s -> ERROR %s: %s\n", what, pe.Code, pe.Message)
	case err != nil:
		return fmt.Errorf("%s: %w", what, err)
	default:
		fmt.Fprintf(d.out, "  %-62s -> ok\n", what)
	}
	return nil
}

// statements runs the demo's statements on c: simple and extended
// protocol, a prepared statement, an error, a cancelled query.
func (d *demo) statements(ctx context.Context, c *pgx.Conn) error {
	for _, q := range []string{
		"CREATE TABLE accounts (id INT PRIMARY KEY, owner TEXT, balance INT)",
		"INSERT INTO accounts VALUES (1, 'alice', 100), (2, 'bob', 50)",
		"UPDATE accounts SET balance = balance - 10 WHERE id = 1",
	} {
		_, err := c.Exec(ctx, q, pgx.QueryExecModeSimpleProtocol)
		if err := d.step(q, err); err != nil {
			return err
		}
	}
	var n int
	err := c.QueryRow(ctx, "SELECT count(*) FROM accounts WHERE balance > $1", 20).Scan(&n)
	if err := d.step(fmt.Sprintf("SELECT count(*) FROM accounts WHERE balance > $1  [20] = %d", n), err); err != nil {
		return err
	}
	if _, err := c.Prepare(ctx, "balance", "SELECT balance FROM accounts WHERE owner = $1"); err != nil {
		return fmt.Errorf("prepare: %w", err)
	}
	var bal int
	err = c.QueryRow(ctx, "balance", "alice").Scan(&bal)
	if err := d.step(fmt.Sprintf("EXECUTE balance('alice') = %d", bal), err); err != nil {
		return err
	}
	_, err = c.Exec(ctx, "SELECT * FROM no_such_table")
	if err := d.step("SELECT * FROM no_such_table", err); err != nil {
		return err
	}
	if err := d.step("SELECT pg_sleep(60)  [cancelled]", d.cancelledSleep(ctx, c)); err != nil {
		return err
	}
	var who string
	err = c.QueryRow(ctx, "SELECT current_user").Scan(&who)
	return d.step("SELECT current_user = "+who, err)
}

// cancelledSleep runs a long query and cancels it the way psql does: a
// plaintext CancelRequest on a new connection to the agent, which maps the
// key to the real backend. (pgx's own CancelRequest sends it inside TLS,
// which the agent's front door does not take yet.) It returns the query's
// error.
func (d *demo) cancelledSleep(ctx context.Context, c *pgx.Conn) error {
	qdone := make(chan error, 1)
	go func() {
		_, err := c.Exec(ctx, "SELECT pg_sleep(60)")
		qdone <- err
	}()
	for {
		select {
		case err := <-qdone:
			return err
		case <-time.After(200 * time.Millisecond):
			_ = sendCancel(ctx, d.gw.Addr().String(), c.PgConn().PID(), c.PgConn().SecretKey())
		}
	}
}

// lastSessionOf is the session id of user's latest session.started.
func (d *demo) lastSessionOf(ctx context.Context, user string) (string, error) {
	var id string
	err := d.env.Log.Audit.Read(ctx, eventlog.Query{}, func(r eventlog.Record) error {
		if r.Event.Type == schemas.TypeSessionStarted && r.Event.Actor == user {
			if s, err := schemas.DecodeAs[schemas.SessionStarted](r.Event); err == nil {
				id = s.SessionID
			}
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	if id == "" {
		return "", errors.New("no session.started event for " + user)
	}
	return id, nil
}

// sendCancel sends a legacy (protocol 3.0, plaintext) CancelRequest.
func sendCancel(ctx context.Context, addr string, pid uint32, key []byte) error {
	if len(key) != 4 {
		return fmt.Errorf("cancel key of %d bytes: want 4", len(key))
	}
	var dl net.Dialer
	conn, err := dl.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	msg := []byte{0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e, byte(pid >> 24), byte(pid >> 16), byte(pid >> 8), byte(pid), key[0], key[1], key[2], key[3]}
	if _, err := conn.Write(msg); err != nil {
		return err
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, _ = io.Copy(io.Discard, conn)
	return nil
}

// trail waits for the session's end and prints its audit trail (the
// renderer of tollctl audit search) with short session ids, which
// tollctl audit session takes.
func (d *demo) trail(ctx context.Context, sid string) error {
	var recs []eventlog.Record
	deadline := time.Now().Add(30 * time.Second)
	for {
		recs = recs[:0]
		ended := false
		err := d.env.Log.Audit.Read(ctx, eventlog.Query{}, func(r eventlog.Record) error {
			// The session's events and those of no session (logins,
			// certificates, checkpoints).
			switch desc := auditview.Describe(r.Event); desc.Session {
			case sid:
				recs = append(recs, r)
				ended = ended || r.Event.Type == schemas.TypeSessionEnded
			case "":
				recs = append(recs, r)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("read the audit stream: %w", err)
		}
		if ended {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("session %s did not end within 30s", sid)
		}
		time.Sleep(50 * time.Millisecond)
	}
	fmt.Fprintf(d.out, "\nAudit trail (stream %s):\n", eventlog.AuditStream)
	return auditview.RenderRecords(d.out, recs, auditview.RecordsOptions{ShortSessions: true})
}

// instructions prints the commands to try by hand.
func (d *demo) instructions(sid string) {
	home := filepath.Join(d.dir, "home")
	st, _ := d.env.Control.Cluster().Status(d.admin)
	fmt.Fprintf(d.out, `
Try it by hand (in another shell; alice's password is %s):

  export TOLLGATE_HOME=%s TOLLGATE_DATA_DIR=%s
  toll login --proxy=%s --user=alice --ca-pin=%s
  toll db ls
  toll db connect roach
  toll proxy db roach --port 26257     # then: pgbench / any client at host=127.0.0.1 port=26257 user=alice dbname=defaultdb
  tollctl status
  tollctl audit search --user alice --db roach
  tollctl audit session %s   # the short id of the trail above; the full id works too
  tollctl audit verify
  tollctl events tail --stream=audit
  open https://%s/web/   # the web console: log in as %s, password %s

(go run ./cmd/toll and go run ./cmd/tollctl work the same from the repository.)
`, demoPassword, home, d.env.Config.DataDir, d.env.ControlAddr, st.CAPin, sid[:min(len(sid), auditview.ShortSessionLen)],
		d.env.ControlAddr, demoAuditor, demoAuditorPassword)
}
