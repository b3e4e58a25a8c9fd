package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Superuser is the name of the bootstrap superuser initdb creates.
const Superuser = "postgres"

// Config says how to set up the server. The zero value is a plain server
// without TLS that trusts every local and loopback connection.
type Config struct {
	// CertFile and KeyFile are the server's TLS cert and key (PEM). When
	// set, ssl is on and the files are copied into the data dir.
	CertFile string
	KeyFile  string
	// CAFile holds the CAs client certs are verified against
	// (ssl_ca_file); needed for `cert` authentication.
	CAFile string
	// HBA replaces the pg_hba.conf rules that follow the always-present
	// `local all all trust` line (which Exec and CreateRole rely on).
	// Default with TLS: `hostssl all all 127.0.0.1/32 cert` and
	// `hostssl all all ::1/128 cert`; without TLS: `host … trust` for both.
	HBA []string
	// Settings are extra postgresql.conf parameters, e.g.
	// {"log_statement": "all"}; values are quoted for you.
	Settings map[string]string
	// ExtraConf is appended to postgresql.conf as is.
	ExtraConf string
	// StartTimeout bounds initdb plus startup; default 2 minutes.
	StartTimeout time.Duration
}

// Server is a running PostgreSQL server owned by this process.
type Server struct {
	binDir  string
	baseDir string
	dataDir string
	logPath string
	port    int
	cred    *syscall.Credential
	caFile  string // root.crt in the data dir, when Config.CAFile was set

	cmd    *exec.Cmd
	done   chan struct{}
	logF   *os.File
	once   sync.Once
	closed error
}

// StartServer runs initdb and postgres in a new temp dir and returns once
// the server accepts connections. Close stops it and removes the dir.
func StartServer(ctx context.Context, cfg Config) (*Server, error) {
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 2 * time.Minute
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
	defer cancel()

	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	// Not t.TempDir: its parents are 0700 root and the server user must
	// reach the dir. Short paths also keep the socket path within limits.
	base, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		return nil, fmt.Errorf("create temp dir: %w", err)
	}
	s := &Server{binDir: bin, baseDir: base, dataDir: filepath.Join(base, "data"),
		logPath: filepath.Join(base, "postgres.log"), cred: cred}
	if err := s.setup(ctx, cfg); err != nil {
		_ = os.RemoveAll(base)
		return nil, err
	}
	var lastErr error
	for range 5 {
		if lastErr = s.start(ctx); lastErr == nil {
			return s, nil
		}
		if !errors.Is(lastErr, errPortInUse) {
			break
		}
	}
	_ = os.RemoveAll(base)
	return nil, lastErr
}

func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
	}
	return nil, errors.New("running as root and neither a postgres nor a nobody user exists: create one (useradd -r postgres)")
}

func (s *Server) chown(path string) error {
	if s.cred == nil {
		return nil
	}
	return os.Chown(path, int(s.cred.Uid), int(s.cred.Gid))
}

func (s *Server) command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(s.binDir, name), args...)
	cmd.Dir = s.baseDir
	cmd.Env = []string{"LC_ALL=C", "LANG=C", "PATH=" + s.binDir + ":/usr/bin:/bin", "HOME=" + s.baseDir}
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: s.cred}
	return cmd
}

