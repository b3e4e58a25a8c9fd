package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/tollgate-db/tollgate/internal/pgtest"
)

// startPostgres runs PostgreSQL with TLS (the server certs `tollctl auth
// sign --format=cockroachdb` wrote to certs) and cert auth against the CA
// bundle clientCAs, with the bench role and pgbench's tables (scale 10).
func startPostgres(ctx context.Context, certs, clientCAs string) (*pgtest.Server, error) {
	pg, err := pgtest.StartServer(ctx, pgtest.Config{
		CertFile: filepath.Join(certs, "node.crt"), KeyFile: filepath.Join(certs, "node.key"), CAFile: clientCAs,
		Settings: map[string]string{"max_connections": "100", "shared_buffers": "64MB", "fsync": "off"},
	})
	if err != nil {
		return nil, fmt.Errorf("start PostgreSQL: %w", err)
	}
	if err := pg.ExecContext(ctx, "CREATE ROLE "+benchUser+" LOGIN"); err != nil {
		_ = pg.Close()
		return nil, err
	}
	if err := pgbenchInit(ctx, pg); err != nil {
		_ = pg.Close()
		return nil, err
	}
	return pg, nil
}

func pgbenchInit(ctx context.Context, pg *pgtest.Server) error {
	cmd := exec.CommandContext(ctx, "pgbench", "-i", "-s", "10", "-q", "-h", pg.SocketDir(), "-p", strconv.Itoa(pg.Port()),
		"-U", pgtest.Superuser, "postgres")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgbench -i: %w: %s", err, b)
	}
	return pg.ExecContext(ctx, "GRANT SELECT ON ALL TABLES IN SCHEMA public TO "+benchUser)
}

// postmasterPID is the PID in the data dir's postmaster.pid (its first
// line): the root of the processes counted as PostgreSQL.
func postmasterPID(pg *pgtest.Server) (int, error) {
	b, err := os.ReadFile(filepath.Join(pg.DataDir(), "postmaster.pid"))
	if err != nil {
		return 0, fmt.Errorf("postmaster PID: %w", err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		return 0, fmt.Errorf("postmaster PID: %q: %w", first, err)
	}
	return pid, nil
}

// appendFiles concatenates PEM bundles into path.
func appendFiles(path string, pems ...string) error {
	var b strings.Builder
	for _, p := range pems {
		b.WriteString(strings.TrimRight(p, "\n") + "\n")
	}
	return writeFile(path, b.String())
}
