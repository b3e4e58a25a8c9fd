package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// pgbouncer is the peer row of DESIGN §9: pgbouncer with TLS on both
// sides (clients verify it; it verifies PostgreSQL and presents the bench
// role's client cert from the local CA), session pooling, no audit.
type pgbouncer struct {
	cmd  *exec.Cmd
	port int
}

func (p *pgbouncer) pid() int { return p.cmd.Process.Pid }

// errNoPgbouncer is returned when pgbouncer is not installed: its row is
// the peer every run is compared with, so it is not optional.
var errNoPgbouncer = errors.New("pgbouncer not found: apt-get install -y pgbouncer")

// startPgbouncer runs pgbouncer in front of the database at pgPort
// (verified with dbCA), serving srv and presenting client (the bench
// role's cert) to the database. As root it runs as the postgres (or
// nobody) user, like the database.
func startPgbouncer(ctx context.Context, pgPort int, dbCA string, srv, client pemPair) (*pgbouncer, error) {
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		return nil, errNoPgbouncer
	}
	dir, err := os.MkdirTemp("", "tollbench-pgbouncer-")
	if err != nil {
		return nil, err
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		for _, name := range []string{"postgres", "nobody"} {
			if u, err := user.Lookup(name); err == nil {
				uid, _ := strconv.Atoi(u.Uid)
				gid, _ := strconv.Atoi(u.Gid)
				cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}
				break
			}
		}
	}
	ca, err := os.ReadFile(dbCA)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		"server.crt": srv.certPEM, "server.key": srv.keyPEM, "client.crt": client.certPEM, "client.key": client.keyPEM,
		"db-ca.crt": ca, "users.txt": []byte(`"` + benchUser + `" ""` + "\n"),
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	files["pgbouncer.ini"] = []byte(fmt.Sprintf(`[databases]
postgres = host=127.0.0.1 port=%d dbname=postgres user=%s
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %[4]s/users.txt
pool_mode = session
max_client_conn = 100
default_pool_size = 20
logfile = %[4]s/pgbouncer.log
pidfile = %[4]s/pgbouncer.pid
client_tls_sslmode = require
client_tls_cert_file = %[4]s/server.crt
client_tls_key_file = %[4]s/server.key
server_tls_sslmode = verify-full
server_tls_ca_file = %[4]s/db-ca.crt
server_tls_cert_file = %[4]s/client.crt
server_tls_key_file = %[4]s/client.key
`, pgPort, benchUser, port, dir))
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			return nil, err
		}
		if cred != nil {
			if err := os.Chown(p, int(cred.Uid), int(cred.Gid)); err != nil {
				return nil, err
			}
		}
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, err
		}
	}
	cmd := exec.CommandContext(ctx, bin, filepath.Join(dir, "pgbouncer.ini"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start pgbouncer: %w", err)
	}
	pb := &pgbouncer{cmd: cmd, port: port}
	deadline := time.Now().Add(10 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), time.Second)
		if err == nil {
			conn.Close()
			return pb, nil
		}
		if time.Now().After(deadline) {
			pb.stop()
			log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
			return nil, fmt.Errorf("pgbouncer did not listen within 10s: %s", log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (p *pgbouncer) stop() {
	if p == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
	_ = os.RemoveAll(filepath.Dir(p.cmd.Args[1]))
}