func (s *Server) setup(ctx context.Context, cfg Config) error {
	if err := s.chown(s.baseDir); err != nil {
		return fmt.Errorf("chown temp dir: %w", err)
	}
	out, err := s.command(ctx, "initdb", "-D", s.dataDir, "-U", Superuser, "-A", "trust",
		"-E", "UTF8", "--no-locale", "--no-sync").CombinedOutput()
	if err != nil {
		return fmt.Errorf("initdb: %w: %s", err, bytes.TrimSpace(out))
	}
	var conf strings.Builder
	conf.WriteString("\n# pgtest\nlisten_addresses = '127.0.0.1'\n")
	fmt.Fprintf(&conf, "unix_socket_directories = %s\n", quoteConf(s.baseDir))
	conf.WriteString("logging_collector = off\nlog_destination = 'stderr'\nfsync = off\n" +
		"synchronous_commit = off\nfull_page_writes = off\nshared_buffers = '32MB'\nmax_connections = 100\n")
	tls := cfg.CertFile != "" || cfg.KeyFile != ""
	if tls {
		if cfg.CertFile == "" || cfg.KeyFile == "" {
			return errors.New("TLS needs both CertFile and KeyFile")
		}
		files := [][3]string{{cfg.CertFile, "server.crt", "0644"}, {cfg.KeyFile, "server.key", "0600"}}
		if cfg.CAFile != "" {
			files = append(files, [3]string{cfg.CAFile, "root.crt", "0644"})
			s.caFile = "root.crt"
		}
		for _, f := range files {
			mode := os.FileMode(0o644)
			if f[2] == "0600" {
				mode = 0o600
			}
			if err := s.copyIn(f[0], f[1], mode); err != nil {
				return err
			}
		}
		conf.WriteString("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n")
		if cfg.CAFile != "" {
			conf.WriteString("ssl_ca_file = 'root.crt'\n")
		}
	}
	for _, k := range slices.Sorted(maps.Keys(cfg.Settings)) {
		fmt.Fprintf(&conf, "%s = %s\n", k, quoteConf(cfg.Settings[k]))
	}
	if cfg.ExtraConf != "" {
		conf.WriteString(cfg.ExtraConf + "\n")
	}
	if err := appendFile(filepath.Join(s.dataDir, "postgresql.conf"), conf.String()); err != nil {
		return err
	}
	hba := cfg.HBA
	if hba == nil {
		method := "host all all %s trust"
		if tls {
			method = "hostssl all all %s cert"
		}
		hba = []string{fmt.Sprintf(method, "127.0.0.1/32"), fmt.Sprintf(method, "::1/128")}
	}
	hbaText := "local all all trust\n" + strings.Join(hba, "\n") + "\n"
	if err := os.WriteFile(filepath.Join(s.dataDir, "pg_hba.conf"), []byte(hbaText), 0o600); err != nil {
		return fmt.Errorf("write pg_hba.conf: %w", err)
	}
	return nil
}

func (s *Server) copyIn(src, name string, mode os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return fmt.Errorf("read TLS file: %w", err)
	}
	dst := filepath.Join(s.dataDir, name)
	if err := os.WriteFile(dst, b, mode); err != nil {
		return fmt.Errorf("copy %s into data dir: %w", name, err)
	}
	if err := os.Chmod(dst, mode); err != nil {
		return err
	}
	if err := s.chown(dst); err != nil {
		return fmt.Errorf("chown %s: %w", name, err)
	}
	return nil
}

func appendFile(path, text string) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return fmt.Errorf("open %s: %w", filepath.Base(path), err)
	}
	if _, err := f.WriteString(text); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return f.Close()
}

var errPortInUse = errors.New("port in use")

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func (s *Server) start(ctx context.Context) error { return s.startOn(ctx, 0) }

// startOn starts postgres on port (a free one when 0, with a new log;
// else the log goes on) and waits until it accepts connections.
func (s *Server) startOn(ctx context.Context, port int) error {
	flags := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	if port == 0 {
		p, err := freePort()
		if err != nil {
			return err
		}
		port, flags = p, os.O_CREATE|os.O_WRONLY|os.O_TRUNC
	}
	logF, err := os.OpenFile(s.logPath, flags, 0o644)
	if err != nil {
		return fmt.Errorf("create log file: %w", err)
	}
	// Not bound to ctx: the server outlives StartServer.
	cmd := s.command(context.Background(), "postgres", "-D", s.dataDir, "-p", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = logF, logF
	// If this process dies, the postmaster does an immediate shutdown.
	cmd.SysProcAttr.Pdeathsig = syscall.SIGQUIT
	if err := cmd.Start(); err != nil {
		_ = logF.Close()
		return fmt.Errorf("start postgres: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	s.cmd, s.done, s.logF, s.port = cmd, done, logF, port

	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		c, err := s.Connect(pctx)
		cancel()
		if err == nil {
			_ = c.Close(context.Background())
			return nil
		}
		select {
		case <-done:
			_ = logF.Close()
			log := s.LogContents()
			if strings.Contains(log, "could not bind") || strings.Contains(log, "already in use") {
				return errPortInUse
			}
			return fmt.Errorf("postgres exited during startup: %s", lastLines(log, 20))
		case <-ctx.Done():
			_ = s.stopProcess()
			return fmt.Errorf("postgres did not accept connections in time (%w): %s", ctx.Err(), lastLines(s.LogContents(), 20))
		case <-tick.C:
		}
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Host is the loopback address the server listens on.
func (s *Server) Host() string { return "127.0.0.1" }

// Port is the TCP port (also the unix socket's number).
func (s *Server) Port() int { return s.port }

// Addr is Host:Port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host(), strconv.Itoa(s.port)) }

// SocketDir is the directory holding the unix socket.
func (s *Server) SocketDir() string { return s.baseDir }

// DataDir is the server's data directory.
func (s *Server) DataDir() string { return s.dataDir }

// LogFile is the path of the server's log (its stderr).
func (s *Server) LogFile() string { return s.logPath }

// LogContents returns the server log so far ("" if unreadable).
func (s *Server) LogContents() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

// SuperuserConnString is a keyword/value connection string for the
// superuser over the unix socket.
func (s *Server) SuperuserConnString() string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=postgres sslmode=disable", s.baseDir, s.port, Superuser)
}

// Connect opens a superuser connection over the unix socket.
func (s *Server) Connect(ctx context.Context) (*pgx.Conn, error) {
	return pgx.Connect(ctx, s.SuperuserConnString())
}

// ExecContext runs sql (one or more statements) as the superuser.
func (s *Server) ExecContext(ctx context.Context, sql string) error {
	c, err := s.Connect(ctx)
	if err != nil {
		return fmt.Errorf("connect as superuser: %w", err)
	}
	defer func() { _ = c.Close(context.Background()) }()
	if _, err := c.Exec(ctx, sql); err != nil {
		return fmt.Errorf("exec: %w", err)
	}
	return nil
}

// Reload makes the server re-read its config files (SIGHUP).
func (s *Server) Reload(ctx context.Context) error {
	return s.ExecContext(ctx, "SELECT pg_reload_conf()")
}

// Restart stops the server with a fast shutdown (every backend ends with
// FATAL 57P01, as in a real restart) and starts it again on the same port
// and data dir; the log goes on.
func (s *Server) Restart(ctx context.Context) error {
	if err := s.stopProcess(); err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	if err := s.startOn(ctx, s.port); err != nil {
		return fmt.Errorf("restart: %w", err)
	}
	return nil
}

// Close stops the server (fast shutdown) and removes its temp dir. It is
// safe to call more than once.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.closed = s.stopProcess()
		if err := os.RemoveAll(s.baseDir); err != nil && s.closed == nil {
			s.closed = fmt.Errorf("remove temp dir: %w", err)
		}
	})
	return s.closed
}

func (s *Server) stopProcess() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	defer func() {
		if s.logF != nil {
			_ = s.logF.Close()
		}
	}()
	select {
	case <-s.done:
		return nil
	default:
	}
	// SIGINT is PostgreSQL's fast shutdown (pg_ctl stop -m fast).
	_ = s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
		return nil
	case <-time.After(60 * time.Second):
	}
	_ = s.cmd.Process.Kill()
	<-s.done
	return errors.New("postgres ignored fast shutdown for 60s and was killed")
}
